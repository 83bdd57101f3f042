package kubectl

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/kubectlgantry"
)

// execute runs kubectl-gantry in-process with exactly args (no
// --kubeconfig added) and returns what it wrote to stdout and stderr.
func execute(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd := kubectlgantry.NewCommand(&out, &errOut)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// testContexts checks --context, --cluster and -n against a kubeconfig
// whose current context points at a server that is not there, and whose
// context "kg" points at the control plane with namespace ns.
func testContexts(t *testing.T, ns string) {
	kc, err := clientcmd.LoadFromFile(controlPlane.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	admin := kc.Contexts[kc.CurrentContext]
	kc.Clusters["nowhere"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	kc.Contexts["kg"] = &clientcmdapi.Context{Cluster: admin.Cluster, AuthInfo: admin.AuthInfo, Namespace: ns}
	kc.Contexts["broken"] = &clientcmdapi.Context{Cluster: "nowhere", AuthInfo: admin.AuthInfo, Namespace: ns}
	kc.CurrentContext = "broken"
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}

	// The current context's server is not there: the command must fail,
	// and say where it tried.
	if _, _, err := execute("gangs", "--kubeconfig", kubeconfig, "--request-timeout", "10s"); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("gangs in context broken: %v, want a connection error naming 127.0.0.1:1", err)
	}
	// --context picks the good one, and its namespace.
	out, _, err := execute("gangs", "--kubeconfig", kubeconfig, "--context", "kg")
	if err != nil {
		t.Fatalf("gangs --context kg: %v", err)
	}
	mustContain(t, "gangs --context kg", out, "big PodGroup 3 1 0 0 Pending* inference", "train PodGroup 2 2 2 2 Running* research")
	// -n wins over the context's namespace.
	out, _, err = execute("gangs", "--kubeconfig", kubeconfig, "--context", "kg", "-n", "default")
	if err != nil || out != "No gangs found in namespace default.\n" {
		t.Errorf("gangs --context kg -n default = %q, %v; want no gangs in default", out, err)
	}
	// --cluster overrides the broken context's cluster, which keeps its namespace.
	out, _, err = execute("gangs", "--kubeconfig", kubeconfig, "--cluster", admin.Cluster, "-o", "name")
	if err != nil || !strings.Contains(out, "podgroup.scheduling.x-k8s.io/train\n") {
		t.Errorf("gangs --cluster %s -o name = %q, %v; want the gangs of %s", admin.Cluster, out, err, ns)
	}
	if _, _, err := execute("queues", "--kubeconfig", kubeconfig, "--context", "nope"); err == nil || !strings.Contains(err.Error(), `context "nope" does not exist`) {
		t.Errorf("--context nope: %v, want the context named as missing", err)
	}
}

// testImpersonation grants user alice read access to the gangs of ns
// alone, and group kg-viewers what the queues command reads cluster-wide,
// then checks what --as and --as-group get, and that what is refused says
// who was refused what.
func testImpersonation(ctx context.Context, t *testing.T, ns string) {
	c := controlPlane.Client
	gangReader := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gang-reader"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: []string{"list"}},
			{APIGroups: []string{schedv1alpha1.SchemeGroupVersion.Group}, Resources: []string{"podgroups"}, Verbs: []string{"list"}},
		},
	}
	aliceReadsGangs := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-reads-gangs"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: gangReader.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "alice"}},
	}
	queueViewer := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kg-queue-viewer"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "namespaces"}, Verbs: []string{"list"}},
			{APIGroups: []string{schedv1alpha1.SchemeGroupVersion.Group}, Resources: []string{"podgroups"}, Verbs: []string{"list"}},
			{APIGroups: []string{gantryv1alpha1.GroupName}, Resources: []string{"queues"}, Verbs: []string{"list"}},
		},
	}
	viewersSeeQueues := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kg-viewers-see-queues"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: queueViewer.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "kg-viewers"}},
	}
	for _, o := range []struct {
		what   string
		create func() error
	}{
		{"Role", func() error { return c.Create(ctx, gangReader) }},
		{"RoleBinding", func() error { return c.Create(ctx, aliceReadsGangs) }},
		{"ClusterRole", func() error { return c.Create(ctx, queueViewer) }},
		{"ClusterRoleBinding", func() error { return c.Create(ctx, viewersSeeQueues) }},
	} {
		if err := o.create(); err != nil {
			t.Fatalf("creating %s: %v", o.what, err)
		}
	}
	kubeconfig := []string{"--kubeconfig", controlPlane.Kubeconfig}

	// alice may read the gangs of ns, but not the namespaces: the command
	// answers, ignoring namespace labels (train falls back from its
	// namespace's queue research to default), and warns why.
	out, stderr, err := execute(append([]string{"gangs", "-n", ns, "--as", "alice"}, kubeconfig...)...)
	if err != nil {
		t.Fatalf("gangs --as alice: %v", err)
	}
	mustContain(t, "gangs --as alice", out, "train PodGroup 2 2 2 2 Running* default")
	mustContain(t, "gangs --as alice stderr", stderr, `warning: listing namespaces for their gantry.dev/queue labels: namespaces is forbidden: User "alice" cannot list resource "namespaces"`)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gangs", "-A", "--as", "alice"}, `listing pods: pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope`},
		{[]string{"explain", "infer", "-n", ns, "--as", "alice"}, `getting pod ` + ns + `/infer: pods "infer" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "` + ns + `"`},
		// Without the group, bob has no rights at all.
		{[]string{"queues", "--as", "bob"}, `listing pods: pods is forbidden: User "bob" cannot list resource "pods" in API group "" at the cluster scope`},
		// The group lets bob list what queues reads, not nodes.
		{[]string{"nodes", "--as", "bob", "--as-group", "kg-viewers"}, `User "bob" cannot list resource "nodes" in API group "" at the cluster scope`},
	} {
		out, _, err := execute(append(tc.args, kubeconfig...)...)
		// IsForbidden also checks that the API error is wrapped, not flattened.
		if err == nil || !strings.Contains(err.Error(), tc.want) || !apierrors.IsForbidden(err) {
			t.Errorf("kubectl gantry %s: %v, want a Forbidden error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
		if out != "" {
			t.Errorf("kubectl gantry %s printed %q before failing", strings.Join(tc.args, " "), out)
		}
	}

	out, _, err = execute(append([]string{"queues", "--as", "bob", "--as-group", "kg-viewers"}, kubeconfig...)...)
	if err != nil {
		t.Fatalf("queues --as bob --as-group kg-viewers: %v", err)
	}
	mustContain(t, "queues --as bob --as-group kg-viewers", out, "  research    3        2            8       6      4          0         4/4    -\n")
}

// testTemplates checks -o jsonpath, go-template and name on each command.
func testTemplates(t *testing.T, ns, nodeA, nodeB string) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nodes", nodeA, nodeB, "-o", `jsonpath={range .nodes[*]}{.name}={.freeGPUs}/{.capacityGPUs}{"\n"}{end}`}, nodeA + "=1/8\n" + nodeB + "=6/8\n"},
		// A filter comparing numbers, as with kubectl get.
		{[]string{"nodes", nodeA, nodeB, "-o", `jsonpath={.nodes[?(@.unhealthyGPUs>0)].name}`}, nodeA},
		{[]string{"nodes", nodeA, "-o", `jsonpath={.nodes[0].gpus[7].state} {.nodes[0].gpus[7].healthReason}`}, "Unhealthy XID79"},
		{[]string{"queues", "-o", "jsonpath={.kind} {.queues[?(@.name==\"research\")].borrowedGPUs}"}, "QueuesView 4"},
		{[]string{"gangs", "-n", ns, "-o", `go-template={{range .gangs}}{{if .waiting}}{{.name}}: {{.reason}}{{"\n"}}{{end}}{{end}}`}, "big: GangUnschedulable\n"},
		{[]string{"explain", "train-0", "-n", ns, "-o", `go-template={{range .gpus}}{{.uuid}} {{end}}{{.worstLink}}`}, uuid(nodeA, 0) + " " + uuid(nodeA, 1) + " NVLink x18"},
		{[]string{"explain", "big-0", "-n", ns, "--template", `{{.gang.name}} {{.gang.minMember}} {{.waiting}}`}, "big 3 true"},
		{[]string{"gangs", "-n", ns, "-o", "name"}, "podgroup.scheduling.x-k8s.io/big\npodgroup.scheduling.x-k8s.io/sweep\npodgroup.scheduling.x-k8s.io/train\n"},
		{[]string{"explain", "infer", "-n", ns, "-o", "name"}, "pod/infer\n"},
	} {
		if got := run(t, tc.args...); got != tc.want {
			t.Errorf("kubectl gantry %s = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}

// testBadOutput checks that a bad -o fails before anything is printed,
// saying what it accepts.
func testBadOutput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"queues", "-o", "xml"}, `--output "xml": unknown output format, must be one of table, json, yaml, kyaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file`},
		{[]string{"gangs", "-o", "map"}, `--output "map": unknown output format, must be one of table, json,`},
		{[]string{"nodes", "-o", "jsonpath"}, `--output "jsonpath": template format specified but no template given`},
		{[]string{"explain", "infer", "-o", "jsonpath={.gpus[0"}, `--output "jsonpath={.gpus[0": error parsing jsonpath {.gpus[0, `},
	} {
		out, _, err := execute(append(tc.args, "--kubeconfig", controlPlane.Kubeconfig)...)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || out != "" {
			t.Errorf("kubectl gantry %s: output %q, error %v; want no output and an error starting %q", strings.Join(tc.args, " "), out, err, tc.want)
		}
	}
}
