package queue

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     string
		want    QueueArgs
		wantErr string
	}{
		{name: "none", want: QueueArgs{ResourceName: "nvidia.com/gpu"}},
		{name: "all fields", raw: `{"resourceName":"amd.com/gpu","requireDefaultQueue":true}`, want: QueueArgs{ResourceName: "amd.com/gpu", RequireDefaultQueue: true}},
		{name: "bad resource", raw: `{"resourceName":"cpu"}`, wantErr: "resourceName"},
		{name: "unknown field", raw: `{"resourceNames":"x"}`, wantErr: "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var obj runtime.Object
			if tc.raw != "" {
				obj = &runtime.Unknown{Raw: []byte(tc.raw), ContentType: runtime.ContentTypeJSON}
			}
			got, err := ParseArgs(obj)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Errorf("args = %+v, want %+v", *got, tc.want)
			}
		})
	}
}
