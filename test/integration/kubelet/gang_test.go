package kubelet

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
	"github.com/gantry-gpu/gantry/test/framework"
)

// TestGangAndItsReplacementOnTheKubelet places a gang on a real kubelet's
// node, checks that every member's container gets the GPUs gantry-scheduler
// chose, then lets a higher-priority pod that needs the whole node preempt
// the gang: every member goes (the kubelet stops their containers), and
// the replacement's container gets all eight GPUs.
func TestGangAndItsReplacementOnTheKubelet(t *testing.T) {
	framework.SkipUnlessRootOnLinux(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := controlPlane.Client

	k, _ := startGPUNode(ctx, t, "kubelet-gpu-gang")
	const schedulerName = "gantry-kubelet-gang-test"
	ns := startScheduler(ctx, t, "kubelet-gang", schedulerName)

	priority := func(name string, value int32) string {
		pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + name}, Value: value}
		if err := c.Create(ctx, pc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), pc) })
		return pc.Name
	}
	low, high := priority("low", 10), priority("high", 1000)
	pod := func(name string, gpus int64, class string) *corev1.Pod {
		p := gpuPod(ns, name, schedulerName, gpus)
		p.Spec.PriorityClassName = class
		p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](1)
		return p
	}

	pg := &schedv1alpha1.PodGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train"}, Spec: schedv1alpha1.PodGroupSpec{MinMember: 4}}
	if err := c.Create(ctx, pg); err != nil {
		t.Fatal(err)
	}
	var gang []*corev1.Pod
	for i := range 4 {
		p := pod(fmt.Sprintf("train-%d", i), 2, low)
		p.Labels = map[string]string{schedv1alpha1.PodGroupLabel: "train"}
		if err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		gang = append(gang, p)
	}
	// The members are bound within milliseconds of each other, all of one
	// size, and the kubelet does not say which pod it asks
	// GetPreferredAllocation for: the device plugin tells the pod being
	// admitted from its siblings through the kubelet's PodResources.
	var all []string
	for _, p := range gang {
		ctr, err := k.Runtime.WaitCreated(ctx, ns, p.Name, "train")
		if err != nil {
			t.Fatalf("%v; kubelet log %s ends with:\n%s", err, k.Process.Log, k.Process.LogTail(20))
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			t.Fatal(err)
		}
		got := idSet(ctr.Env[deviceplugin.VisibleDevicesEnv])
		if want := idSet(p.Annotations[gantryv1alpha1.GPUIDsAnnotation]); len(want) != 2 || !slices.Equal(got, want) {
			t.Errorf("gang member %s: container got GPUs %v; gantry-scheduler chose %v", p.Name, got, want)
		}
		all = append(all, got...)
	}
	slices.Sort(all)
	if len(slices.Compact(slices.Clone(all))) != 8 {
		t.Fatalf("the gang's containers share GPUs: %v", all)
	}

	// The whole node, at a higher priority: nothing smaller than the
	// gang makes room, and no member is taken alone.
	big := pod("inference", 8, high)
	if err := c.Create(ctx, big); err != nil {
		t.Fatal(err)
	}
	ctr, err := k.Runtime.WaitCreated(ctx, ns, big.Name, "train")
	if err != nil {
		t.Fatalf("%v; kubelet log %s ends with:\n%s", err, k.Process.Log, k.Process.LogTail(20))
	}
	if got := idSet(ctr.Env[deviceplugin.VisibleDevicesEnv]); !slices.Equal(got, all) {
		t.Fatalf("the replacement's container got GPUs %v; want all 8 (%v)", got, all)
	}
	// The kubelet admitted it only once every member had released its
	// GPUs; every member is gone, none was left running.
	for _, p := range gang {
		err := c.Get(ctx, client.ObjectKeyFromObject(p), &corev1.Pod{})
		if !apierrors.IsNotFound(err) {
			got := &corev1.Pod{}
			_ = c.Get(ctx, client.ObjectKeyFromObject(p), got)
			if got.DeletionTimestamp == nil {
				t.Errorf("gang member %s is still there and not being deleted (phase %s)", p.Name, got.Status.Phase)
			}
		}
	}
}
