package scheduler

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
	featuregatetesting "k8s.io/component-base/featuregate/testing"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/kubernetes/pkg/features"
)

func TestAdaptGatesToServer(t *testing.T) {
	tests := []struct {
		name      string
		resources []*metav1.APIResourceList
		wantOn    bool
	}{
		{"1.37 serves resource.k8s.io/v1 devicetaintrules", []*metav1.APIResourceList{{
			GroupVersion: "resource.k8s.io/v1",
			APIResources: []metav1.APIResource{{Name: "resourceclaims"}, {Name: "devicetaintrules"}},
		}}, true},
		{"1.36 serves resource.k8s.io/v1 without devicetaintrules", []*metav1.APIResourceList{{
			GroupVersion: "resource.k8s.io/v1",
			APIResources: []metav1.APIResource{{Name: "resourceclaims"}, {Name: "resourceslices"}},
		}}, false},
		{"no resource.k8s.io/v1 at all", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			featuregatetesting.SetFeatureGateDuringTest(t, utilfeature.DefaultFeatureGate, features.DRADeviceTaintRules, true)
			disc := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: tt.resources}}
			_, ctx := ktesting.NewTestContext(t)
			if err := adaptGatesToServer(ctx, disc); err != nil {
				t.Fatal(err)
			}
			if got := utilfeature.DefaultFeatureGate.Enabled(features.DRADeviceTaintRules); got != tt.wantOn {
				t.Errorf("DRADeviceTaintRules on = %v, want %v", got, tt.wantOn)
			}
		})
	}
}
