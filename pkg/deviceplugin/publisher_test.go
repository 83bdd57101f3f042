package deviceplugin

import (
	"encoding/json"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// asStored is the status as the API server gives it back: through JSON,
// which keeps times to the second.
func asStored(t *testing.T, st gantryv1alpha1.NodeGPUStatus) gantryv1alpha1.NodeGPUStatus {
	t.Helper()
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out gantryv1alpha1.NodeGPUStatus
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUnchangedStatusComparesEqualToTheStoredOne: the publisher skips the
// write when the status it builds equals the stored one, so a status built
// again from the same GPUs must compare equal to what was stored, however
// fine the clocks behind its times are.
func TestUnchangedStatusComparesEqualToTheStoredOne(t *testing.T) {
	topo := twoIslandBox(t)
	clk := &fakeClock{now: time.Date(2026, 12, 3, 11, 0, 0, 123456789, time.UTC)}
	health := NewHealthTracker(clk, time.Minute, topo.UUIDs(topo.All()))
	health.Fault("GPU-3", "XID79", "fell off the bus")
	p := &Publisher{Topology: topo, Health: health}
	allocs := []Allocation{{UUID: "GPU-1", PodNamespace: "ml", PodName: "train-0", Container: "main"}}

	first := p.status(allocs)
	meta.SetStatusCondition(&first.Conditions, allocationsCondition(nil, metav1.NewTime(clk.Now()).Rfc3339Copy()))
	stored := asStored(t, first)

	clk.Step(30*time.Second + time.Millisecond)
	again := p.status(allocs)
	again.Conditions = stored.Conditions
	meta.SetStatusCondition(&again.Conditions, allocationsCondition(nil, metav1.NewTime(clk.Now()).Rfc3339Copy()))
	if !apiequality.Semantic.DeepEqual(stored, again) {
		t.Errorf("nothing changed, yet the status differs from the stored one:\nstored %+v\nagain  %+v", stored, again)
	}

	health.CheckPassed("GPU-3") // not recovered yet: the quiet period has not passed
	clk.Step(2 * time.Minute)
	health.CheckPassed("GPU-3")
	recovered := p.status(allocs)
	recovered.Conditions = stored.Conditions
	if apiequality.Semantic.DeepEqual(stored, recovered) {
		t.Error("GPU-3 recovered, yet the status equals the stored one")
	}
}
