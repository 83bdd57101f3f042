// Package version reports the build of Gantry's binaries.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version and GitCommit are stamped at link time by the Makefile
// (-X github.com/gantry-gpu/gantry/pkg/version.Version=...).
var (
	Version   = "v0.0.0-dev"
	GitCommit = "unknown"
)

// Info is the build of one binary.
type Info struct {
	Binary     string
	Version    string
	GitCommit  string
	Kubernetes string
	Go         string
}

// Get returns the build of the named binary.
func Get(binary string) Info {
	return Info{
		Binary:     binary,
		Version:    Version,
		GitCommit:  GitCommit,
		Kubernetes: kubernetesVersion(),
		Go:         runtime.Version(),
	}
}

// String is the one line that --version prints.
func (i Info) String() string {
	return fmt.Sprintf("%s %s (commit %s, kubernetes %s, %s)", i.Binary, i.Version, i.GitCommit, i.Kubernetes, i.Go)
}

// kubernetesVersion is the Kubernetes release the binary was built against:
// k8s.io/kubernetes where it is linked in, else the staging module
// k8s.io/apimachinery, whose v0.X.Y is released with Kubernetes v1.X.Y.
func kubernetesVersion() string {
	if v := moduleVersion("k8s.io/kubernetes"); v != "" {
		return v
	}
	if v, ok := strings.CutPrefix(moduleVersion("k8s.io/apimachinery"), "v0."); ok {
		return "v1." + v
	}
	return "unknown"
}

// moduleVersion is the version of a dependency the binary was built with,
// following replace directives, because go.mod pins Kubernetes by replace.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, m := range bi.Deps {
		if m.Path != path {
			continue
		}
		if m.Replace != nil {
			return m.Replace.Version
		}
		return m.Version
	}
	return ""
}
