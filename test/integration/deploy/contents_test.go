package deploy

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"sigs.k8s.io/yaml"

	"github.com/gantry-gpu/gantry/pkg/controller"
	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
	"github.com/gantry-gpu/gantry/pkg/scheduler"
	"github.com/gantry-gpu/gantry/test/framework"
)

// The only host folders any Gantry pod may mount: the kubelet's
// device-plugin and pod-resources socket folders.
var allowedHostPaths = []string{"/var/lib/kubelet/device-plugins", "/var/lib/kubelet/pod-resources"}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string, into any) {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return
		}
	}
	t.Fatalf("gantry.yaml has no %s %s", kind, name)
}

// TestRenderedManifestsAreLeastPrivilege checks what matters for security in
// deploy/manifests/gantry.yaml: no binding to a broad built-in role and no
// wildcard rules; no host namespaces, privileged containers or privilege
// escalation; every container drops all capabilities on a read-only root;
// host mounts are only the kubelet's two socket folders; the scheduler and
// the controller run as non-root (the device plugin needs root for the
// kubelet's sockets).
func TestRenderedManifestsAreLeastPrivilege(t *testing.T) {
	objs := readObjects(t, "gantry.yaml")
	broad := []string{"cluster-admin", "admin", "edit", "system:masters"}
	pods := map[string]corev1.PodSpec{}
	for _, u := range objs {
		switch u.GetKind() {
		case "ClusterRoleBinding", "RoleBinding":
			var b rbacv1.RoleBinding // same fields as a ClusterRoleBinding
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(broad, b.RoleRef.Name) {
				t.Errorf("%s %s binds %s", u.GetKind(), key(u), b.RoleRef.Name)
			}
			for _, s := range b.Subjects {
				if s.Kind == rbacv1.GroupKind {
					t.Errorf("%s %s binds group %s; Gantry binds only its service accounts", u.GetKind(), key(u), s.Name)
				}
			}
		case "ClusterRole", "Role":
			var r rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
				t.Fatal(err)
			}
			for _, rule := range r.Rules {
				for _, list := range [][]string{rule.Verbs, rule.Resources, rule.APIGroups, rule.NonResourceURLs} {
					if slices.Contains(list, "*") {
						t.Errorf("%s %s has a wildcard rule %+v", u.GetKind(), key(u), rule)
					}
				}
				if slices.Contains(rule.Resources, "secrets") {
					t.Errorf("%s %s can reach secrets: %+v", u.GetKind(), key(u), rule)
				}
			}
		case "Deployment":
			var d appsv1.Deployment
			find(t, objs, "Deployment", u.GetName(), &d)
			pods[u.GetName()] = d.Spec.Template.Spec
		case "DaemonSet":
			var d appsv1.DaemonSet
			find(t, objs, "DaemonSet", u.GetName(), &d)
			pods[u.GetName()] = d.Spec.Template.Spec
		}
	}
	for _, name := range []string{"gantry-scheduler", "gantry-controller", "gantry-device-plugin"} {
		if _, ok := pods[name]; !ok {
			t.Errorf("gantry.yaml has no workload %s", name)
		}
	}

	for name, spec := range pods {
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			t.Errorf("%s shares a host namespace", name)
		}
		if spec.PriorityClassName == "" {
			t.Errorf("%s has no priority class", name)
		}
		for _, v := range spec.Volumes {
			if v.HostPath != nil && !slices.Contains(allowedHostPaths, v.HostPath.Path) {
				t.Errorf("%s mounts host path %s; only %v are allowed", name, v.HostPath.Path, allowedHostPaths)
			}
		}
		nonRoot := spec.SecurityContext != nil && isTrue(spec.SecurityContext.RunAsNonRoot)
		if spec.SecurityContext == nil || spec.SecurityContext.SeccompProfile == nil ||
			spec.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: no RuntimeDefault seccomp profile", name)
		}
		for _, c := range append(spec.InitContainers, spec.Containers...) {
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s/%s has no security context", name, c.Name)
				continue
			}
			if isTrue(sc.Privileged) {
				t.Errorf("%s/%s is privileged", name, c.Name)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s/%s may escalate privileges", name, c.Name)
			}
			if !isTrue(sc.ReadOnlyRootFilesystem) {
				t.Errorf("%s/%s has a writable root filesystem", name, c.Name)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s/%s does not drop every capability: %+v", name, c.Name, sc.Capabilities)
			}
			if sc.RunAsNonRoot != nil {
				nonRoot = *sc.RunAsNonRoot
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
				t.Errorf("%s/%s requests no cpu or memory", name, c.Name)
			}
		}
		if name != "gantry-device-plugin" && !nonRoot {
			t.Errorf("%s does not run as non-root", name)
		}
	}

	ds := pods["gantry-device-plugin"]
	if ds.NodeSelector["nvidia.com/gpu.present"] != "true" {
		t.Errorf("the device plugin runs on nodes %v, want nvidia.com/gpu.present=true", ds.NodeSelector)
	}
	for _, want := range []corev1.Toleration{
		{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
	} {
		if !slices.Contains(ds.Tolerations, want) {
			t.Errorf("the device plugin does not tolerate %+v: %+v", want, ds.Tolerations)
		}
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// TestSchedulerConfigMapIsTheShippedConfig: the chart's ConfigMap carries
// deploy/config/scheduler-config.yaml (the file the tests and hack/local-up
// run) unchanged but for the lease, which is in the release namespace.
func TestSchedulerConfigMapIsTheShippedConfig(t *testing.T) {
	var cm corev1.ConfigMap
	find(t, readObjects(t, "gantry.yaml"), "ConfigMap", "gantry-scheduler-config", &cm)
	var got configv1.KubeSchedulerConfiguration
	if err := yaml.UnmarshalStrict([]byte(cm.Data["scheduler-config.yaml"]), &got); err != nil {
		t.Fatalf("the ConfigMap's scheduler-config.yaml: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "deploy", "config", "scheduler-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want configv1.KubeSchedulerConfiguration
	if err := yaml.UnmarshalStrict(raw, &want); err != nil {
		t.Fatal(err)
	}
	want.LeaderElection.ResourceNamespace = "gantry-system"
	if !reflect.DeepEqual(got, want) {
		gotY, _ := yaml.Marshal(got)
		wantY, _ := yaml.Marshal(want)
		t.Errorf("the chart's scheduler configuration differs from deploy/config/scheduler-config.yaml:\n--- chart\n%s\n--- want\n%s", gotY, wantY)
	}
	if got.LeaderElection.LeaderElect == nil || !*got.LeaderElection.LeaderElect {
		t.Error("the chart runs replicated schedulers without leader election")
	}
}

// TestWorkloadArgsAreTheBinariesFlags parses the rendered command lines with
// the binaries' own flag sets, so a renamed or misspelt flag fails here and
// not in a crash-looping pod.
func TestWorkloadArgsAreTheBinariesFlags(t *testing.T) {
	objs := readObjects(t, "gantry.yaml")
	parse := func(t *testing.T, fs *pflag.FlagSet, c corev1.Container) {
		t.Helper()
		if err := fs.Parse(c.Args); err != nil {
			t.Errorf("%s %v: %v", c.Name, c.Args, err)
		}
		if fs.NArg() > 0 {
			t.Errorf("%s: arguments that are not flags: %v", c.Name, fs.Args())
		}
	}

	var sched appsv1.Deployment
	find(t, objs, "Deployment", "gantry-scheduler", &sched)
	if r := sched.Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("scheduler replicas = %v, want 2", r)
	}
	c := sched.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Command, []string{"gantry-scheduler"}) {
		t.Errorf("scheduler command = %v", c.Command)
	}
	fs := scheduler.NewCommand().Flags()
	parse(t, fs, c)
	if cfg := fs.Lookup("config").Value.String(); cfg != "/etc/gantry/scheduler-config.yaml" ||
		!slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == filepath.Dir(cfg) }) {
		t.Errorf("scheduler --config=%s is not in a mounted folder (%+v)", cfg, c.VolumeMounts)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme != corev1.URISchemeHTTPS || p.HTTPGet.Port.String() != "https" {
			t.Errorf("scheduler probe %+v, want https on the secure port", p)
		}
	}

	var ds appsv1.DaemonSet
	find(t, objs, "DaemonSet", "gantry-device-plugin", &ds)
	c = ds.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Command, []string{"gantry-device-plugin"}) {
		t.Errorf("device plugin command = %v", c.Command)
	}
	fs = deviceplugin.NewCommand().Flags()
	parse(t, fs, c)
	for _, flag := range []string{"kubelet-socket-dir", "pod-resources-socket"} {
		path := fs.Lookup(flag).Value.String()
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return strings.HasPrefix(path, m.MountPath) }) {
			t.Errorf("device plugin --%s=%s is not in a mounted folder", flag, path)
		}
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName"
	}) {
		t.Error("the device plugin does not get NODE_NAME from spec.nodeName")
	}

	var ctrl appsv1.Deployment
	find(t, objs, "Deployment", "gantry-controller", &ctrl)
	c = ctrl.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Command, []string{"gantry-controller"}) {
		t.Errorf("controller command = %v", c.Command)
	}
	// The kubelet expands $(POD_NAMESPACE) from the container's env.
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace" {
			env[e.Name] = "gantry-system"
		}
	}
	expanded := c.DeepCopy()
	for i, a := range expanded.Args {
		for k, v := range env {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		expanded.Args[i] = a
	}
	fs = controller.NewCommand().Flags()
	parse(t, fs, *expanded)
	for flag, want := range map[string]string{"leader-elect": "true", "leader-elect-namespace": "gantry-system"} {
		if got := fs.Lookup(flag).Value.String(); got != want {
			t.Errorf("controller --%s=%s, want %s", flag, got, want)
		}
	}
	if got := fs.Lookup("leader-elect-lease-name").Value.String(); got != "gantry-controller" {
		t.Errorf("controller lease %s, but its Role allows only gantry-controller", got)
	}
}
