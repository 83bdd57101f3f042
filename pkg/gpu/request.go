package gpu

import (
	v1 "k8s.io/api/core/v1"
)

// PodGPUs is how many whole GPUs of resource the pod holds at its peak,
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
func PodGPUs(pod *v1.Pod, resource v1.ResourceName) int {
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
