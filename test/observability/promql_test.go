package observability

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// PromQL is not parsed here (the Prometheus parser is not a dependency);
// metric names are found by removing what cannot be one and keeping the
// identifiers left that are not functions, aggregations or keywords.
var (
	// Quoted strings: label values and regexes.
	promString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'` + "|`[^`]*`")
	// Grafana variables: $name, ${name}, ${name:format}, [[name]].
	grafanaVar = regexp.MustCompile(`\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*|\[\[[^\]]*\]\]`)
	// Label matchers, ranges and subqueries.
	promBraces   = regexp.MustCompile(`\{[^}]*\}`)
	promBrackets = regexp.MustCompile(`\[[^\]]*\]`)
	// Label lists of grouping and vector matching.
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true, "Inf": true, "NaN": true,
	}
)

// metricNames returns the metric names a PromQL expression selects.
func metricNames(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = grafanaVar.ReplaceAllString(s, "")
	s = promBraces.ReplaceAllString(s, " ")
	s = promBrackets.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		// Part of a number or duration (1e3, 5m) or a field (a.b).
		if loc[0] > 0 && strings.ContainsAny(s[loc[0]-1:loc[0]], "0123456789.") {
			continue
		}
		name := s[loc[0]:loc[1]]
		if promKeywords[name] {
			continue
		}
		// A function or aggregation: the next non-space character is "(".
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// undocumented returns the names expr uses that docs/metrics.md does not
// list; a histogram's or summary's _bucket, _sum and _count series count as
// the metric itself.
func undocumented(expr string, docs map[string]string) []string {
	var out []string
	for _, name := range metricNames(expr) {
		if _, ok := docs[name]; ok {
			continue
		}
		found := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				typ := docs[base]
				found = found || typ == "histogram" || (typ == "summary" && suffix != "_bucket")
			}
		}
		if !found {
			out = append(out, name)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="gantry-scheduler-metrics"} == 0`, []string{"up"}},
		{`max by (namespace, pod) (gantry_device_plugin_devices{health="Unhealthy"}) > 0`, []string{"gantry_device_plugin_devices"}},
		{`histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket{job=~"$job"}[$__rate_interval])))`, []string{"x_seconds_bucket"}},
		{`a offset 5m / on(pod) group_left(node) b{l="by (x)"} unless absent(c) and 1e3 > bool 2`, []string{"a", "b", "c"}},
		{`sum(rate(a_total[5m:1m])) + count_over_time(b[1h])`, []string{"a_total", "b"}},
		{"label_replace(m, \"dst\", \"$1\", \"src\", `(.*)`)", []string{"m"}},
		{`max(made_up_metric_total{${filter}})`, []string{"made_up_metric_total"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tc.expr, got, tc.want)
		}
	}
	docs := map[string]string{"h_seconds": "histogram", "c_total": "counter"}
	if got := undocumented(`rate(h_seconds_bucket[5m]) + rate(c_total[5m]) + rate(c_total_count[5m]) + made_up`, docs); !slices.Equal(got, []string{"c_total_count", "made_up"}) {
		t.Errorf("undocumented = %v, want [c_total_count made_up]", got)
	}
}
