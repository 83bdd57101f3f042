package integration

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	"github.com/gantry-gpu/gantry/test/framework"
)

// assertDisjointGPUs checks that no GPU is named on two bound pods.
func (g *gangTest) assertDisjointGPUs(pods []*corev1.Pod) {
	g.t.Helper()
	owner := map[string]string{}
	for _, p := range pods {
		var got corev1.Pod
		if err := controlPlane.Client.Get(g.ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			g.t.Fatal(err)
		}
		ids := gantryv1alpha1.ParseGPUIDs(got.Annotations[gantryv1alpha1.GPUIDsAnnotation])
		if got.Spec.NodeName != "" && len(ids) == 0 {
			g.t.Errorf("pod %s bound to %s without %s", p.Name, got.Spec.NodeName, gantryv1alpha1.GPUIDsAnnotation)
		}
		for _, id := range ids {
			if o, dup := owner[id]; dup {
				g.t.Errorf("GPU %s given to %s and %s", id, o, p.Name)
			}
			owner[id] = p.Name
		}
	}
}

// TestGangSchedulerRestartMidBurst: twelve gangs of four 2-GPU pods fill
// twelve 8-GPU nodes exactly. The scheduler is stopped as soon as its first pod is
// bound, with gangs planned, waiting in Permit or being bound, and a new
// one started: every gang ends up bound whole and no GPU is given twice.
func TestGangSchedulerRestartMidBurst(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(12, 8)
	stop := framework.StartScheduler(g.ctx, t, g.config)
	var all []*corev1.Pod
	gangs := map[string][]*corev1.Pod{}
	for i := range 12 {
		name := fmt.Sprintf("g%d", i)
		g.podGroup(name, 4)
		gangs[name] = g.pods(name, name, 4, 2)
		all = append(all, gangs[name]...)
	}
	// Stop at the first bind the API server reports, not at a poll's.
	cs, err := kubernetes.NewForConfig(controlPlane.Config)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.CoreV1().Pods(g.ns).Watch(g.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g.create(all...)
	timeout := time.After(30 * time.Second)
	for bound := false; !bound; {
		select {
		case ev := <-w.ResultChan():
			if p, ok := ev.Object.(*corev1.Pod); ok && p.Spec.NodeName != "" {
				bound = true
			}
		case <-timeout:
			t.Fatal("nothing bound in 30s")
		}
	}
	stop()
	w.Stop()
	nodes, err := g.nodesOf(all)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("at the restart %d of %d pods were bound", countBound(nodes), len(all))

	framework.StartScheduler(g.ctx, t, g.config)
	g.waitAllBound(all, 60*time.Second)
	g.assertDisjointGPUs(all)
}

// TestGangSchedulerRestartCompletesAHalfBoundGang: a scheduler stopped
// while it was binding a gang left two of its four members bound. The new
// scheduler counts them towards minMember and binds the other two, on GPUs
// the bound members do not hold; it does not wait for a quorum the bound
// members already make, nor bind anything else meanwhile.
func TestGangSchedulerRestartCompletesAHalfBoundGang(t *testing.T) {
	g := newGangTest(t)
	nodes := g.addNodes(2, 8)
	g.podGroup("g", 4)
	pods := g.pods("g", "g", 4, 4)
	g.create(pods...)
	// What the stopped scheduler got done: two members bound, with their
	// GPUs named as GantryGPUTopology names them.
	for i, p := range pods[:2] {
		ids := make([]string, 4)
		for j := range ids {
			ids[j] = gangGPU(nodes[0], 4*i+j)
		}
		bindWithGPUs(g.ctx, t, p, nodes[0], ids)
	}
	g.startScheduler()
	bound := g.waitAllBound(pods, 30*time.Second)
	for _, p := range pods[2:] {
		if bound[p.Name] != nodes[1] {
			t.Errorf("%s bound to %s, want %s (the other node is full)", p.Name, bound[p.Name], nodes[1])
		}
	}
	g.assertDisjointGPUs(pods)
}

// TestGangKubeflowPyTorchJob: a PodGroup and pods as Kubeflow's training
// operator creates them for a PyTorchJob in scheduler-plugins gang mode
// (PodGroup named after the job, owned by it, minMember = every replica,
// minResources = their sum; pods labelled with the job, replica type and
// index and the PodGroup, schedulerName set) are bound whole, one 8-GPU
// replica per node.
func TestGangKubeflowPyTorchJob(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(4, 8)
	g.startScheduler()
	owner := metav1.OwnerReference{APIVersion: "kubeflow.org/v1", Kind: "PyTorchJob", Name: "resnet", UID: "0c8e6c1e-3b5e-4d38-9f0a-2f4d5a1c7e11", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	pg := &schedv1alpha1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: "resnet", OwnerReferences: []metav1.OwnerReference{owner}},
		Spec: schedv1alpha1.PodGroupSpec{
			MinMember:              4,
			ScheduleTimeoutSeconds: ptr.To[int32](30),
			MinResources: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"),
				"nvidia.com/gpu": resource.MustParse("32"),
			},
		},
	}
	if err := controlPlane.Client.Create(g.ctx, pg); err != nil {
		t.Fatalf("creating the PodGroup: %v", err)
	}
	var pods []*corev1.Pod
	for i, replica := range []string{"master", "worker", "worker", "worker"} {
		index := i
		if replica == "worker" {
			index = i - 1
		}
		p := g.pods(fmt.Sprintf("resnet-%s", replica), "resnet", 1, 8)[0]
		p.Name = fmt.Sprintf("resnet-%s-%d", replica, index)
		p.OwnerReferences = []metav1.OwnerReference{owner}
		p.Labels = map[string]string{
			schedv1alpha1.PodGroupLabel:           "resnet",
			"training.kubeflow.org/job-name":      "resnet",
			"training.kubeflow.org/operator-name": "pytorchjob-controller",
			"training.kubeflow.org/replica-type":  replica,
			"training.kubeflow.org/replica-index": fmt.Sprint(index),
		}
		p.Spec.Containers[0].Name = "pytorch"
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("64Gi")}
		pods = append(pods, p)
	}
	// The operator creates the master first and the workers after.
	g.create(pods[0])
	// GantryGang's PreEnqueue keeps it out of the queue: 1 of minMember 4.
	g.waitHeld(gang.Name, 1)
	g.assertNoneBound("the master alone", pods[:1])
	g.create(pods[1:]...)
	bound := g.waitAllBound(pods, 30*time.Second)
	if distinct := len(map[string]bool{bound[pods[0].Name]: true, bound[pods[1].Name]: true, bound[pods[2].Name]: true, bound[pods[3].Name]: true}); distinct != 4 {
		t.Errorf("replicas on %d nodes, want 4: %v", distinct, bound)
	}
	g.assertDisjointGPUs(pods)
}

