// Package controller tests gantry-controller against a real etcd and
// kube-apiserver (see test/framework): the controllers run in-process as
// the gantry-controller service account, with only the permissions
// deploy/rbac/controller.yaml grants, and the tests play scheduler and
// kubelet themselves (binding pods, setting their phase).
package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/pkg/clients"
	"github.com/gantry-gpu/gantry/pkg/controller"
	"github.com/gantry-gpu/gantry/pkg/controller/podgroup"
	"github.com/gantry-gpu/gantry/test/framework"
)

// Where deploy/rbac/controller.yaml puts the service account and its Lease.
const (
	systemNamespace = "gantry-system"
	serviceAccount  = "system:serviceaccount:gantry-system:gantry-controller"
	leaseName       = "gantry-controller"
)

var (
	controlPlane *framework.ControlPlane
	// kube is an admin client for the tests' own moves (binding pods,
	// setting their phase).
	kube kubernetes.Interface
)

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, "integration/controller", &controlPlane, setUp))
}

// setUp installs the controller's service account and RBAC, as shipped.
func setUp() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if kube, err = kubernetes.NewForConfig(controlPlane.Config); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: systemNamespace}}
	if err := controlPlane.Client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	_, err = controlPlane.ApplyManifest(ctx, filepath.Join(framework.RepoRoot(), "deploy", "rbac", "controller.yaml"))
	return err
}

// serviceAccountConfig authenticates as the admin and impersonates the
// controller's service account, so every request is authorized as it
// would be in the cluster.
func serviceAccountConfig() *rest.Config {
	cfg := rest.CopyConfig(controlPlane.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: serviceAccount,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + systemNamespace, "system:authenticated"},
	}
	return cfg
}

// instance is one in-process gantry-controller.
type instance struct {
	*controller.Manager
	// stopped is closed when Run has returned err.
	stopped chan struct{}
	err     error
}

// testOptions are short timings for tests: a gang is incomplete after 2s,
// every PodGroup is resynced every second (so a test can see that resyncs
// repeat no warning), and leader election retries every 200ms.
func testOptions() (controller.ManagerOptions, podgroup.Options) {
	return controller.ManagerOptions{
			BindAddress: "127.0.0.1:0",
			Workers:     2,
			LeaderElection: controller.LeaderElection{
				Enabled:       true,
				Namespace:     systemNamespace,
				Name:          leaseName,
				LeaseDuration: 15 * time.Second,
				RenewDeadline: 10 * time.Second,
				RetryPeriod:   200 * time.Millisecond,
			},
		}, podgroup.Options{
			IncompleteAfter: 2 * time.Second,
			Resync:          time.Second,
		}
}

// start runs a controller manager as the service account until the test
// ends; it stops (releasing the Lease) before the test's other cleanups.
func start(t *testing.T, identity string, mo controller.ManagerOptions, po podgroup.Options) *instance {
	t.Helper()
	cfg := serviceAccountConfig()
	cfg.UserAgent = "gantry-controller-test/" + identity
	cs, err := clients.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mo.LeaderElection.Identity = identity
	m := controller.NewManager(cs.Kube, mo)
	informers := controller.NewInformers(cs)
	m.AddInformers(informers)
	podGroupController, err := podgroup.New(cs.PodGroups, informers.Kube, informers.PodGroups, m.EventRecorder(podgroup.Name), po)
	if err != nil {
		t.Fatal(err)
	}
	m.Register(podGroupController)

	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), klog.Background().WithValues("instance", identity)))
	in := &instance{Manager: m, stopped: make(chan struct{})}
	go func() {
		defer close(in.stopped)
		in.err = m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.stopped:
			if in.err != nil && !errors.Is(in.err, context.Canceled) {
				t.Errorf("controller %s: %v", identity, in.err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("controller %s did not stop within 30s", identity)
		}
	})
	return in
}

// startLeader starts an instance and waits until it leads with its caches
// synced.
func startLeader(t *testing.T, identity string, po podgroup.Options) *instance {
	t.Helper()
	mo, _ := testOptions()
	in := start(t, identity, mo, po)
	poll(t, 30*time.Second, "the controller to lead and sync", func(context.Context) (bool, error) {
		select {
		case <-in.stopped:
			return false, fmt.Errorf("controller stopped: %v", in.err)
		default:
		}
		return in.Leading() && in.Addr() != nil && httpGet(in.Addr().String(), "/readyz") == nil, nil
	})
	return in
}
