package gputopology

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name, clique, rack, spine string) *v1.Node {
	labels := map[string]string{}
	for k, v := range map[string]string{"clique": clique, "rack": rack, "spine": spine} {
		if v != "" {
			labels[k] = v
		}
	}
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestLocalityScore(t *testing.T) {
	keys := []string{"clique", "rack", "spine"}
	a := node("a", "c1", "r1", "s1")
	sameClique := node("b", "c1", "r1", "s1")
	sameRack := node("c", "c2", "r1", "s1")
	sameSpine := node("d", "c3", "r2", "s1")
	far := node("e", "c4", "r3", "s2")
	unlabelled := node("f", "", "", "")
	tests := []struct {
		name      string
		candidate *v1.Node
		chosen    []*v1.Node
		keys      []string
		want      int64
	}{
		{"nothing chosen", a, nil, keys, 0},
		{"no keys", a, []*v1.Node{sameClique}, nil, 0},
		{"the same node", a, []*v1.Node{a}, keys, 100},
		{"same clique", a, []*v1.Node{sameClique}, keys, 75},
		{"same rack", a, []*v1.Node{sameRack}, keys, 50},
		{"same spine", a, []*v1.Node{sameSpine}, keys, 25},
		{"nothing shared", a, []*v1.Node{far}, keys, 0},
		{"labels missing on one side share nothing", unlabelled, []*v1.Node{a}, keys, 0},
		{"averaged over the chosen nodes", a, []*v1.Node{sameClique, sameRack, far}, keys, 42},
		{"the most specific shared key counts", sameClique, []*v1.Node{a}, keys, 75},
		{"one key", a, []*v1.Node{sameRack, sameClique}, []string{"rack"}, 50},
		{"a nil chosen node shares nothing", a, []*v1.Node{nil, sameClique}, keys, 38},
		{"nil candidate", nil, []*v1.Node{a}, keys, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LocalityScore(tt.candidate, tt.chosen, tt.keys); got != tt.want {
				t.Errorf("LocalityScore = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLocalityScorePrefersCloserCandidates(t *testing.T) {
	keys := []string{"clique", "rack", "spine"}
	chosen := []*v1.Node{node("a", "c1", "r1", "s1"), node("b", "c1", "r1", "s1")}
	ordered := []*v1.Node{
		node("x", "c1", "r1", "s1"),
		node("y", "c2", "r1", "s1"),
		node("z", "c3", "r2", "s1"),
		node("w", "c4", "r3", "s2"),
	}
	prev := int64(101)
	for _, c := range ordered {
		s := LocalityScore(c, chosen, keys)
		if s >= prev {
			t.Errorf("%s scored %d, not below the closer candidate's %d", c.Name, s, prev)
		}
		prev = s
	}
}
