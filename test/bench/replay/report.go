package replay

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Report is a comparison of schedulers on one workload.
type Report struct {
	Title string `json:"title"`
	// Command reproduces the run.
	Command string `json:"command"`
	// Machine describes where it ran.
	Machine string `json:"machine"`
	// Setup describes the cluster, workload and time compression.
	Setup        []string          `json:"setup"`
	Descriptions map[string]string `json:"descriptions"`
	Figures      []Figures         `json:"figures"`
}

type row struct {
	name string
	val  func(f Figures) float64
	prec int
}

func rows() []row {
	r := []row{
		{"GPU allocation under saturation (%)", func(f Figures) float64 { return f.AllocSaturated }, 1},
		{"time saturated (simulated h)", func(f Figures) float64 { return f.SaturatedHours }, 2},
		{"GPU allocation, second half of the replay (%)", func(f Figures) float64 { return f.AllocLastHalf }, 1},
		{"GPU allocation, whole replay (%)", func(f Figures) float64 { return f.AllocMean }, 1},
		{"multi-GPU pods on NVLink-optimal sets (%)", func(f Figures) float64 { return f.Optimal }, 1},
		{"GPU-hours held by partial gangs", func(f Figures) float64 { return f.PartialGangGPUHours }, 1},
	}
	for _, c := range SizeClasses {
		name := c + "-GPU"
		if c == "gang" {
			name = "multi-node gang"
		}
		r = append(r,
			row{"wait, " + name + " jobs: mean (min)", func(f Figures) float64 { return f.WaitMean[c] }, 1},
			row{"wait, " + name + " jobs: p95 (min)", func(f Figures) float64 { return f.WaitP95[c] }, 1},
			row{name + " jobs not started by the end", func(f Figures) float64 { return float64(f.NotStarted[c]) }, 0},
		)
	}
	return append(r,
		row{"8-GPU jobs starved (not started within 1 h, %)", func(f Figures) float64 { return f.Starved8 }, 1},
		row{"queue share error, max over queues (%)", func(f Figures) float64 { return f.QueueShareError }, 1},
		row{"Jain's fairness index (allocated / fair share)", func(f Figures) float64 { return f.Jain }, 3},
		row{"cron inference start delay: mean (simulated s)", func(f Figures) float64 { return f.CronDelayMean }, 0},
		row{"cron inference start delay: p95 (simulated s)", func(f Figures) float64 { return f.CronDelayP95 }, 0},
		row{"scheduling throughput, peak 10 s (pods/s)", func(f Figures) float64 { return f.PeakPodsPerSecond }, 1},
		row{"bindings per wall second, whole replay", func(f Figures) float64 { return f.MeanPodsPerSecond }, 1},
		row{"machine load average during the replay (CPUs busy)", func(f Figures) float64 { return f.LoadAvg }, 1},
		row{"pods preempted", func(f Figures) float64 { return float64(f.Preemptions) }, 0},
		row{"pods bound / created", func(f Figures) float64 { return float64(f.PodsBound) }, 0},
		row{"GPU-set mismatches (should be 0)", func(f Figures) float64 { return float64(f.Mismatches) }, 0},
	)
}

