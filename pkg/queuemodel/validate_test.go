package queuemodel

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// q builds a queue: name, parent, and "resource=amount" pairs for
// guaranteed (g) and limit (l).
func q(name, parent string, g, l map[string]string) Queue {
	return Queue{Name: name, Parent: parent, Weight: 1, Guaranteed: list(g), Limit: list(l)}
}

func list(m map[string]string) v1.ResourceList {
	if m == nil {
		return nil
	}
	out := v1.ResourceList{}
	for r, v := range m {
		out[v1.ResourceName(r)] = resource.MustParse(v)
	}
	return out
}

func gpuAmount(n string) map[string]string { return map[string]string{"nvidia.com/gpu": n} }

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		queues []Queue
		// want: queue -> reasons and a substring of each message.
		want map[string][][2]string
	}{{
		name: "a valid tree under a root without guarantees",
		queues: []Queue{
			q("org", "", nil, gpuAmount("48")),
			q("research", "org", gpuAmount("8"), gpuAmount("32")),
			q("inference", "org", gpuAmount("8"), nil),
			q("vision", "research", gpuAmount("4"), nil),
		},
	}, {
		name:   "missing parent",
		queues: []Queue{q("research", "org", nil, nil)},
		want:   map[string][][2]string{"research": {{ReasonParentNotFound, "queue research names parent org, which does not exist"}}},
	}, {
		name:   "below a missing parent: only the orphan has a problem",
		queues: []Queue{q("research", "org", gpuAmount("8"), nil), q("vision", "research", gpuAmount("4"), nil)},
		want:   map[string][][2]string{"research": {{ReasonParentNotFound, "names parent org"}}},
	}, {
		name: "a cycle, and a queue hanging off it",
		queues: []Queue{
			q("a", "b", nil, nil), q("b", "c", nil, nil), q("c", "a", nil, nil),
			q("leaf", "a", nil, nil), q("root", "", nil, nil),
		},
		want: map[string][][2]string{
			"a":    {{ReasonParentCycle, "a -> b -> c -> a loops"}},
			"b":    {{ReasonParentCycle, "b -> c -> a -> b loops"}},
			"c":    {{ReasonParentCycle, "c -> a -> b -> c loops"}},
			"leaf": {{ReasonParentCycle, "leaf -> a -> b -> c -> a loops"}},
		},
	}, {
		name: "a child guaranteed more than its parent",
		queues: []Queue{
			q("org", "", gpuAmount("8"), nil),
			q("research", "org", gpuAmount("16"), nil),
		},
		want: map[string][][2]string{"research": {{ReasonGuaranteeExceedsParent, "queue research guarantees 16 nvidia.com/gpu, more than its parent org's 8"}}},
	}, {
		name: "children together guaranteed more than their parent",
		queues: []Queue{
			q("org", "", gpuAmount("16"), nil),
			q("research", "org", gpuAmount("10"), nil),
			q("inference", "org", gpuAmount("8"), nil),
		},
		want: map[string][][2]string{"org": {{ReasonChildGuaranteesExceedGuarantee, "children of queue org (inference 8, research 10) together guarantee 18 nvidia.com/gpu, more than org's 16"}}},
	}, {
		name: "a root's limit bounds its children's guarantees when it names no guarantee",
		queues: []Queue{
			q("org", "", nil, gpuAmount("16")),
			q("research", "org", gpuAmount("24"), nil),
			q("inference", "org", gpuAmount("8"), nil),
		},
		want: map[string][][2]string{
			"research": {{ReasonGuaranteeExceedsParentLimit, "queue research guarantees 24 nvidia.com/gpu, more than its parent org's limit of 16"}},
			"org":      {{ReasonChildGuaranteesExceedLimit, "together guarantee 32 nvidia.com/gpu, more than org's limit of 16"}},
		},
	}, {
		name: "a non-root parent that names no guarantee guarantees zero",
		queues: []Queue{
			q("org", "", nil, nil),
			q("research", "org", nil, gpuAmount("32")),
			q("vision", "research", gpuAmount("4"), nil),
		},
		want: map[string][][2]string{"vision": {{ReasonGuaranteeExceedsParent, "queue vision guarantees 4 nvidia.com/gpu, more than its parent research's 0"}}},
	}, {
		name: "per resource: memory over, GPUs fine",
		queues: []Queue{
			q("org", "", map[string]string{"nvidia.com/gpu": "8", "memory": "64Gi"}, nil),
			q("research", "org", map[string]string{"nvidia.com/gpu": "8", "memory": "128Gi"}, nil),
		},
		want: map[string][][2]string{"research": {{ReasonGuaranteeExceedsParent, "128Gi memory, more than its parent org's 64Gi"}}},
	}, {
		name: "quantities compare as quantities",
		queues: []Queue{
			q("org", "", map[string]string{"memory": "1Gi"}, nil),
			q("research", "org", map[string]string{"memory": "1000Mi"}, nil),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Validate(NewTree(tt.queues...))
			for name, want := range tt.want {
				ps := got[name]
				if len(ps) != len(want) {
					t.Errorf("%s: problems %+v, want %d", name, ps, len(want))
					continue
				}
				for i, w := range want {
					if ps[i].Reason != w[0] || !strings.Contains(ps[i].Message, w[1]) {
						t.Errorf("%s: problem %d = %+v, want reason %s and a message containing %q", name, i, ps[i], w[0], w[1])
					}
				}
			}
			for name, ps := range got {
				if _, ok := tt.want[name]; !ok {
					t.Errorf("%s: unexpected problems %+v", name, ps)
				}
			}
		})
	}
}
