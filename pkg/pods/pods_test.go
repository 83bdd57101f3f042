package pods

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestGang(t *testing.T) {
	upstream := v1.PodSpec{SchedulingGroup: &v1.PodSchedulingGroup{PodGroupName: ptr.To("upstream")}}
	tests := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{"outside gangs", &v1.Pod{}, ""},
		{"label", &v1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{podGroupLabel: "sp"}}}, "sp"},
		{"schedulingGroup", &v1.Pod{Spec: upstream}, "upstream"},
		{"label wins", &v1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{podGroupLabel: "sp"}}, Spec: upstream}, "sp"},
	}
	for _, tt := range tests {
		if got := Gang(tt.pod); got != tt.want {
			t.Errorf("%s: Gang = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFinished(t *testing.T) {
	for phase, want := range map[v1.PodPhase]bool{v1.PodPending: false, v1.PodRunning: false, v1.PodSucceeded: true, v1.PodFailed: true, v1.PodUnknown: false} {
		if got := Finished(&v1.Pod{Status: v1.PodStatus{Phase: phase}}); got != want {
			t.Errorf("Finished(%s) = %v, want %v", phase, got, want)
		}
	}
}
