package queuemodel

import (
	"math"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestSplit(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name     string
		capacity float64
		claims   []Claim
		want     []float64
	}{
		{"equal weights", 48, []Claim{{1, 0, inf}, {1, 0, inf}}, []float64{24, 24}},
		{"by weight", 48, []Claim{{3, 0, inf}, {1, 0, inf}}, []float64{36, 12}},
		{"a cap passes the rest on", 48, []Claim{{3, 8, 32}, {1, 8, inf}}, []float64{32, 16}},
		// Weighted shares would be 12 and 36; the floor lifts the first
		// to 20 and the second takes what is left.
		{"a floor above the weighted share", 48, []Claim{{1, 20, inf}, {3, 0, inf}}, []float64{20, 28}},
		{"floors overcommit: each its floor", 10, []Claim{{1, 8, inf}, {1, 8, inf}}, []float64{8, 8}},
		{"caps below capacity: each its cap", 48, []Claim{{1, 0, 4}, {5, 0, 8}}, []float64{4, 8}},
		{"thirds", 8, []Claim{{1, 0, inf}, {1, 0, inf}, {1, 0, inf}}, []float64{8.0 / 3, 8.0 / 3, 8.0 / 3}},
		{"no capacity: floors", 0, []Claim{{1, 2, inf}, {1, 0, inf}}, []float64{2, 0}},
		{"insane claims are made sane", 10, []Claim{{0, -1, math.NaN()}, {1, 0, inf}}, []float64{0, 10}},
		{"none", 10, nil, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.capacity, tt.claims)
			if len(got) != len(tt.want) {
				t.Fatalf("Split = %v, want %v", got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-9 {
					t.Errorf("Split = %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}

func TestFairShares(t *testing.T) {
	tree := NewTree(
		Queue{Name: "org", Limit: gpus(48)},
		Queue{Name: "research", Parent: "org", Weight: 3, Guaranteed: gpus(8), Limit: gpus(32)},
		Queue{Name: "inference", Parent: "org", Weight: 1, Guaranteed: gpus(8)},
		Queue{Name: "vision", Parent: "research"}, Queue{Name: "nlp", Parent: "research"}, Queue{Name: "audio", Parent: "research"},
		Queue{Name: "lost", Parent: "nowhere", Guaranteed: gpus(8)},
		Queue{Name: "x", Parent: "y"}, Queue{Name: "y", Parent: "x"},
	)
	capacity := v1.ResourceList{gpu: resource.MustParse("48"), v1.ResourceCPU: resource.MustParse("96"), v1.ResourceMemory: resource.MustParse("10")}
	got := FairShares(tree, capacity, []v1.ResourceName{gpu, v1.ResourceCPU, v1.ResourceMemory})
	for queue, want := range map[string]map[v1.ResourceName]string{
		"org": {gpu: "48", v1.ResourceCPU: "96", v1.ResourceMemory: "10"},
		// org's 48 split 3:1 with research capped at 32: 32 and 16.
		"research":  {gpu: "32", v1.ResourceCPU: "72"},
		"inference": {gpu: "16", v1.ResourceCPU: "24"},
		// research's 32 in thirds, to the thousandth; memory to the byte.
		"vision": {gpu: "10667m", v1.ResourceMemory: "3"},
	} {
		for r, w := range want {
			if v := got[queue][r]; v.Cmp(resource.MustParse(w)) != 0 {
				t.Errorf("fair share of %s in %s = %s, want %s", r, queue, v.String(), w)
			}
		}
	}
	for _, queue := range []string{"lost", "x", "y"} {
		if s, ok := got[queue]; ok {
			t.Errorf("%s reaches no root but has a fair share %v", queue, s)
		}
	}
}

func TestDominantShare(t *testing.T) {
	capacity := v1.ResourceList{gpu: resource.MustParse("16"), v1.ResourceCPU: resource.MustParse("64")}
	usage := v1.ResourceList{gpu: resource.MustParse("4"), v1.ResourceCPU: resource.MustParse("32"), "example.com/none": resource.MustParse("1")}
	resources := []v1.ResourceName{gpu, v1.ResourceCPU, "example.com/none"}
	for _, tc := range []struct {
		weight int32
		want   float64
	}{{1, 0.5}, {2, 0.25}, {0, 0.5}} {
		if got := DominantShare(Queue{Weight: tc.weight}, usage, capacity, resources); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("weight %d: DominantShare = %v, want %v (CPU dominates; a resource the cluster has none of does not count)", tc.weight, got, tc.want)
		}
	}
}
