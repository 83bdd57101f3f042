package gangs

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	splisters "sigs.k8s.io/scheduler-plugins/pkg/generated/listers/scheduling/v1alpha1"
)

var t0 = time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)

func newPodGroups(t testing.TB, groups ...*schedv1alpha1.PodGroup) (*PodGroups, toolscache.Indexer) {
	t.Helper()
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})
	for _, pg := range groups {
		if err := store.Add(pg); err != nil {
			t.Fatal(err)
		}
	}
	return NewPodGroups(klog.Background(), splisters.NewPodGroupLister(store)), store
}

func podGroup(name string, minMember int32, created time.Time) *schedv1alpha1.PodGroup {
	return &schedv1alpha1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: "1", CreationTimestamp: metav1.NewTime(created)},
		Spec:       schedv1alpha1.PodGroupSpec{MinMember: minMember},
	}
}

// gangPod is a pending pod of gang (none when "").
func gangPod(name, gang string) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c"}}},
	}
	if gang != "" {
		p.Labels = map[string]string{PodGroupLabel: gang}
	}
	return p
}
