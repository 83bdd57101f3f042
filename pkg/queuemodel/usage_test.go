package queuemodel

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestBorrowed(t *testing.T) {
	cpu := func(s string) v1.ResourceList { return v1.ResourceList{v1.ResourceCPU: resource.MustParse(s)} }
	both := func(g int64, c string) v1.ResourceList {
		l := gpus(g)
		l[v1.ResourceCPU] = resource.MustParse(c)
		return l
	}
	for _, tc := range []struct {
		name             string
		used, guaranteed v1.ResourceList
		want             v1.ResourceList
	}{
		{"beyond the guarantee", gpus(12), gpus(8), gpus(4)},
		{"within it", gpus(4), gpus(8), v1.ResourceList{}},
		{"not guaranteed: borrowed whole", gpus(4), nil, gpus(4)},
		{"per resource", both(12, "500m"), both(8, "2"), gpus(4)},
		{"quantities, not units", cpu("1500m"), cpu("1"), cpu("500m")},
	} {
		got := Borrowed(tc.used, tc.guaranteed)
		if len(got) != len(tc.want) {
			t.Errorf("%s: Borrowed = %v, want %v", tc.name, got, tc.want)
			continue
		}
		for r, w := range tc.want {
			if g := got[r]; g.Cmp(w) != 0 {
				t.Errorf("%s: Borrowed = %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}

func TestWithinGuarantee(t *testing.T) {
	tree := NewTree(
		Queue{Name: "org"}, // a root that guarantees nothing stands for the cluster
		Queue{Name: "training", Parent: "org", Guaranteed: gpus(8)},
		Queue{Name: "capped", Guaranteed: gpus(4)},
		Queue{Name: "child", Parent: "capped", Guaranteed: gpus(4)},
	)
	usage := tree.Rollup(map[string]v1.ResourceList{"training": gpus(4), "child": gpus(2)})
	for _, tc := range []struct {
		queue string
		n     int64
		want  bool
	}{
		{"training", 4, true},
		{"training", 5, false},
		{"child", 2, true},
		{"child", 3, false}, // its parent guarantees only 4
		{"org", 1, false},   // its own workloads are guaranteed nothing
		{"missing", 1, false},
	} {
		if got := WithinGuarantee(tree, usage, tc.queue, gpus(tc.n)); got != tc.want {
			t.Errorf("WithinGuarantee(%s, %d) = %v, want %v", tc.queue, tc.n, got, tc.want)
		}
	}
}

func TestAccount(t *testing.T) {
	tree := NewTree(
		Queue{Name: "org", Limit: gpus(48)},
		Queue{Name: "research", Parent: "org", Guaranteed: gpus(8)},
		Queue{Name: "inference", Parent: "org"},
		Queue{Name: "lost", Parent: "nowhere"},
		Queue{Name: "x", Parent: "y"}, Queue{Name: "y", Parent: "x"},
	)
	pod := func(queue, workload string, bound bool, n int64) Pod {
		return Pod{Queue: queue, Workload: workload, Bound: bound, Requests: gpus(n)}
	}
	acc := Account(tree, []Pod{
		pod("research", "gang-a", true, 4),
		pod("research", "gang-a", true, 4),
		pod("research", "gang-a", false, 4),
		pod("research", "b", true, 4),
		pod("research", "c", false, 2),
		pod("inference", "x", false, 8),
		pod("ghost", "y", true, 8), // no such queue
		pod("lost", "z", true, 1),
		pod("x", "", true, 1), // on a loop
	})
	for _, tc := range []struct {
		queue                               string
		total                               bool
		allocated, pending                  int64
		boundPods, pendingPods              int
		admittedWorkloads, pendingWorkloads int
	}{
		{"research", false, 12, 6, 3, 2, 2, 1},
		{"research", true, 12, 6, 3, 2, 2, 1},
		{"org", true, 12, 14, 3, 3, 2, 2},
		{"ghost", true, 8, 0, 1, 0, 1, 0},
		{"lost", true, 1, 0, 1, 0, 1, 0},
		{"nowhere", true, 1, 0, 1, 0, 1, 0}, // as far as the chain goes
		{"x", true, 1, 0, 1, 0, 0, 0},
		{"y", true, 1, 0, 1, 0, 0, 0},
	} {
		u := acc.Total[tc.queue]
		if !tc.total {
			u = acc.Own[tc.queue]
		}
		if u == nil {
			t.Errorf("%s: no usage", tc.queue)
			continue
		}
		a, p := u.Allocated[gpu], u.Pending[gpu]
		if a.Value() != tc.allocated || p.Value() != tc.pending || u.BoundPods != tc.boundPods || u.PendingPods != tc.pendingPods ||
			len(u.Admitted) != tc.admittedWorkloads || u.PendingWorkloads() != tc.pendingWorkloads {
			t.Errorf("%s (total %v): allocated %s pending %s, pods %d/%d, workloads admitted %d pending %d; want %d %d, %d/%d, %d %d",
				tc.queue, tc.total, a.String(), p.String(), u.BoundPods, u.PendingPods, len(u.Admitted), u.PendingWorkloads(),
				tc.allocated, tc.pending, tc.boundPods, tc.pendingPods, tc.admittedWorkloads, tc.pendingWorkloads)
		}
	}
	if _, ok := acc.Own["org"]; ok {
		t.Errorf("org has own usage, but no pod names it")
	}
}
