package gang

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"

	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/pluginargs"
)

// Defaults of GangArgs.
const (
	DefaultPermitTimeoutSeconds = 60
	DefaultResourceName         = "nvidia.com/gpu"

	// MaxPermitTimeoutSeconds is the framework's own bound on a wait in
	// Permit (15 minutes); longer waits are cut to it.
	MaxPermitTimeoutSeconds = 15 * 60
)

// GangArgs configures the plugin (pluginConfig args of GantryGang). A field
// left out of the configuration keeps its default.
type GangArgs struct {
	metav1.TypeMeta `json:",inline"`

	// DefaultPermitTimeoutSeconds is how long a gang's members wait in
	// Permit for the rest of the gang when its PodGroup sets no
	// spec.scheduleTimeoutSeconds; then every waiting member is rejected
	// and the gang tries again after backing off. 1 to 900.
	DefaultPermitTimeoutSeconds int64 `json:"defaultPermitTimeoutSeconds,omitempty"`
	// TopologyKeys are node label keys of topology domains, most specific
	// first (e.g. an NVLink clique, the rack, the spine). A gang is placed
	// inside one domain of the first key where one fits it whole, else
	// anywhere. Keep them equal to GantryGPUTopology's topologyKeys.
	TopologyKeys []string `json:"topologyKeys,omitempty"`
	// ResourceName is the extended resource that counts whole GPUs.
	ResourceName string `json:"resourceName,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (a *GangArgs) DeepCopyObject() runtime.Object { return a.DeepCopy() }

// DeepCopy returns a copy of a.
func (a *GangArgs) DeepCopy() *GangArgs {
	if a == nil {
		return nil
	}
	out := *a
	out.TopologyKeys = append([]string(nil), a.TopologyKeys...)
	return &out
}

// DefaultArgs returns the arguments used where the configuration says nothing.
func DefaultArgs() *GangArgs {
	a := &GangArgs{}
	SetDefaultsGangArgs(a)
	return a
}

// SetDefaultsGangArgs fills the fields left out: 0 is no valid timeout, and
// an empty resource name no valid resource.
func SetDefaultsGangArgs(a *GangArgs) {
	if a.DefaultPermitTimeoutSeconds == 0 {
		a.DefaultPermitTimeoutSeconds = DefaultPermitTimeoutSeconds
	}
	if a.ResourceName == "" {
		a.ResourceName = DefaultResourceName
	}
}

// DefaultPermitTimeout is DefaultPermitTimeoutSeconds as a duration.
func (a *GangArgs) DefaultPermitTimeout() time.Duration {
	return time.Duration(a.DefaultPermitTimeoutSeconds) * time.Second
}

// ParseArgs reads the plugin's configuration: nil (no pluginConfig entry),
// the raw JSON or YAML the scheduler's configuration loader hands out-of-tree
// plugins (unknown fields are an error, so a misspelt field is not silently
// ignored), or a *GangArgs. The result is defaulted and validated.
func ParseArgs(obj runtime.Object) (*GangArgs, error) {
	args, err := pluginargs.Decode(Name, obj, func() *GangArgs { return &GangArgs{} })
	if err != nil {
		return nil, err
	}
	SetDefaultsGangArgs(args)
	if err := ValidateGangArgs(nil, args); err != nil {
		return nil, fmt.Errorf("invalid %s args: %w", Name, err)
	}
	return args, nil
}

// ValidateGangArgs checks args, naming each bad field under path.
func ValidateGangArgs(path *field.Path, args *GangArgs) error {
	var errs field.ErrorList
	if args.DefaultPermitTimeoutSeconds < 1 || args.DefaultPermitTimeoutSeconds > MaxPermitTimeoutSeconds {
		errs = append(errs, field.Invalid(path.Child("defaultPermitTimeoutSeconds"), args.DefaultPermitTimeoutSeconds,
			fmt.Sprintf("must be between 1 and %d (the framework's longest wait in Permit)", MaxPermitTimeoutSeconds)))
	}
	if !v1helper.IsExtendedResourceName(v1.ResourceName(args.ResourceName)) {
		errs = append(errs, field.Invalid(path.Child("resourceName"), args.ResourceName,
			"must be an extended resource name such as nvidia.com/gpu"))
	}
	seen := sets.New[string]()
	for i, key := range args.TopologyKeys {
		p := path.Child("topologyKeys").Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(key, p)...)
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(p, key))
		}
		seen.Insert(key)
	}
	return errs.ToAggregate()
}