// TestGangMixedSchedulerNames: a gang one of whose pods names another
// scheduler is never placed in part: none of its pods is bound, until the
// odd pod is replaced by one for this scheduler.
func TestGangMixedSchedulerNames(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(2, 8)
	g.startScheduler()
	g.podGroup("g", 3)
	pods := g.pods("g", "g", 3, 2)
	pods[2].Spec.SchedulerName = "some-other-scheduler"
	g.create(pods...)
	// GantryGang's PreEnqueue keeps the two pods for this scheduler out of
	// its queue; the third is no pod of its.
	g.waitHeld(gang.Name, 2)
	g.assertNoneBound("gang with a pod for another scheduler", pods)

	if err := controlPlane.Client.Delete(g.ctx, pods[2], client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	fixed := g.pods("g-fixed", "g", 1, 2)
	g.create(fixed...)
	g.waitAllBound(append(pods[:2:2], fixed...), 30*time.Second)
}

// TestGangLabelOnly: pods that carry the pod-group label and
// gantry.dev/gang-min-member, with no PodGroup object, are a gang: two of
// three stay unbound, the third brings all three in, bound whole.
func TestGangLabelOnly(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(3, 8)
	g.startScheduler()
	pods := g.pods("job", "job", 3, 8)
	for _, p := range pods {
		p.Labels[gantryv1alpha1.GangMinMemberLabel] = "3"
	}
	g.create(pods[:2]...)
	// GantryGang's PreEnqueue keeps both out of the queue.
	g.waitHeld(gang.Name, 2)
	g.assertNoneBound("two of a label-only gang of three", pods[:2])
	g.create(pods[2])
	g.waitAllBound(pods, 30*time.Second)
}
