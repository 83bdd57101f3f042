// Package observability keeps docs/metrics.md, the Grafana dashboard and
// the alerting rules (deploy/observability) in step with the code: every
// metric Gantry registers must be documented, every documented metric must
// be defined by code the binaries link, and every metric a dashboard query
// or an alert uses must be documented. A renamed metric, a new one nobody
// documented, or a typo in a query then fails here instead of leaving an
// empty panel or an alert that never fires.
//
// It reads files only: no control plane, no network.
package observability

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the root of the source tree.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test's source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// gantryCode are the trees whose metrics Gantry defines; a metric
// registered anywhere under them must be documented.
var gantryCode = []string{"pkg", "cmd"}

// linkedCode are upstream packages the binaries link whose metrics the
// docs may list (kube-scheduler's, client-go's work queue, REST client and
// leader election): a documented metric must be defined here or in
// gantryCode.
var linkedCode = []string{
	"vendor/k8s.io/kubernetes/pkg/scheduler/metrics",
	"vendor/k8s.io/component-base/metrics/prometheus/workqueue",
	"vendor/k8s.io/component-base/metrics/prometheus/restclient",
	"vendor/k8s.io/component-base/metrics/prometheus/clientgo/leaderelection",
}

// prometheusSeries are series Prometheus writes itself, not a binary.
var prometheusSeries = map[string]bool{"up": true}

// documented reads the metric table of docs/metrics.md: name to type.
func documented(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \\| (counter|gauge|histogram|summary) \\|")
	out := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			if _, dup := out[m[1]]; dup {
				t.Errorf("docs/metrics.md lists %s twice", m[1])
			}
			out[m[1]] = m[2]
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/metrics.md: no metric rows found (| `name` | type | ...)")
	}
	return out
}

// metricOpts are the option structs of k8s.io/component-base/metrics and
// client_golang that name a metric.
var metricOpts = map[string]bool{
	"CounterOpts": true, "GaugeOpts": true, "HistogramOpts": true, "SummaryOpts": true,
	"TimingHistogramOpts": true, "NativeHistogramOpts": true,
}

// definedMetrics parses the Go files (tests excluded) under dirs and returns
// the full name (namespace_subsystem_name) of every metric whose options
// struct it finds, with where it is defined. String constants of the same
// package resolve; any other expression is an error rather than a metric
// silently skipped.
func definedMetrics(t *testing.T, root string, dirs ...string) map[string]string {
	t.Helper()
	byDir := map[string][]string{}
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(path string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if path != filepath.Join(root, d) && (e.Name() == "vendor" || e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, paths := range byDir {
		files := make([]*ast.File, 0, len(paths))
		for _, p := range paths {
			f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		consts := stringConsts(files)
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok || !isMetricOpts(lit.Type) {
					return true
				}
				parts := map[string]string{}
				for _, el := range lit.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, ok := kv.Key.(*ast.Ident)
					if !ok || (key.Name != "Namespace" && key.Name != "Subsystem" && key.Name != "Name") {
						continue
					}
					v, err := stringValue(kv.Value, consts)
					if err != nil {
						t.Fatalf("%s: %s: %v", fset.Position(kv.Pos()), key.Name, err)
					}
					parts[key.Name] = v
				}
				if parts["Name"] == "" {
					t.Fatalf("%s: metric options without a Name", fset.Position(lit.Pos()))
				}
				var name []string
				for _, k := range []string{"Namespace", "Subsystem", "Name"} {
					if parts[k] != "" {
						name = append(name, parts[k])
					}
				}
				rel, _ := filepath.Rel(root, fset.Position(lit.Pos()).Filename)
				out[strings.Join(name, "_")] = fmt.Sprintf("%s:%d", rel, fset.Position(lit.Pos()).Line)
				return true
			})
		}
	}
	return out
}

func isMetricOpts(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		return metricOpts[x.Sel.Name]
	case *ast.Ident:
		return metricOpts[x.Name]
	}
	return false
}

// stringConsts collects the package's string constants.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if v, err := strconv.Unquote(lit.Value); err == nil {
								out[n.Name] = v
							}
						}
					}
				}
			}
		}
	}
	return out
}

func stringValue(e ast.Expr, consts map[string]string) (string, error) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			return strconv.Unquote(x.Value)
		}
	case *ast.Ident:
		if v, ok := consts[x.Name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("%s is not a string constant of the package", x.Name)
	case *ast.BinaryExpr:
		if x.Op == token.ADD {
			l, err := stringValue(x.X, consts)
			if err != nil {
				return "", err
			}
			r, err := stringValue(x.Y, consts)
			return l + r, err
		}
	}
	return "", fmt.Errorf("cannot resolve %T to a string: extend the test or use a constant", e)
}

// TestCodeMetricsDocumented: every metric registered in Gantry's code has a
// row in docs/metrics.md.
func TestCodeMetricsDocumented(t *testing.T) {
	docs := documented(t)
	code := definedMetrics(t, repoRoot(t), gantryCode...)
	// The parser must find the metrics we know of; if it finds none it is
	// broken, not the docs complete.
	for _, known := range []string{"gantry_device_plugin_devices", "gantry_controller_podgroups"} {
		if _, ok := code[known]; !ok {
			t.Fatalf("the code scan did not find %s (found %v): the scan is broken", known, slices.Sorted(mapKeys(code)))
		}
	}
	for _, name := range slices.Sorted(mapKeys(code)) {
		if _, ok := docs[name]; !ok {
			t.Errorf("%s (defined at %s) is not documented in docs/metrics.md", name, code[name])
		}
	}
}

// TestDocumentedMetricsExist: every metric in docs/metrics.md is defined by
// Gantry's code or by upstream code the binaries link, so the docs do not
// promise what no endpoint serves.
func TestDocumentedMetricsExist(t *testing.T) {
	root := repoRoot(t)
	defined := definedMetrics(t, root, gantryCode...)
	for name, where := range definedMetrics(t, root, linkedCode...) {
		defined[name] = where
	}
	for _, name := range slices.Sorted(mapKeys(documented(t))) {
		if _, ok := defined[name]; !ok && !prometheusSeries[name] {
			t.Errorf("docs/metrics.md lists %s, which no scanned code defines (%v)", name, append(append([]string{}, gantryCode...), linkedCode...))
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
