package scheduler

import (
	"context"
	"fmt"
	"slices"

	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/discovery"
	"k8s.io/component-base/featuregate"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/features"
)

// servedResourceGates are kube-scheduler feature gates, on by default in
// Gantry's Kubernetes release, that make the scheduler watch a resource
// the API server release before serves at another version or not at all.
// An informer of an unserved resource never syncs, and kube-scheduler
// waits for every informer before it schedules: against such a server
// the scheduler would never schedule a pod.
var servedResourceGates = []struct {
	gate     featuregate.Feature
	version  schema.GroupVersion
	resource string
}{
	// GA in 1.37 (resource.k8s.io/v1); beta and off by default in 1.36,
	// at v1beta2.
	{features.DRADeviceTaintRules, resourcev1.SchemeGroupVersion, "devicetaintrules"},
}

// adaptGatesToServer turns off each gate of servedResourceGates whose
// resource the API server does not serve, with a log line saying why: the
// feature cannot work against that server, and left on it would stop the
// scheduler from scheduling at all. A discovery error other than "not
// found" leaves the gates as they are (kube-scheduler then reports the API
// server as it would).
func adaptGatesToServer(ctx context.Context, disc discovery.DiscoveryInterface) error {
	logger := klog.FromContext(ctx)
	off := map[string]bool{}
	for _, g := range servedResourceGates {
		if !utilfeature.DefaultFeatureGate.Enabled(g.gate) {
			continue
		}
		list, err := disc.ServerResourcesForGroupVersion(g.version.String())
		if err != nil && !apierrors.IsNotFound(err) {
			logger.Info("Could not ask the API server which resources it serves; feature gates left as they are", "groupVersion", g.version, "err", err)
			continue
		}
		if list != nil && slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == g.resource }) {
			continue
		}
		logger.Info("Turning a feature gate off: the API server does not serve the resource it needs (an older Kubernetes release)",
			"featureGate", g.gate, "resource", g.resource, "groupVersion", g.version)
		off[string(g.gate)] = false
	}
	if len(off) == 0 {
		return nil
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(off); err != nil {
		return fmt.Errorf("turning off feature gates the API server cannot serve: %w", err)
	}
	return nil
}
