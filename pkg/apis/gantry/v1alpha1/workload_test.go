package v1alpha1

import "testing"

func TestQueueOf(t *testing.T) {
	label := func(q string) map[string]string { return map[string]string{QueueLabel: q} }
	tests := []struct {
		name                 string
		pod, podGroup, space map[string]string
		want                 string
		wantSource           QueueSource
	}{
		{"the pod's label first", label("a"), label("b"), label("c"), "a", QueueFromPod},
		{"then its PodGroup's", nil, label("b"), label("c"), "b", QueueFromPodGroup},
		{"then its namespace's", map[string]string{"app": "x"}, nil, label("c"), "c", QueueFromNamespace},
		{"an empty label names nothing", label(""), label(""), label("c"), "c", QueueFromNamespace},
		{"else the default queue", nil, nil, nil, DefaultQueueName, QueueFromDefault},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, source := QueueOf(tc.pod, tc.podGroup, tc.space)
			if got != tc.want || source != tc.wantSource {
				t.Errorf("QueueOf = %q (%s), want %q (%s)", got, source, tc.want, tc.wantSource)
			}
		})
	}
}
