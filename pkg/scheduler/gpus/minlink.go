package gpus

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
