package gputopology

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/pluginargs"
)

// Defaults of GPUTopologyArgs.
const (
	DefaultResourceName   = "nvidia.com/gpu"
	DefaultQualityWeight  = 60
	DefaultPackingWeight  = 40
	DefaultNoNodeGPUScore = 10
)

// GPUTopologyArgs configures the plugin (pluginConfig args of
// GantryGPUTopology). A field left out of the configuration keeps its
// default; a field given as 0 is 0.
type GPUTopologyArgs struct {
	metav1.TypeMeta `json:",inline"`

	// ResourceName is the extended resource that counts whole GPUs.
	ResourceName string `json:"resourceName,omitempty"`
	// QualityWeight weighs the quality of the best set on a node (its
	// worst link) in the node's score, 0 to 100.
	QualityWeight int64 `json:"qualityWeight"`
	// PackingWeight weighs best-fit packing in the node's score, 0 to 100.
	// At least one of the two weights must be positive.
	PackingWeight int64 `json:"packingWeight"`
	// NoNodeGPUScore is the score, 0 to 100, of a node that has no usable
	// NodeGPU: such nodes are used, but after the nodes Gantry can see into.
	NoNodeGPUScore int64 `json:"noNodeGPUScore"`
}

// DeepCopyObject implements runtime.Object, so typed args can be handed to
// New like the in-tree plugins' args.
func (a *GPUTopologyArgs) DeepCopyObject() runtime.Object { return a.DeepCopy() }

// DeepCopy returns a copy of a.
func (a *GPUTopologyArgs) DeepCopy() *GPUTopologyArgs {
	if a == nil {
		return nil
	}
	out := *a
	return &out
}

// DefaultArgs returns the arguments used where the configuration says nothing.
func DefaultArgs() *GPUTopologyArgs {
	a := &GPUTopologyArgs{}
	SetDefaultsGPUTopologyArgs(a)
	a.QualityWeight, a.PackingWeight, a.NoNodeGPUScore = DefaultQualityWeight, DefaultPackingWeight, DefaultNoNodeGPUScore
	return a
}

// SetDefaultsGPUTopologyArgs fills the fields whose zero value cannot be
// meant: an empty resource name. Numbers are defaulted by decoding onto
// DefaultArgs (see ParseArgs), because 0 is a valid weight or score.
func SetDefaultsGPUTopologyArgs(a *GPUTopologyArgs) {
	if a.ResourceName == "" {
		a.ResourceName = DefaultResourceName
	}
}

// ParseArgs reads the plugin's configuration: nil (no pluginConfig entry),
// the raw JSON or YAML the scheduler's configuration loader hands out-of-tree
// plugins (decoded onto the defaults, so left-out fields keep them; unknown
// fields are an error, so a misspelt weight is not silently ignored), or a
// *GPUTopologyArgs. The result is validated.
func ParseArgs(obj runtime.Object) (*GPUTopologyArgs, error) {
	args, err := pluginargs.Decode(Name, obj, DefaultArgs)
	if err != nil {
		return nil, err
	}
	SetDefaultsGPUTopologyArgs(args)
	if err := ValidateGPUTopologyArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid %s args: %w", Name, err)
	}
	return args, nil
}

// ValidateGPUTopologyArgs checks args, naming each bad field under path.
func ValidateGPUTopologyArgs(path *field.Path, args *GPUTopologyArgs) error {
	var errs field.ErrorList
	if !v1helper.IsExtendedResourceName(v1.ResourceName(args.ResourceName)) {
		errs = append(errs, field.Invalid(path.Child("resourceName"), args.ResourceName,
			"must be an extended resource name such as nvidia.com/gpu"))
	}
	for _, f := range []struct {
		name  string
		value int64
	}{
		{"qualityWeight", args.QualityWeight},
		{"packingWeight", args.PackingWeight},
		{"noNodeGPUScore", args.NoNodeGPUScore},
	} {
		if f.value < 0 || f.value > gpus.MaxScore {
			errs = append(errs, field.Invalid(path.Child(f.name), f.value, fmt.Sprintf("must be between 0 and %d", gpus.MaxScore)))
		}
	}
	if args.QualityWeight == 0 && args.PackingWeight == 0 {
		errs = append(errs, field.Invalid(path.Child("packingWeight"), args.PackingWeight,
			"qualityWeight and packingWeight cannot both be 0"))
	}
	return errs.ToAggregate()
}
