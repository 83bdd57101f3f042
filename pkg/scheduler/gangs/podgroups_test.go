package gangs

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodGroupsReadTheInformer: Get answers from the informer's store, as
// it is now.
func TestPodGroupsReadTheInformer(t *testing.T) {
	c, store := newPodGroups(t)
	if _, ok := c.Get("ns", "g"); ok {
		t.Fatal("a PodGroup before any was stored")
	}
	pg := podGroup("g", 3, t0)
	if err := store.Add(pg); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get("ns", "g"); !ok || got.Spec.MinMember != 3 {
		t.Fatalf("Get = %+v, %v; want minMember 3", got, ok)
	}
	if err := store.Delete(pg); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("ns", "g"); ok {
		t.Fatal("a deleted PodGroup is still there")
	}
}

// TestLabelOnlyGangs: pods with MinMemberLabel define a gang without a
// PodGroup object (largest minMember, oldest pod's age); a bad value is an
// error; a real PodGroup takes precedence; dropping forgets the gang.
func TestLabelOnlyGangs(t *testing.T) {
	c, store := newPodGroups(t)
	labelled := func(name, minMember string, created time.Time) *v1.Pod {
		p := gangPod(name, "g")
		p.Labels[MinMemberLabel] = minMember
		p.CreationTimestamp = metav1.NewTime(created)
		return p
	}
	if err := c.SetImplicit(gangPod("plain", "g")); err != nil {
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
	if err := store.Add(real); err != nil {
		t.Fatal(err)
	}
	if pg, _ := c.Get("ns", "g"); pg.Spec.MinMember != 5 {
		t.Fatalf("the PodGroup object does not take precedence: minMember %d", pg.Spec.MinMember)
	}
	if err := store.Delete(real); err != nil {
		t.Fatal(err)
	}
	c.DropImplicit("ns", "g")
	if _, ok := c.Get("ns", "g"); ok {
		t.Fatal("dropped gang still there")
	}
}
