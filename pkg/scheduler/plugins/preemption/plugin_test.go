package preemption

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/validation"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name           string
		obj            runtime.Object
		wantPercentage int32
		wantAbsolute   int32
		wantErr        string
	}{
		{name: "none", wantPercentage: 10, wantAbsolute: 100},
		{name: "raw", obj: &runtime.Unknown{Raw: []byte(`{"minCandidateNodesPercentage": 30}`), ContentType: runtime.ContentTypeJSON}, wantPercentage: 30, wantAbsolute: 100},
		{name: "unknown field", obj: &runtime.Unknown{Raw: []byte(`{"minCandidateNodes": 30}`), ContentType: runtime.ContentTypeJSON}, wantErr: "minCandidateNodes"},
		{name: "out of range", obj: &runtime.Unknown{Raw: []byte(`{"minCandidateNodesPercentage": 130}`), ContentType: runtime.ContentTypeJSON}, wantErr: "minCandidateNodesPercentage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args, err := ParseArgs(tc.obj)
			if err == nil {
				// New validates with DefaultPreemption's own rules.
				err = validation.ValidateDefaultPreemptionArgs(nil, args)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if args.MinCandidateNodesPercentage != tc.wantPercentage || args.MinCandidateNodesAbsolute != tc.wantAbsolute {
				t.Fatalf("args %+v", args)
			}
		})
	}
}

func TestEligible(t *testing.T) {
	member := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "m", Labels: map[string]string{schedv1alpha1.PodGroupLabel: "g"}}}
	single := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "s", Labels: map[string]string{"app": "x"}}}
	for _, tc := range []struct {
		pod  *v1.Pod
		want bool
	}{{member, false}, {single, true}} {
		pi, err := framework.NewPodInfo(tc.pod)
		if err != nil {
			t.Fatal(err)
		}
		victim, err := preemption.NewVictim([]fwk.PodInfo{pi}, 0, fwk.PodKeyType)
		if err != nil {
			t.Fatal(err)
		}
		if got := Eligible(nil, victim, &v1.Pod{}); got != tc.want {
			t.Errorf("Eligible(%s) = %v, want %v", tc.pod.Name, got, tc.want)
		}
	}
}
