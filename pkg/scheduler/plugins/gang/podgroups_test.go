package gang

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

func TestPodGroupsKeepTheNewestCopy(t *testing.T) {
	c := NewPodGroups(klog.Background())
	v := func(rv string, minMember int32) {
		pg := podGroup("g", minMember, t0)
		pg.ResourceVersion = rv
		c.Set(pg)
	}
	minMember := func() int32 {
		pg, ok := c.Get("ns", "g")
		if !ok {
			return -1
		}
		return pg.Spec.MinMember
	}
	steps := []struct {
		name string
		do   func()
		want int32 // -1: absent
	}{
		{"added", func() { v("10", 3) }, 3},
		{"updated", func() { v("12", 4) }, 4},
		{"an older copy arrives late", func() { v("11", 2) }, 4},
		{"deleted", func() { c.Delete("ns", "g", "12") }, -1},
		{"a copy from before the delete arrives late", func() { v("12", 4) }, -1},
		{"created again", func() { v("20", 5) }, 5},
		{"a delete of the old one arrives late", func() { c.Delete("ns", "g", "12") }, 5},
		{"deleted through a tombstone", func() {
			u := &unstructured.Unstructured{}
			u.SetNamespace("ns")
			u.SetName("g")
			u.SetResourceVersion("20")
			if _, _, err := c.DeleteObject(toolscache.DeletedFinalStateUnknown{Key: "ns/g", Obj: u}); err != nil {
				t.Fatal(err)
			}
		}, -1},
	}
	for _, s := range steps {
		s.do()
		if got := minMember(); got != s.want {
			t.Fatalf("%s: minMember %d, want %d", s.name, got, s.want)
		}
	}
}

func TestPodGroupsSetKind(t *testing.T) {
	c := NewPodGroups(klog.Background())
	c.Set(podGroup("g", 1, t0))
	pg, _ := c.Get("ns", "g")
	// Events are recorded on the PodGroup; their reference needs the kind.
	if pg.Kind != "PodGroup" || pg.APIVersion != "scheduling.x-k8s.io/v1alpha1" {
		t.Errorf("kind %q, apiVersion %q", pg.Kind, pg.APIVersion)
	}
	if _, err := c.SetObject("not a PodGroup"); err == nil {
		t.Error("SetObject took a string")
	}
}

// TestLabelOnlyGangs: pods with MinMemberLabel define a gang without a
// PodGroup object (largest minMember, oldest pod's age); a bad value is an
// error; a real PodGroup takes precedence; dropping forgets the gang.
func TestLabelOnlyGangs(t *testing.T) {
	c := NewPodGroups(klog.Background())
	labelled := func(name, minMember string, created time.Time) *v1.Pod {
		p := gangPod(name, "g", 1)
		p.Labels[MinMemberLabel] = minMember
		p.CreationTimestamp = metav1.NewTime(created)
		return p
	}
	if err := c.SetImplicit(gangPod("plain", "g", 1)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("ns", "g"); ok {
		t.Fatal("a pod without the label made a gang")
	}
	for _, p := range []*v1.Pod{labelled("a", "2", t0.Add(time.Minute)), labelled("b", "3", t0), labelled("c", "2", t0.Add(2*time.Minute))} {
		if err := c.SetImplicit(p); err != nil {
			t.Fatal(err)
		}
	}
	pg, ok := c.Get("ns", "g")
	if !ok || pg.Spec.MinMember != 3 || !pg.CreationTimestamp.Time.Equal(t0) || pg.Kind != "PodGroup" {
		t.Fatalf("label-only gang %+v %v, want minMember 3 created %v", pg, ok, t0)
	}
	if err := c.SetImplicit(labelled("d", "many", t0)); err == nil || !strings.Contains(err.Error(), `label gantry.dev/gang-min-member: "many" is not a positive integer`) {
		t.Fatalf("bad value: %v", err)
	}
	real := podGroup("g", 5, t0)
	real.ResourceVersion = "1"
	c.Set(real)
	if pg, _ := c.Get("ns", "g"); pg.Spec.MinMember != 5 {
		t.Fatalf("the PodGroup object does not take precedence: minMember %d", pg.Spec.MinMember)
	}
	c.Delete("ns", "g", "2")
	c.DropImplicit("ns", "g")
	if _, ok := c.Get("ns", "g"); ok {
		t.Fatal("dropped gang still there")
	}
}
