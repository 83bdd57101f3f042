package queue

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"
	"k8s.io/utils/ptr"

	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/pluginargs"
)

// DefaultResourceName is QueueArgs.ResourceName's default.
const DefaultResourceName = "nvidia.com/gpu"

// QueueArgs configures the plugin (pluginConfig args of GantryQueue). A field
// left out of the configuration keeps its default.
type QueueArgs struct {
	metav1.TypeMeta `json:",inline"`

	// ResourceName is the extended resource that counts whole GPUs; a
	// pod's amount of it is counted the way the kubelet hands devices out
	// (gpu.PodGPUs), other resources as the pod's requests.
	ResourceName string `json:"resourceName,omitempty"`
	// RequireDefaultQueue makes workloads that name no queue (no
	// gantry.dev/queue label on the pod, its PodGroup or its namespace)
	// wait until a Queue named "default" exists. When false (the default)
	// such workloads are not governed while there is no default queue, so
	// a cluster can adopt queues one team at a time.
	RequireDefaultQueue bool `json:"requireDefaultQueue,omitempty"`
	// StarvationSeconds is how long a workload of a queue with a lower
	// fair share may wait, too big for the idle room, before queues that
	// borrow stop taking the room it needs (see core.Fair); 0 never holds
	// room for it. Default 300.
	StarvationSeconds *int32 `json:"starvationSeconds,omitempty"`
	// FairShareReclaim lets a workload whose queue borrows, and that finds
	// no room, preempt workloads of sibling queues that hold more than
	// their weighted fair share: as much as keeps each such queue's
	// weighted share no lower than the workload's queue's once admitted
	// (Kueue's LessThanOrEqualToFinalShare), never taking a queue below
	// its guarantee nor a pod of a higher priority (see core.NewReclaim).
	// Admission order alone cannot correct shares a queue took while the
	// cluster was not full, nor make room for a big workload among many
	// small ones; but it preempts running work that is only borrowing, so
	// it is opt-in, as Kueue's fair-sharing preemption is. Default false:
	// only a workload within its guarantees reclaims.
	FairShareReclaim *bool `json:"fairShareReclaim,omitempty"`
}

// DefaultStarvationSeconds is QueueArgs.StarvationSeconds's default.
const DefaultStarvationSeconds = 300

// DeepCopyObject implements runtime.Object.
func (a *QueueArgs) DeepCopyObject() runtime.Object { return a.DeepCopy() }

// DeepCopy returns a copy of a.
func (a *QueueArgs) DeepCopy() *QueueArgs {
	if a == nil {
		return nil
	}
	out := *a
	if a.StarvationSeconds != nil {
		out.StarvationSeconds = ptr.To(*a.StarvationSeconds)
	}
	if a.FairShareReclaim != nil {
		out.FairShareReclaim = ptr.To(*a.FairShareReclaim)
	}
	return &out
}

// SetDefaultsQueueArgs fills the fields left out.
func SetDefaultsQueueArgs(a *QueueArgs) {
	if a.ResourceName == "" {
		a.ResourceName = DefaultResourceName
	}
	if a.StarvationSeconds == nil {
		a.StarvationSeconds = ptr.To[int32](DefaultStarvationSeconds)
	}
	if a.FairShareReclaim == nil {
		a.FairShareReclaim = ptr.To(false)
	}
}

// ParseArgs reads the plugin's configuration (see pluginargs.Decode); the
// result is defaulted and validated.
func ParseArgs(obj runtime.Object) (*QueueArgs, error) {
	args, err := pluginargs.Decode(Name, obj, func() *QueueArgs { return &QueueArgs{} })
	if err != nil {
		return nil, err
	}
	SetDefaultsQueueArgs(args)
	if err := ValidateQueueArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid %s args: %w", Name, err)
	}
	return args, nil
}

// ValidateQueueArgs checks args, naming each bad field under path.
func ValidateQueueArgs(path *field.Path, args *QueueArgs) error {
	var errs field.ErrorList
	if !v1helper.IsExtendedResourceName(v1.ResourceName(args.ResourceName)) {
		errs = append(errs, field.Invalid(path.Child("resourceName"), args.ResourceName,
			"must be an extended resource name such as nvidia.com/gpu"))
	}
	if s := args.StarvationSeconds; s != nil && *s < 0 {
		errs = append(errs, field.Invalid(path.Child("starvationSeconds"), *s, "must not be negative (0 never holds room for a starving workload)"))
	}
	return errs.ToAggregate()
}
