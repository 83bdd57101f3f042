package gputopology

import (
	"context"
	"fmt"
	"testing"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus/gpustest"

	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// BenchmarkFilterScore measures one node's Filter + Score for a pod, the
// per-node cost a scheduling cycle pays: PreFilter and PreScore run once per
// cycle, over hundreds of nodes, so they are left out. A quarter of each
// node's GPUs are in use, spread so the free ones are not one group. The
// node's set is found by a search on the first ask and from the topology's
// memo after (BenchmarkBestSet in package gpu has the search alone), as in
// a scheduler, which asks each node again for every pending pod.
func BenchmarkFilterScore(b *testing.B) {
	for _, tc := range []struct {
		name string
		spec func(string) gantryv1alpha1.NodeGPUSpec
	}{
		{"nvswitch8", func(n string) gantryv1alpha1.NodeGPUSpec { return gpustest.NVSwitchSpec(n, 8) }},
		{"twoIsland8", gpustest.TwoIslandSpec},
		{"nvswitch16", func(n string) gantryv1alpha1.NodeGPUSpec { return gpustest.NVSwitchSpec(n, 16) }},
		{"pcie16", pcie16Spec},
	} {
		for _, gpus := range []int64{1, 2, 4, 8} {
			s := tc.spec("n")
			allocated := map[int]string{}
			for i := 0; i < len(s.GPUs); i += 4 {
				allocated[i] = "x"
			}
			if int(gpus) > len(s.GPUs)-len(allocated) {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dgpu", tc.name, gpus), func(b *testing.B) {
				env := newTestEnv(b, []*gantryv1alpha1.NodeGPU{gpustest.NodeGPU("n", "1", s, nil, allocated)})
				pod := gpustest.GPUPod("p", gpus)
				ni := nodeInfo("n")
				ctx := context.Background()
				cs := framework.NewCycleState()
				env.pl.PreFilter(ctx, cs, pod, nil)
				env.pl.PreScore(ctx, cs, pod, []fwk.NodeInfo{ni})
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if st := env.pl.Filter(ctx, cs, pod, ni); !st.IsSuccess() {
						b.Fatal(st)
					}
					if _, st := env.pl.Score(ctx, cs, pod, ni); !st.IsSuccess() {
						b.Fatal(st)
					}
				}
			})
		}
	}
}

// pcie16Spec is a 16-GPU PCIe server: pairs share a switch, four GPUs a host
// bridge, eight a socket.
func pcie16Spec(node string) gantryv1alpha1.NodeGPUSpec {
	return gpustest.Spec(node, 16, func(a, b int) gpu.Link {
		switch {
		case a/2 == b/2:
			return gpu.Link{Type: gpu.LinkSingleSwitch}
		case a/4 == b/4:
			return gpu.Link{Type: gpu.LinkHostBridge}
		case a/8 == b/8:
			return gpu.Link{Type: gpu.LinkNUMANode}
		default:
			return gpu.Link{Type: gpu.LinkSystem}
		}
	})
}
