package observability

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// dashboard is the part of Grafana's dashboard JSON the checks read.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Options struct {
		Content string `json:"content"`
	} `json:"options"`
	// Panels of a collapsed row.
	Panels []panel `json:"panels"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "observability", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	return d
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// TestDashboard: the dashboard imports into a current Grafana with any
// Prometheus data source (a datasource variable, no fixed UID), every query
// uses documented metrics, and it covers the device plugin, the
// controller and the scheduler, with the queue row saying why it is empty.
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	docs := documented(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want at least 36", d.SchemaVersion)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard needs a uid and a title")
	}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = v.Name
		}
	}
	if dsVar == "" {
		t.Fatal("no templating variable of type datasource with query prometheus")
	}
	usesDS := func(ds *datasource) bool {
		return ds != nil && ds.Type == "prometheus" && (ds.UID == "${"+dsVar+"}" || ds.UID == "$"+dsVar)
	}

	ids := map[int]bool{}
	families := map[string]int{}
	queueNote := false
	exprs := 0
	for _, p := range allPanels(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "text" && strings.Contains(strings.ToLower(p.Options.Content), "queue") {
			queueNote = true
		}
		if len(p.Targets) > 0 && !usesDS(p.Datasource) {
			t.Errorf("panel %q: datasource %+v, want the $%s variable", p.Title, p.Datasource, dsVar)
		}
		for _, tg := range p.Targets {
			exprs++
			if tg.Datasource != nil && !usesDS(tg.Datasource) {
				t.Errorf("panel %q query %s: datasource %+v, want the $%s variable", p.Title, tg.RefID, tg.Datasource, dsVar)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q query %s has no expression", p.Title, tg.RefID)
			}
			if bad := undocumented(tg.Expr, docs); len(bad) > 0 {
				t.Errorf("panel %q query %s uses %v, not in docs/metrics.md: %s", p.Title, tg.RefID, bad, tg.Expr)
			}
			for _, name := range metricNames(tg.Expr) {
				for _, prefix := range []string{"gantry_device_plugin_", "gantry_controller_", "scheduler_"} {
					if strings.HasPrefix(name, prefix) {
						families[prefix]++
					}
				}
			}
		}
	}
	if exprs == 0 {
		t.Fatal("no queries in the dashboard")
	}
	for _, prefix := range []string{"gantry_device_plugin_", "gantry_controller_", "scheduler_"} {
		if families[prefix] == 0 {
			t.Errorf("no panel queries a %s* metric", prefix)
		}
	}
	if !queueNote {
		t.Error("no text panel about queues: until the queue controller exports metrics, the queue row must say so")
	}
	t.Logf("%d queries checked", exprs)
}

// prometheusRule is the part of a PrometheusRule the checks read.
type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Record      string            `json:"record"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// TestAlerts: the rules file is a PrometheusRule whose alerts each have an
// expression over documented metrics, a severity and a summary and
// description; and the alerts the issue asks for are there.
func TestAlerts(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "observability", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pr prometheusRule
	if err := yaml.UnmarshalStrict(raw, &pr); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || pr.Metadata.Name == "" {
		t.Fatalf("alerts.yaml is %s %s %q, want a named monitoring.coreos.com/v1 PrometheusRule", pr.APIVersion, pr.Kind, pr.Metadata.Name)
	}
	docs := documented(t)
	var alerts []string
	used := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("rule group %q is unnamed or empty", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a rule without alert (recording rules are not expected here): %s", g.Name, r.Expr)
				continue
			}
			if slices.Contains(alerts, r.Alert) {
				t.Errorf("alert %s is defined twice", r.Alert)
			}
			alerts = append(alerts, r.Alert)
			if strings.TrimSpace(r.Expr) == "" {
				t.Errorf("alert %s has no expr", r.Alert)
			}
			if bad := undocumented(r.Expr, docs); len(bad) > 0 {
				t.Errorf("alert %s uses %v, not in docs/metrics.md: %s", r.Alert, bad, r.Expr)
			}
			for _, name := range metricNames(r.Expr) {
				used[name] = true
			}
			if s := r.Labels["severity"]; !slices.Contains([]string{"critical", "warning", "info"}, s) {
				t.Errorf("alert %s: severity %q, want critical, warning or info", r.Alert, s)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s has no %s annotation", r.Alert, a)
				}
			}
		}
	}
	// What the alerts must watch: unhealthy GPUs, XIDs, registration with
	// the kubelet, allocation mismatches, stuck gangs, scheduler down, and
	// a leader for the controller.
	for _, m := range []string{
		"gantry_device_plugin_devices", "gantry_device_plugin_xid_events_total", "gantry_device_plugin_registered",
		"gantry_device_plugin_allocation_mismatches_total", "gantry_controller_podgroups", "up",
		"scheduler_schedule_attempts_total", "leader_election_master_status",
	} {
		if !used[m] {
			t.Errorf("no alert uses %s", m)
		}
	}
	t.Logf("%d alerts checked", len(alerts))
}
