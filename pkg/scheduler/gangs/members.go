// Package gangs is gantry-scheduler's one view of gangs: which pods belong
// to which gang (Of, Key, Members), the gangs' PodGroups (PodGroups:
// scheduler-plugins' objects, Kubernetes' own scheduling.k8s.io ones, and
// label-only gangs), their plans between scheduling cycles (core.Book)
// and their activation. One Index serves the whole scheduler: GantryGang
// plans and admits with it, GantryQueue counts workloads by it.
package gangs

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/pods"
)

// PodGroupLabel is the pod label that names the pod's PodGroup.
const PodGroupLabel = schedv1alpha1.PodGroupLabel

// Of returns the name of the pod's PodGroup, or "" for a pod outside gangs:
// its PodGroupLabel (a scheduler-plugins PodGroup or a label-only gang),
// else its spec.schedulingGroup.podGroupName (an upstream PodGroup). The
// label wins where a pod has both: Kubeflow's operator and Coscheduling
// users set it on purpose; a workload controller of Kubernetes sets the
// other.
func Of(pod *v1.Pod) string { return pods.Gang(pod) }

// Key names a gang: its namespace and pod-group name.
func Key(namespace, name string) string { return namespace + "/" + name }

// KeyOf is the key of the pod's gang, or "" for a pod outside gangs.
func KeyOf(pod *v1.Pod) string {
	if name := Of(pod); name != "" {
		return Key(pod.Namespace, name)
	}
	return ""
}

// SplitKey splits a gang key into namespace and name.
func SplitKey(key string) (string, string) {
	ns, name, _ := strings.Cut(key, "/")
	return ns, name
}

// Live reports whether a pod still counts for its gang: not finished and
// not being deleted.
func Live(p *v1.Pod) bool {
	return p.DeletionTimestamp == nil && !pods.Finished(p)
}

// MembersIndex indexes the scheduler's pod informer by gang key: listing a
// gang's pods is on every path of the gang and queue plugins, and a label
// selector over the namespace walked every pod of the cluster each time.
const MembersIndex = "gantry.dev/gang"

// MembersIndexFunc is MembersIndex's function: a pod's gang key, none
// outside gangs.
func MembersIndexFunc(obj any) ([]string, error) {
	if pod, ok := obj.(*v1.Pod); ok {
		if key := KeyOf(pod); key != "" {
			return []string{key}, nil
		}
	}
	return nil, nil
}

// Members lists the gang's live pods from an indexer with MembersIndex.
func Members(members toolscache.Indexer, namespace, name string) []*v1.Pod {
	all, err := members.ByIndex(MembersIndex, Key(namespace, name))
	if err != nil {
		return nil
	}
	out := make([]*v1.Pod, 0, len(all))
	for _, obj := range all {
		if p, ok := obj.(*v1.Pod); ok && Live(p) {
			out = append(out, p)
		}
	}
	return out
}

// Schedulable counts the pods the scheduler may place: those still held
// by scheduling gates are not in the running yet.
func Schedulable(pods []*v1.Pod) int {
	n := 0
	for _, p := range pods {
		if len(p.Spec.SchedulingGates) == 0 {
			n++
		}
	}
	return n
}

// Activator is what activation uses of the framework's handle.
type Activator interface {
	Activate(logger klog.Logger, pods map[string]*v1.Pod)
}

// Activate moves the gang's pending pods (members, an indexer with
// MembersIndex) to the active queue; the queue ignores those it does not
// hold in its unschedulable or backoff areas.
func Activate(logger klog.Logger, h Activator, members toolscache.Indexer, key string) {
	ns, name := SplitKey(key)
	pods := map[string]*v1.Pod{}
	for _, p := range Members(members, ns, name) {
		if p.Spec.NodeName == "" {
			pods[p.Namespace+"/"+p.Name] = p
		}
	}
	if len(pods) > 0 {
		logger.V(4).Info("Activating gang", "gang", key, "pods", len(pods))
		h.Activate(logger, pods)
	}
}
