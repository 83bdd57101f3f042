// Package framework starts a real control plane for Gantry's integration
// tests: etcd and kube-apiserver built from the versions pinned in go.mod
// (`make tools`), on free loopback ports, with self-made certificates, a
// client-certificate admin in system:masters, Node and RBAC authorization
// on, and Gantry's and scheduler-plugins' CRDs installed. It is a thin layer
// over controller-runtime's envtest, which does the process and certificate
// work.
//
// Beside it, StartControllerManager runs kube-controller-manager (Jobs,
// CronJobs, Deployments...), and StartKWOK runs KWOK as the kubelet of
// nodes made with CreateKWOKGPUNode: pods bound to them run, and those
// annotated RunForAnnotation succeed after that long (kwok-stages.yaml).
// test/localcluster builds the local cluster of `make demo` and `make
// test-e2e` from these.
package framework

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// ToolsDirEnv names the folder holding etcd and kube-apiserver. It is the
// variable envtest itself reads, so `go test` and envtest agree.
const ToolsDirEnv = "KUBEBUILDER_ASSETS"

// APIServerEnv names another kube-apiserver binary in the tools folder
// for the control plane, e.g. kube-apiserver-1.36 (make test-skew): the
// tests then check Gantry against the API server release before its own.
const APIServerEnv = "GANTRY_KUBE_APISERVER"

// RepoRoot is the root of the Gantry source tree.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("framework: cannot locate its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// CRDDir is the folder of every CRD the control plane installs.
func CRDDir() string { return filepath.Join(RepoRoot(), "deploy", "crds") }

// ToolsDir returns the folder with the control-plane binaries, or an error
// that says how to build them.
func ToolsDir() (string, error) {
	dir := os.Getenv(ToolsDirEnv)
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "_output", "tools")
	}
	var missing []string
	for _, bin := range []string{"etcd", apiServerBinary()} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("control-plane binaries %v not found in %s: run `make tools` to build them from the versions pinned in go.mod (or set %s to a folder that has them)", missing, dir, ToolsDirEnv)
	}
	return dir, nil
}

// apiServerBinary is the name of the kube-apiserver binary tests run.
func apiServerBinary() string {
	if name := os.Getenv(APIServerEnv); name != "" {
		return name
	}
	return "kube-apiserver"
}

// Scheme knows the built-in types, Gantry's API and scheduler-plugins' PodGroup.
func Scheme() *k8sruntime.Scheme {
	s := k8sruntime.NewScheme()
	for _, add := range []func(*k8sruntime.Scheme) error{
		clientgoscheme.AddToScheme,
		apiextensionsv1.AddToScheme,
		gantryv1alpha1.AddToScheme,
		schedv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(fmt.Sprintf("framework: building scheme: %v", err))
		}
	}
	return s
}

// ControlPlane is a running etcd + kube-apiserver.
type ControlPlane struct {
	// Config authenticates as an admin (group system:masters).
	Config *rest.Config
	// Client is a client for Config that knows Scheme().
	Client client.Client
	// Kubeconfig is the path of a kubeconfig file for Config, for processes
	// started by a test.
	Kubeconfig string
	// LogDir, when set, is the folder where the processes started by
	// StartControllerManager and StartKWOK keep their logs and files (one
	// subfolder each); else each gets a temporary folder.
	LogDir string

	env *envtest.Environment
	dir string
}

// Start brings up a control plane with every CRD in CRDDir installed.
// Stop it with Stop.
func Start() (*ControlPlane, error) { return StartWith(nil) }

