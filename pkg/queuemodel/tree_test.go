package queuemodel

import (
	"errors"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

const gpu v1.ResourceName = "nvidia.com/gpu"

func gpus(n int64) v1.ResourceList {
	return v1.ResourceList{gpu: *resource.NewQuantity(n, resource.DecimalSI)}
}

// brokenTree has a chain a <- b <- c, a two-queue loop x <- y <- x with w
// hanging below it, and an orphan whose parent "gone" does not exist.
func brokenTree() Tree {
	return NewTree(Queue{Name: "a"}, Queue{Name: "b", Parent: "a"}, Queue{Name: "c", Parent: "b"},
		Queue{Name: "x", Parent: "y"}, Queue{Name: "y", Parent: "x"}, Queue{Name: "w", Parent: "x"},
		Queue{Name: "orphan", Parent: "gone"}, Queue{Name: "kid", Parent: "orphan"})
}

func TestAncestry(t *testing.T) {
	tree := brokenTree()
	for _, tc := range []struct {
		queue   string
		want    []string
		wantErr string
		missing string
		loop    []string
	}{
		{queue: "c", want: []string{"c", "b", "a"}},
		{queue: "a", want: []string{"a"}},
		{queue: "nope", wantErr: "queue nope does not exist", missing: "nope"},
		{queue: "kid", wantErr: "queue kid has an ancestor gone that does not exist", missing: "gone"},
		{queue: "w", wantErr: "the parent chain of queue w loops (w -> x -> y -> x)", loop: []string{"w", "x", "y", "x"}},
	} {
		got, err := tree.Ancestry(tc.queue)
		if tc.wantErr == "" {
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Ancestry(%s) = %v, %v; want %v", tc.queue, got, err, tc.want)
			}
			continue
		}
		var chainErr *ChainError
		if !errors.As(err, &chainErr) || err.Error() != tc.wantErr || chainErr.Missing != tc.missing || !slices.Equal(chainErr.Loop, tc.loop) {
			t.Errorf("Ancestry(%s) error = %#v (%v), want %q", tc.queue, err, err, tc.wantErr)
		}
	}
}

func TestUpward(t *testing.T) {
	tree := brokenTree()
	for queue, want := range map[string][]string{
		"c":     {"c", "b", "a"},
		"w":     {"w", "x", "y"},
		"kid":   {"kid", "orphan", "gone"},
		"ghost": {"ghost"},
	} {
		if got := slices.Collect(tree.Upward(queue)); !slices.Equal(got, want) {
			t.Errorf("Upward(%s) = %v, want %v", queue, got, want)
		}
	}
}

// TestRollup: usage counts as far up as the chain goes, each queue once.
func TestRollup(t *testing.T) {
	tree := NewTree(Queue{Name: "a"}, Queue{Name: "b", Parent: "a"}, Queue{Name: "c", Parent: "b"}, Queue{Name: "x", Parent: "y"}, Queue{Name: "y", Parent: "x"})
	got := tree.Rollup(map[string]v1.ResourceList{"c": gpus(2), "b": gpus(3), "x": gpus(1), "ghost": gpus(7)})
	for q, want := range map[string]int64{"a": 5, "b": 5, "c": 2, "x": 1, "y": 1, "ghost": 7} {
		if v := got[q][gpu]; v.Value() != want {
			t.Errorf("usage of %s = %s, want %d", q, v.String(), want)
		}
	}
}

func TestFromObjectsAndChildren(t *testing.T) {
	objects := []*gantryv1alpha1.Queue{
		{ObjectMeta: metav1.ObjectMeta{Name: "org"}, Spec: gantryv1alpha1.QueueSpec{Limit: gpus(48)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "research"}, Spec: gantryv1alpha1.QueueSpec{Parent: "org", Weight: 3, Guaranteed: gpus(8)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "inference"}, Spec: gantryv1alpha1.QueueSpec{Parent: "org"}},
	}
	tree := FromObjects(objects)
	if r := tree["research"]; r.Parent != "org" || r.Weight != 3 || r.EffectiveWeight() != 3 || r.Guaranteed[gpu] != objects[1].Spec.Guaranteed[gpu] {
		t.Errorf("research = %+v", r)
	}
	if w := tree["inference"].EffectiveWeight(); w != 1 {
		t.Errorf("weight 0 counts as %d, want 1", w)
	}
	children := tree.Children()
	if !slices.Equal(children[""], []string{"org"}) || !slices.Equal(children["org"], []string{"inference", "research"}) {
		t.Errorf("Children = %v", children)
	}
}
