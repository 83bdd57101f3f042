package scheduler

import (
	"fmt"
	"slices"
	"sort"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	upstreamnames "k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"

	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/names"
)

// orderRule is one order among plugins that Gantry's decisions depend on,
// at one extension point.
type orderRule struct {
	point         string
	first, second string
	why           string
}

// orderRules are the orders the shipped profile sets and the plugins rely
// on. A profile that enables both plugins at the point must keep them.
var orderRules = []orderRule{
	{"preFilter", names.Queue, names.Gang,
		"GantryGang's PreFilter plans and holds room for a gang; it must only see gangs the queue admitted"},
	{"postFilter", names.Preemption, names.Gang,
		"GantryGang preempts whole gangs only for pods that preemption pod by pod could not place"},
	{"bind", names.GPUTopology, upstreamnames.DefaultBinder,
		"GantryGPUTopology binds GPU pods with their GPU set; DefaultBinder would bind them without it"},
}

// exclusions are in-tree plugins a Gantry plugin replaces: a profile
// that enables the Gantry plugin must not enable them.
var exclusions = []struct {
	plugin   string
	replaces []string
	why      string
}{
	{names.Gang, []string{upstreamnames.GangScheduling, upstreamnames.TopologyPlacementGenerator, upstreamnames.PodGroupPodsCount},
		"GantryGang replaces Kubernetes' workload plugins for every kind of gang, upstream PodGroups included " +
			"(plans against one snapshot, holds, GPU sets, whole-gang preemption, queue admission); " +
			"two gang plugins would each hold a gang's pods back for reasons the other does not know"},
}

// checkPluginOrder returns an error naming the profile and plugins when a
// profile breaks one of orderRules or exclusions, enables GantryGang
// without its QueueSort (a gang's members must be popped back to back), or
// enables GantryGang in a scheduler whose GenericWorkload gate is on.
func checkPluginOrder(profiles map[string]framework.Framework) error {
	genericWorkload := utilfeature.DefaultFeatureGate.Enabled(features.GenericWorkload)
	for _, name := range sortedKeys(profiles) {
		p := profiles[name].ListPlugins()
		if err := checkProfile(name, p); err != nil {
			return err
		}
		if err := checkGates(name, p, genericWorkload); err != nil {
			return err
		}
	}
	return nil
}

// checkGates refuses GantryGang with kube-scheduler's own GenericWorkload
// gate on: the scheduling queue would then take every pod with
// spec.schedulingGroup out of the pod-by-pod cycle, where GantryGang plans,
// holds and admits gangs, into kube-scheduler's pod-group cycle, run by
// the in-tree plugins GantryGang replaces. The API server's gate alone
// serves the PodGroup API that GantryGang reads.
func checkGates(profile string, p *config.Plugins, genericWorkload bool) error {
	if genericWorkload && p != nil && enabled(p, names.Gang) {
		return fmt.Errorf("profile %q: plugin %s cannot run with the feature gate %s on in the scheduler: "+
			"pods with spec.schedulingGroup would go to kube-scheduler's own pod-group cycle instead of %s; "+
			"run gantry-scheduler with --feature-gates=%s=false (the API server's gate alone serves the PodGroup API)",
			profile, names.Gang, features.GenericWorkload, names.Gang, features.GenericWorkload)
	}
	return nil
}

func checkProfile(profile string, p *config.Plugins) error {
	if p == nil {
		return nil
	}
	for _, x := range exclusions {
		if !enabled(p, x.plugin) {
			continue
		}
		for _, other := range x.replaces {
			if enabled(p, other) {
				return fmt.Errorf("profile %q: plugins %s and %s are both enabled; disable %s: %s",
					profile, x.plugin, other, other, x.why)
			}
		}
	}
	points := map[string]config.PluginSet{
		"preFilter":  p.PreFilter,
		"postFilter": p.PostFilter,
		"bind":       p.Bind,
	}
	for _, r := range orderRules {
		order := pluginNames(points[r.point])
		i, j := slices.Index(order, r.first), slices.Index(order, r.second)
		if i >= 0 && j >= 0 && i > j {
			return fmt.Errorf("profile %q: plugin %s must come before %s at %s (now %v): %s",
				profile, r.first, r.second, r.point, order, r.why)
		}
	}
	gangEnabled := slices.Contains(pluginNames(p.PreFilter), names.Gang) || slices.Contains(pluginNames(p.Permit), names.Gang)
	if sorts := pluginNames(p.QueueSort); gangEnabled && !slices.Equal(sorts, []string{names.Gang}) {
		return fmt.Errorf("profile %q: plugin %s is enabled but queueSort is %v, want [%s]: a gang's members must be popped back to back",
			profile, names.Gang, sorts, names.Gang)
	}
	return nil
}

// enabled reports whether the profile enables the plugin at any extension
// point.
func enabled(p *config.Plugins, plugin string) bool {
	for _, s := range []config.PluginSet{
		p.PreEnqueue, p.QueueSort, p.PreFilter, p.Filter, p.PostFilter, p.PreScore, p.Score,
		p.Reserve, p.Permit, p.PreBind, p.Bind, p.PostBind, p.MultiPoint,
		p.PlacementGenerate, p.PlacementScore, p.PodGroupPostFilter,
	} {
		if slices.Contains(pluginNames(s), plugin) {
			return true
		}
	}
	return false
}

func pluginNames(s config.PluginSet) []string {
	out := make([]string, len(s.Enabled))
	for i, p := range s.Enabled {
		out[i] = p.Name
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