func format(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func ratio(v, base float64) string {
	if base == 0 {
		if v == 0 {
			return "="
		}
		return "∞"
	}
	return fmt.Sprintf("%.2f×", v/base)
}

// Table is the Markdown table: one column per scheduler, each figure with
// its ratio to Gantry's (scheduler ÷ Gantry) in parentheses.
func (r *Report) Table() string {
	var b strings.Builder
	b.WriteString("| figure |")
	for _, f := range r.Figures {
		fmt.Fprintf(&b, " %s |", f.Scheduler)
	}
	b.WriteString("\n|---|")
	for range r.Figures {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	base := r.baseline()
	for _, rw := range rows() {
		fmt.Fprintf(&b, "| %s |", rw.name)
		for _, f := range r.Figures {
			v := rw.val(f)
			cell := format(v, rw.prec)
			if rw.name == "pods bound / created" {
				cell = fmt.Sprintf("%d / %d", f.PodsBound, f.Pods)
			} else if base != nil && f.Scheduler != base.Scheduler {
				cell += " (" + ratio(v, rw.val(*base)) + ")"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (r *Report) baseline() *Figures {
	for i := range r.Figures {
		if r.Figures[i].Scheduler == "gantry" {
			return &r.Figures[i]
		}
	}
	return nil
}

// Targets checks issue #8's targets for Gantry.
func (r *Report) Targets() []string {
	g := r.baseline()
	if g == nil {
		return nil
	}
	check := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	out := []string{
		fmt.Sprintf("allocation under saturation ≥ 97%%: %.1f%% — %s", g.AllocSaturated, check(g.AllocSaturated >= 97)),
	}
	for _, f := range r.Figures {
		if f.Scheduler == "default" {
			d := g.AllocSaturated - f.AllocSaturated
			out = append(out, fmt.Sprintf("≥ 5 points above the LeastAllocated default: %+.1f points — %s", d, check(d >= 5)))
		}
	}
	return append(out,
		fmt.Sprintf("≥ 99%% of multi-GPU pods on optimal sets: %.1f%% — %s", g.Optimal, check(g.Optimal >= 99)),
		fmt.Sprintf("zero GPU-seconds held by partial gangs: %.2f GPU-h — %s", g.PartialGangGPUHours, check(g.PartialGangGPUHours == 0)),
		fmt.Sprintf("queue share within 5%% of weights: %.1f%% — %s", g.QueueShareError, check(g.QueueShareError <= 5)),
	)
}

// Markdown is the whole report as Markdown.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	if r.Command != "" {
		fmt.Fprintf(&b, "Command:\n\n```\n%s\n```\n\n", r.Command)
	}
	if r.Machine != "" {
		fmt.Fprintf(&b, "Machine: %s\n\n", r.Machine)
	}
	for _, s := range r.Setup {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\nSchedulers:\n\n")
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "- `%s`: %s\n", f.Scheduler, r.Descriptions[f.Scheduler])
	}
	b.WriteString("\nIn parentheses: the figure divided by Gantry's.\n\n")
	b.WriteString(r.Table())
	if t := r.Targets(); len(t) > 0 {
		b.WriteString("\nIssue #8's targets for Gantry:\n\n")
		for _, s := range t {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	b.WriteString("\nQueue shares over the saturated time (allocated GPU-time % / weighted fair share %):\n\n")
	for _, f := range r.Figures {
		var qs []string
		for q := range f.QueueShare {
			qs = append(qs, q)
		}
		sort.Strings(qs)
		var parts []string
		for _, q := range qs {
			parts = append(parts, fmt.Sprintf("%s %.1f/%.1f", q, f.QueueShare[q], f.QueueTarget[q]))
		}
		fmt.Fprintf(&b, "- %s: %s\n", f.Scheduler, strings.Join(parts, ", "))
	}
	return b.String()
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// HTML is a self-contained page: the table, the allocation over time and
// the distribution of job waits, as inline SVG.
func (r *Report) HTML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title>", html.EscapeString(r.Title))
	b.WriteString(`<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}</style></head><body>`)
	fmt.Fprintf(&b, "<h1>%s</h1>", html.EscapeString(r.Title))
	if r.Command != "" {
		fmt.Fprintf(&b, "<pre>%s</pre>", html.EscapeString(r.Command))
	}
	if r.Machine != "" {
		fmt.Fprintf(&b, "<p>Machine: %s</p>", html.EscapeString(r.Machine))
	}
	b.WriteString("<ul>")
	for _, s := range r.Setup {
		fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(s))
	}
	b.WriteString("</ul><table><tr><th>figure</th>")
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(f.Scheduler))
	}
	b.WriteString("</tr>")
	for _, line := range strings.Split(strings.TrimSpace(r.Table()), "\n")[2:] {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		b.WriteString("<tr>")
		for _, c := range cells {
			fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")

	// Allocation over time.
	var series [][]float64
	for _, f := range r.Figures {
		series = append(series, f.AllocSeries)
	}
	b.WriteString("<h2>GPU allocation over simulated time</h2>")
	b.WriteString(r.chart(series, "simulated minutes", "% of GPUs allocated", 100, func(i int) float64 { return float64(i) }))
	// Wait CDF.
	b.WriteString("<h2>Distribution of job waits</h2>")
	var cdfs [][]float64
	maxWait := 1.0
	for _, f := range r.Figures {
		for _, w := range f.Waits {
			maxWait = math.Max(maxWait, w)
		}
	}
	const points = 200
	for _, f := range r.Figures {
		s := append([]float64(nil), f.Waits...)
		sort.Float64s(s)
		cdf := make([]float64, points+1)
		for i := range cdf {
			x := math.Expm1(float64(i) / points * math.Log1p(maxWait))
			cdf[i] = 100 * float64(sort.SearchFloat64s(s, x+1e-9)) / math.Max(1, float64(len(s)))
		}
		cdfs = append(cdfs, cdf)
	}
	b.WriteString(r.chart(cdfs, "wait (minutes, log scale)", "% of jobs started within", 100, func(i int) float64 {
		return math.Expm1(float64(i) / points * math.Log1p(maxWait))
	}))
	b.WriteString("</body></html>\n")
	return b.String()
}

// chart draws series as lines in an SVG, x by index (labelled by xOf).
func (r *Report) chart(series [][]float64, xLabel, yLabel string, yMax float64, xOf func(int) float64) string {
	const w, h, left, bottom, top, right = 900.0, 360.0, 60.0, 40.0, 10.0, 150.0
	n := 1
	for _, s := range series {
		n = max(n, len(s))
	}
	px := func(i int) float64 { return left + float64(i)/float64(max(n-1, 1))*(w-left-right) }
	py := func(v float64) float64 { return top + (1-v/yMax)*(h-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-size="12">`, w, h)
	for _, v := range []float64{0, 25, 50, 75, 100} {
		y := py(v * yMax / 100)
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%.0f</text>`, left, w-right, y, y, left-5, y+4, v*yMax/100)
	}
	for k := 0; k <= 4; k++ {
		i := k * (n - 1) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%.0f</text>`, px(i), h-bottom+15, xOf(i))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, (w-right+left)/2, h-5, html.EscapeString(xLabel))
	fmt.Fprintf(&b, `<text x="12" y="%.0f" transform="rotate(-90 12 %.0f)" text-anchor="middle">%s</text>`, h/2, h/2, html.EscapeString(yLabel))
	for si, s := range series {
		color := palette[si%len(palette)]
		var pts []string
		for i, v := range s {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(i), py(v)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s">%s</text>`, w-right+10, top+15+float64(si)*16, color, html.EscapeString(r.Figures[si].Scheduler))
	}
	b.WriteString("</svg>")
	return b.String()
}

// Write writes report.md, report.html and results.json into dir.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	for name, body := range map[string][]byte{
		"report.md": []byte(r.Markdown()), "report.html": []byte(r.HTML()), "results.json": js,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes v, indented, to path.
func writeJSON(path string, v any) error {
	js, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, js, 0o644)
}
