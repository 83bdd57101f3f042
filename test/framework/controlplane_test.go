package framework

import (
	"strings"
	"testing"
)

func TestToolsDirSaysHowToBuildMissingBinaries(t *testing.T) {
	empty := t.TempDir()
	t.Setenv(ToolsDirEnv, empty)

	_, err := ToolsDir()
	if err == nil {
		t.Fatal("ToolsDir() found binaries in an empty folder")
	}
	for _, want := range []string{"etcd", "kube-apiserver", empty, "make tools"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ToolsDir() error %q does not mention %q", err, want)
		}
	}
	if _, err := Start(); err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Errorf("Start() without binaries = %v, want the same advice", err)
	}
}
