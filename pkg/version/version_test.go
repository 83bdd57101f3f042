package version

import (
	"strings"
	"testing"
)

func TestInfoString(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"

	got := Get("gantry-scheduler").String()
	for _, want := range []string{"gantry-scheduler v1.2.3", "kubernetes ", "go1."} {
		if !strings.Contains(got, want) {
			t.Errorf("Get().String() = %q, want it to contain %q", got, want)
		}
	}
}
