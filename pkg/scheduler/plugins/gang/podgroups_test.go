package gang

import (
	"testing"

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
