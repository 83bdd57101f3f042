package podevents

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

func TestDeletedAssignedPod(t *testing.T) {
	bound := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: v1.PodSpec{NodeName: "n"}}
	pending := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	tests := []struct {
		name         string
		obj          any
		wantName     string
		wantAssigned bool
		wantErr      bool
	}{
		{"bound pod", bound, "b", true, false},
		{"pending pod", pending, "p", false, false},
		{"tombstone of a bound pod", toolscache.DeletedFinalStateUnknown{Key: "ns/b", Obj: bound}, "b", true, false},
		{"not a pod", &v1.Node{}, "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod, assigned, err := DeletedAssignedPod(tc.obj)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (pod.Name != tc.wantName || assigned != tc.wantAssigned) {
				t.Errorf("got %s assigned=%v, want %s assigned=%v", pod.Name, assigned, tc.wantName, tc.wantAssigned)
			}
		})
	}
}
