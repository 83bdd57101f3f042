package queue

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     string
		want    QueueArgs
		wantErr string
	}{
		{name: "none", want: QueueArgs{ResourceName: "nvidia.com/gpu", StarvationSeconds: ptr.To[int32](300), FairShareReclaim: ptr.To(false)}},
		{name: "all fields", raw: `{"resourceName":"amd.com/gpu","requireDefaultQueue":true,"starvationSeconds":0,"fairShareReclaim":true}`, want: QueueArgs{ResourceName: "amd.com/gpu", RequireDefaultQueue: true, StarvationSeconds: ptr.To[int32](0), FairShareReclaim: ptr.To(true)}},
		{name: "bad resource", raw: `{"resourceName":"cpu"}`, wantErr: "resourceName"},
		{name: "negative starvation", raw: `{"starvationSeconds":-1}`, wantErr: "starvationSeconds"},
		{name: "fairShareReclaim not a bool", raw: `{"fairShareReclaim":"yes"}`, wantErr: "fairShareReclaim"},
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
			if !equality.Semantic.DeepEqual(*got, tc.want) {
				t.Errorf("args = %+v, want %+v", *got, tc.want)
			}
		})
	}
}
