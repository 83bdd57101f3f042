// Package preemption is gantry-scheduler's GantryPreemption: kube-scheduler's
// DefaultPreemption, except that it never chooses a pod of a gang (labelled
// scheduling.x-k8s.io/pod-group) as a victim. DefaultPreemption picks
// victims pod by pod on one node; taking one member of a gang would leave
// the rest of the gang holding GPUs it cannot use. Gangs are preempted only
// whole, by GantryGang's PostFilter, which runs after this plugin: for a
// gang's members, and for any pod this plugin found no victims for.
package preemption

import (
	"context"
	"fmt"

	"github.com/gantry-gpu/gantry/pkg/pods"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	configv1 "k8s.io/kube-scheduler/config/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultpreemption"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/pluginargs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/names"
)

// Name is the plugin's name in the registry and in scheduler configurations.
const Name = names.Preemption

// Defaults of the args, DefaultPreemption's own.
const (
	DefaultMinCandidateNodesPercentage = 10
	DefaultMinCandidateNodesAbsolute   = 100
)

// Preemption is the plugin: DefaultPreemption under another name, with its
// victims limited to pods outside gangs.
type Preemption struct {
	*defaultpreemption.DefaultPreemption
}

var (
	_ fwk.PostFilterPlugin  = &Preemption{}
	_ fwk.PreEnqueuePlugin  = &Preemption{}
	_ fwk.EnqueueExtensions = &Preemption{}
)

// Name implements fwk.Plugin.
func (pl *Preemption) Name() string { return Name }

// New builds the plugin. Its args are DefaultPreemption's
// (minCandidateNodesPercentage, minCandidateNodesAbsolute), checked by
// DefaultPreemption's own validation, so a bad value stops the scheduler at
// start with a message naming the field.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
	args, err := ParseArgs(obj)
	if err != nil {
		return nil, err
	}
	dp, err := defaultpreemption.New(ctx, args, h, feature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	dp.IsEligiblePod = Eligible
	return &Preemption{DefaultPreemption: dp}, nil
}

// Eligible reports whether the victim may be preempted pod by pod: only if
// none of its pods belongs to a gang (GantryGang preempts gangs whole).
func Eligible(_ fwk.NodeInfo, victim preemption.Victim, _ *v1.Pod) bool {
	for _, pi := range victim.Pods() {
		if pods.Gang(pi.GetPod()) != "" {
			return false
		}
	}
	return true
}

// ParseArgs reads the plugin's args (nil, DefaultPreemption's versioned
// args as an object, or raw JSON/YAML with no unknown field) and returns
// DefaultPreemption's internal args with the defaults filled in.
func ParseArgs(obj runtime.Object) (*config.DefaultPreemptionArgs, error) {
	v, err := pluginargs.Decode[configv1.DefaultPreemptionArgs](Name, obj, func() *configv1.DefaultPreemptionArgs {
		return &configv1.DefaultPreemptionArgs{}
	})
	if err != nil {
		return nil, err
	}
	args := &config.DefaultPreemptionArgs{
		MinCandidateNodesPercentage: DefaultMinCandidateNodesPercentage,
		MinCandidateNodesAbsolute:   DefaultMinCandidateNodesAbsolute,
	}
	if v.MinCandidateNodesPercentage != nil {
		args.MinCandidateNodesPercentage = *v.MinCandidateNodesPercentage
	}
	if v.MinCandidateNodesAbsolute != nil {
		args.MinCandidateNodesAbsolute = *v.MinCandidateNodesAbsolute
	}
	return args, nil
}
