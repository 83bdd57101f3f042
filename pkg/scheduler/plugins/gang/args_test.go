package gang

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name    string
		obj     runtime.Object
		want    *GangArgs
		wantErr []string
	}{{
		name: "no configuration",
		want: &GangArgs{DefaultPermitTimeoutSeconds: 60, ResourceName: "nvidia.com/gpu"},
	}, {
		name: "raw JSON, left-out fields defaulted",
		obj:  &runtime.Unknown{Raw: []byte(`{"topologyKeys":["nvidia.com/gpu.clique","topology.kubernetes.io/rack"]}`), ContentType: runtime.ContentTypeJSON},
		want: &GangArgs{DefaultPermitTimeoutSeconds: 60, ResourceName: "nvidia.com/gpu", TopologyKeys: []string{"nvidia.com/gpu.clique", "topology.kubernetes.io/rack"}},
	}, {
		name: "typed",
		obj:  &GangArgs{DefaultPermitTimeoutSeconds: 30, ResourceName: "example.com/gpu"},
		want: &GangArgs{DefaultPermitTimeoutSeconds: 30, ResourceName: "example.com/gpu"},
	}, {
		name:    "misspelt field",
		obj:     &runtime.Unknown{Raw: []byte(`{"permitTimeoutSeconds":30}`), ContentType: runtime.ContentTypeJSON},
		wantErr: []string{`unknown field "permitTimeoutSeconds"`},
	}, {
		name: "bad values name their fields",
		obj: &runtime.Unknown{Raw: []byte(`{"defaultPermitTimeoutSeconds":3600,"resourceName":"cpu","topologyKeys":["rack","rack","bad key"]}`),
			ContentType: runtime.ContentTypeJSON},
		wantErr: []string{"defaultPermitTimeoutSeconds: Invalid value: 3600", "resourceName: Invalid value: \"cpu\"",
			"topologyKeys[1]: Duplicate value", "topologyKeys[2]: Invalid value"},
	}, {
		name:    "negative timeout",
		obj:     &GangArgs{DefaultPermitTimeoutSeconds: -1},
		wantErr: []string{"defaultPermitTimeoutSeconds"},
	}, {
		name:    "another plugin's args",
		obj:     &runtime.Unknown{Raw: []byte(`[]`), ContentType: runtime.ContentTypeJSON},
		wantErr: []string{"decoding GantryGang args"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseArgs(tc.obj)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ParseArgs = %+v, want an error", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.DefaultPermitTimeoutSeconds != tc.want.DefaultPermitTimeoutSeconds || got.ResourceName != tc.want.ResourceName ||
				strings.Join(got.TopologyKeys, ",") != strings.Join(tc.want.TopologyKeys, ",") {
				t.Errorf("ParseArgs = %+v, want %+v", got, tc.want)
			}
		})
	}
	if d := DefaultArgs().DefaultPermitTimeout(); d != time.Minute {
		t.Errorf("default permit timeout %v", d)
	}
}
