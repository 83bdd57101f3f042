package gputopology

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// MinLinkAnnotation is the pod annotation this plugin filters on.
const MinLinkAnnotation = gantryv1alpha1.MinGPULinkAnnotation

// linkTypeNames lists the API link types best first, for messages.
var linkTypeNames = []string{
	string(gantryv1alpha1.LinkNVLink), string(gantryv1alpha1.LinkSameBoard), string(gantryv1alpha1.LinkSingleSwitch),
	string(gantryv1alpha1.LinkMultipleSwitches), string(gantryv1alpha1.LinkHostBridge),
	string(gantryv1alpha1.LinkNUMANode), string(gantryv1alpha1.LinkSystem),
}

// GPURequest is how many whole GPUs of resource the pod holds at its peak,
// computed the way the kubelet's device manager hands devices out:
//
//   - app containers run together, so their amounts add up;
//   - restartable init containers (sidecars) keep their devices for the
//     pod's life, so they add to the app containers and to every init
//     container that starts after them;
//   - other init containers run one at a time before the app containers,
//     and their devices are handed on to the app containers, so each only
//     raises the peak.
//
// A container's amount is its limit of resource, or its request when it sets
// no limit (for extended resources the API server requires the two to be
// equal when both are set).
func GPURequest(pod *v1.Pod, resource v1.ResourceName) int {
	var apps, sidecars, initPeak int64
	for i := range pod.Spec.Containers {
		apps += amount(&pod.Spec.Containers[i], resource)
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		v := amount(c, resource)
		if c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways {
			sidecars += v
			initPeak = max(initPeak, sidecars)
			continue
		}
		initPeak = max(initPeak, sidecars+v)
	}
	return int(max(apps+sidecars, initPeak))
}

func amount(c *v1.Container, resource v1.ResourceName) int64 {
	q, ok := c.Resources.Limits[resource]
	if !ok {
		q, ok = c.Resources.Requests[resource]
	}
	if !ok {
		return 0
	}
	// Value rounds fractions up; GPUs are whole, and the API server
	// rejects fractional extended resources anyway.
	return max(q.Value(), 0)
}

// MinLink reads the pod's MinLinkAnnotation: gpu.LinkUnknown (no
// requirement) when absent, an error naming the annotation when invalid.
func MinLink(pod *v1.Pod) (gpu.LinkType, error) {
	v, ok := pod.Annotations[MinLinkAnnotation]
	if !ok {
		return gpu.LinkUnknown, nil
	}
	l, err := gpu.ParseLinkType(gantryv1alpha1.LinkType(strings.TrimSpace(v)))
	if err != nil {
		return gpu.LinkUnknown, fmt.Errorf("annotation %s: %q is not a GPU link type; use one of %s",
			MinLinkAnnotation, v, strings.Join(linkTypeNames, ", "))
	}
	return l, nil
}
