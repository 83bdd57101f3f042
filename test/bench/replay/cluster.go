package replay

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/gpu/nvml"
	"github.com/gantry-gpu/gantry/test/framework"
)

// TopologyLabel names the NVML fixture a simulated node's GPUs follow.
const TopologyLabel = "bench.gantry.dev/topology"

// SimNode is one simulated GPU node.
type SimNode struct {
	Name     string
	Fixture  string
	Topology *gpu.Topology
}

// Cluster is the simulated cluster every scheduler replays on: nodes made
// Ready as a kubelet would (framework.CreateReadyNode), each with a NodeGPU
// as Gantry's device plugin would publish it for the node's NVML fixture.
type Cluster struct {
	Nodes  []*SimNode
	ByName map[string]*SimNode
	GPUs   int
	spec   ClusterSpec
	// bestWorst is, per fixture and set size, the bottleneck link of the
	// best set of that size on an empty node: what "NVLink-optimal" is
	// measured against.
	bestWorst map[string]map[int]gpu.Link
}

// fixtureSpec discovers a fixture's topology through Gantry's NVML backend,
// as the device plugin does on a real node.
func fixtureSpec(name string) (gantryv1alpha1.NodeGPUSpec, error) {
	f, err := nvml.NewFixture(name)
	if err != nil {
		return gantryv1alpha1.NodeGPUSpec{}, err
	}
	b := nvml.New(f.Interface())
	if err := b.Init(); err != nil {
		return gantryv1alpha1.NodeGPUSpec{}, err
	}
	defer func() { _ = b.Shutdown() }()
	topo, driver, err := b.Discover()
	if err != nil {
		return gantryv1alpha1.NodeGPUSpec{}, err
	}
	return topo.Spec(driver), nil
}

// nodeUUID is the UUID of GPU index on a simulated node.
func nodeUUID(node string, index int32) string { return fmt.Sprintf("GPU-%s-%d", node, index) }

// NewCluster creates nodes nodes (0: the spec's count) with NodeGPUs on the
// control plane, their fixtures in proportion to the spec's shares,
// interleaved.
func NewCluster(ctx context.Context, cp *framework.ControlPlane, spec ClusterSpec, nodes int) (*Cluster, error) {
	if nodes <= 0 {
		nodes = spec.Nodes
	}
	c := &Cluster{ByName: map[string]*SimNode{}, spec: spec, bestWorst: map[string]map[int]gpu.Link{}}
	specs := map[string]gantryv1alpha1.NodeGPUSpec{}
	var total float64
	for _, t := range spec.Topologies {
		s, err := fixtureSpec(t.Fixture)
		if err != nil {
			return nil, err
		}
		specs[t.Fixture] = s
		total += t.Share
		topo, err := gpu.FromSpec(s)
		if err != nil {
			return nil, err
		}
		c.bestWorst[t.Fixture] = map[int]gpu.Link{}
		for size := 1; size <= topo.Len(); size++ {
			_, score, err := topo.BestSet(topo.All(), 0, size)
			if err != nil {
				return nil, err
			}
			c.bestWorst[t.Fixture][size] = score.Worst
		}
	}
	// Node i gets the fixture whose cumulative share first exceeds a
	// golden-ratio sequence: deterministic, interleaved, in proportion.
	for i := range nodes {
		pos := math.Mod(float64(i+1)*0.618033988749895, 1) * total
		fixture := spec.Topologies[len(spec.Topologies)-1].Fixture
		for _, t := range spec.Topologies {
			if pos < t.Share {
				fixture = t.Fixture
				break
			}
			pos -= t.Share
		}
		name := fmt.Sprintf("gpu-node-%04d", i)
		s := specs[fixture]
		s.GPUs = append([]gantryv1alpha1.GPUDevice(nil), s.GPUs...)
		for g := range s.GPUs {
			s.GPUs[g].UUID = nodeUUID(name, s.GPUs[g].Index)
		}
		topo, err := gpu.FromSpec(s)
		if err != nil {
			return nil, err
		}
		n := &SimNode{Name: name, Fixture: fixture, Topology: topo}
		c.Nodes = append(c.Nodes, n)
		c.ByName[name] = n
		c.GPUs += topo.Len()
	}
	err := framework.Parallel(len(c.Nodes), 8, func(i int) error {
		n := c.Nodes[i]
		ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: n.Name}, Spec: n.Topology.Spec(specs[n.Fixture].DriverVersion)}
		// The NodeGPU first: a scheduler must not see the node's GPUs
		// before their topology.
		if err := cp.Client.Create(ctx, ng); err != nil {
			return fmt.Errorf("creating NodeGPU %s: %w", n.Name, err)
		}
		_, err := cp.CreateReadyNode(ctx, n.Name, map[string]string{
			TopologyLabel: n.Fixture, "nvidia.com/gpu.present": "true",
		}, corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(int64(spec.NodeCPU), resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(int64(spec.NodeMemoryGiB)<<30, resource.BinarySI),
			corev1.ResourcePods:   resource.MustParse("110"),
			GPUResource:           *resource.NewQuantity(int64(n.Topology.Len()), resource.DecimalSI),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// InstallElasticQuotaCRD installs scheduler-plugins' ElasticQuota CRD
// (testdata/crds, copied from the module pinned in go.mod), which
// CapacityScheduling needs and deploy/crds does not have, and waits until
// it is served.
func InstallElasticQuotaCRD(ctx context.Context, cp *framework.ControlPlane) error {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "testdata", "crds", "scheduling.x-k8s.io_elasticquotas.yaml")
	if _, err := cp.ApplyManifest(ctx, path); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var l schedv1alpha1.ElasticQuotaList
		return cp.Client.List(ctx, &l) == nil, nil
	})
}

// GPUResource is the extended resource of whole GPUs.
const GPUResource corev1.ResourceName = "nvidia.com/gpu"

// Optimal reports whether set, on node n, has the best bottleneck link any
// set of its size has on an empty node of n's topology.
func (c *Cluster) Optimal(n *SimNode, set gpu.Set) bool {
	best, ok := c.bestWorst[n.Fixture][set.Len()]
	if !ok {
		return false
	}
	return !best.Better(n.Topology.Score(set, set).Worst)
}