// StartWith is Start with extra kube-apiserver flags (name without dashes:
// value), for tests of an API the shared control plane does not serve,
// such as a beta API behind a feature gate ("feature-gates",
// "runtime-config").
func StartWith(apiServerFlags map[string]string) (*ControlPlane, error) {
	tools, err := ToolsDir()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    tools,
		CRDDirectoryPaths:        []string{CRDDir()},
		ErrorIfCRDPathMissing:    true,
		Scheme:                   Scheme(),
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	// The Node authorizer, as in a cluster, for real kubelets (StartKubelet),
	// which act as system:node:NAME; it has no say over any other user.
	env.ControlPlane.GetAPIServer().Configure().Set("authorization-mode", "Node,RBAC")
	env.ControlPlane.GetAPIServer().Path = filepath.Join(tools, apiServerBinary())
	for name, value := range apiServerFlags {
		env.ControlPlane.GetAPIServer().Configure().Set(name, value)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver from %s: %w", tools, err)
	}
	cp := &ControlPlane{Config: cfg, env: env}
	if err := cp.init(); err != nil {
		return nil, errors.Join(err, cp.Stop())
	}
	return cp, nil
}

func (cp *ControlPlane) init() error {
	c, err := client.New(cp.Config, client.Options{Scheme: cp.env.Scheme})
	if err != nil {
		return fmt.Errorf("building client: %w", err)
	}
	cp.Client = c
	cp.dir, err = os.MkdirTemp("", "gantry-controlplane-")
	if err != nil {
		return fmt.Errorf("making kubeconfig folder: %w", err)
	}
	cp.Kubeconfig = filepath.Join(cp.dir, "kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, cp.env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}

// Stop stops the control plane and removes its files.
func (cp *ControlPlane) Stop() error {
	err := cp.env.Stop()
	if cp.dir != "" {
		err = errors.Join(err, os.RemoveAll(cp.dir))
	}
	return err
}

// StartT starts a control plane for one test and stops it when the test ends.
func StartT(t testing.TB) *ControlPlane {
	t.Helper()
	return StartTWith(t, nil)
}

// StartTWith is StartT with extra kube-apiserver flags (see StartWith).
func StartTWith(t testing.TB, apiServerFlags map[string]string) *ControlPlane {
	t.Helper()
	cp, err := StartWith(apiServerFlags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stopping control plane: %v", err)
		}
	})
	return cp
}

// AddUser returns a config that authenticates as a new user with the given
// groups and, RBAC being on, no permissions beyond those groups'.
func (cp *ControlPlane) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, cp.Config)
	if err != nil {
		return nil, fmt.Errorf("adding user %s: %w", name, err)
	}
	return u.Config(), nil
}

// ImpersonatingKubeconfig writes a kubeconfig file that authenticates as the
// admin and impersonates the given user, groups and extra, for processes
// started by a test that must act as, say, a service account bound to a
// node (the extra a real pod's token carries).
func (cp *ControlPlane) ImpersonatingKubeconfig(user string, groups []string, extra map[string][]string) (string, error) {
	cfg := rest.CopyConfig(cp.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups, Extra: extra}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["test"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
		Impersonate: user, ImpersonateGroups: groups, ImpersonateUserExtra: extra,
	}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test"}
	kc.CurrentContext = "test"
	f, err := os.CreateTemp(cp.dir, "kubeconfig-*")
	if err != nil {
		return "", err
	}
	f.Close()
	if err := clientcmd.WriteToFile(*kc, f.Name()); err != nil {
		return "", fmt.Errorf("writing kubeconfig for %s: %w", user, err)
	}
	return f.Name(), nil
}

// RunTests is a test package's TestMain body: it starts one control plane
// for all the package's tests, stores it in *cp, runs setUp (if not nil)
// and the tests, stops the control plane and returns the exit code. Errors
// go to stderr, prefixed with pkg.
//
//	func TestMain(m *testing.M) { os.Exit(framework.RunTests(m, "kubectl", &controlPlane, nil)) }
func RunTests(m *testing.M, pkg string, cp **ControlPlane, setUp func() error) int {
	started, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", pkg, err)
		return 1
	}
	*cp = started
	code := 1
	if setUp == nil {
		code = m.Run()
	} else if err := setUp(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", pkg, err)
	} else {
		code = m.Run()
	}
	if err := started.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: stopping control plane: %v\n", pkg, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
