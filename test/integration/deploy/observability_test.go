package deploy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gantry-gpu/gantry/test/framework"
)

// TestChartShipsObservability renders the chart with grafanaDashboard and
// prometheusRule on: the dashboard ConfigMap carries the label Grafana's
// sidecar looks for and exactly deploy/observability/grafana-dashboard.json,
// and is accepted by the API server (server-side apply, strict); the
// PrometheusRule's spec is exactly deploy/observability/alerts.yaml's (its
// CRD is the Prometheus Operator's, not installed here: it is checked as
// rendered, as the ServiceMonitors are). With default values neither is
// rendered, so deploy/manifests needs no Prometheus Operator.
func TestChartShipsObservability(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for _, u := range readObjects(t, "gantry.yaml") {
		if u.GetKind() == "PrometheusRule" || (u.GetKind() == "ConfigMap" && u.GetName() == "gantry-grafana-dashboard") {
			t.Errorf("gantry.yaml holds %s %s; the observability objects must be off by default", u.GetKind(), key(u))
		}
	}

	out, err := helm(t, "template", "gantry", chartDir, "--namespace", "gantry-system",
		"--set", "grafanaDashboard.enabled=true", "--set", "prometheusRule.enabled=true",
		"--set", "prometheusRule.labels.release=prometheus", "--set", "grafanaDashboard.annotations.grafana_folder=GPUs")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := framework.DecodeObjects(out)
	if err != nil {
		t.Fatal(err)
	}
	var dashboard *corev1.ConfigMap
	var rule *unstructured.Unstructured
	for _, u := range objs {
		switch {
		case u.GetKind() == "ConfigMap" && u.GetName() == "gantry-grafana-dashboard":
			dashboard = &corev1.ConfigMap{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, dashboard, true); err != nil {
				t.Fatal(err)
			}
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gantry-system"}}
			if err := controlPlane.Client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
				t.Fatal(err)
			}
			if err := apply(ctx, u); err != nil {
				t.Errorf("the dashboard ConfigMap: %v", err)
			}
		case u.GetKind() == "PrometheusRule":
			rule = u
		}
	}

	if dashboard == nil {
		t.Fatal("grafanaDashboard.enabled=true rendered no ConfigMap gantry-grafana-dashboard")
	}
	if dashboard.Labels["grafana_dashboard"] != "1" || dashboard.Annotations["grafana_folder"] != "GPUs" {
		t.Errorf("dashboard ConfigMap labels %v annotations %v; want grafana_dashboard: \"1\" and the folder annotation", dashboard.Labels, dashboard.Annotations)
	}
	source, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "deploy", "observability", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal(source, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(dashboard.Data["gantry.json"]), &got); err != nil {
		t.Fatalf("the ConfigMap's gantry.json is not JSON: %v", err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Error("the ConfigMap's gantry.json differs from deploy/observability/grafana-dashboard.json (run `make generate`)")
	}

	if rule == nil {
		t.Fatal("prometheusRule.enabled=true rendered no PrometheusRule")
	}
	if rule.GetAPIVersion() != "monitoring.coreos.com/v1" || rule.GetNamespace() != "gantry-system" || rule.GetLabels()["release"] != "prometheus" {
		t.Errorf("PrometheusRule %s %s labels %v; want monitoring.coreos.com/v1 in gantry-system with release: prometheus", rule.GetAPIVersion(), key(rule), rule.GetLabels())
	}
	alerts, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "deploy", "observability", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var src map[string]any
	if err := yaml.Unmarshal(alerts, &src); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(src["spec"], rule.Object["spec"]) {
		t.Error("the PrometheusRule's spec differs from deploy/observability/alerts.yaml's (run `make generate`)")
	}
}
