package kubectlgantry

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// printAs prints v as the flags (e.g. "-o", "json") ask, through the same
// flags and printers as the commands.
func printAs(format string, v printedView, flags ...string) (string, error) {
	cmd := &cobra.Command{}
	f := addOutputFlags(cmd, OutputTable)
	if err := cmd.Flags().Parse(append([]string{"-o", format}, flags...)); err != nil {
		return "", err
	}
	return printWith(f, v)
}

func printWith(f *outputFlags, v printedView) (string, error) {
	if err := f.complete(); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err := f.printView(&buf, v)
	return buf.String(), err
}

func TestPrintTemplates(t *testing.T) {
	v := BuildQueues(queueState())
	dir := t.TempDir()
	jsonpathFile := filepath.Join(dir, "names.jsonpath")
	goTemplateFile := filepath.Join(dir, "used.tmpl")
	if err := os.WriteFile(jsonpathFile, []byte(`{.queues[*].name}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goTemplateFile, []byte(`{{range .queues}}{{.name}}={{.usedGPUs}} {{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	names := "default org team-a team-b lost c1 c2"
	used := "default=1 org=10 team-a=6 team-b=4 lost=1 c1=0 c2=0 "
	for _, tc := range []struct {
		format string
		flags  []string
		want   string
	}{
		{format: "jsonpath={.queues[*].name}", want: names},
		{format: "jsonpath", flags: []string{"--template", "{.queues[*].name}"}, want: names},
		{format: "jsonpath-file=" + jsonpathFile, want: names},
		{format: `jsonpath={range .queues[?(@.borrowedGPUs>0)]}{.name}{"\n"}{end}`, want: "default\norg\nteam-a\nlost\n"},
		{format: "go-template={{range .queues}}{{.name}}={{.usedGPUs}} {{end}}", want: used},
		{format: "go-template-file=" + goTemplateFile, want: used},
		{format: "go-template={{.apiVersion}} {{.kind}}", want: "kubectl.gantry.dev/v1alpha1 QueuesView"},
		{format: "name", want: "queue.gantry.dev/default\nqueue.gantry.dev/org\nqueue.gantry.dev/team-a\nqueue.gantry.dev/team-b\nqueue.gantry.dev/lost\nqueue.gantry.dev/c1\nqueue.gantry.dev/c2\n"},
	} {
		got, err := printAs(tc.format, &v, tc.flags...)
		if err != nil {
			t.Errorf("-o %s %v: %v", tc.format, tc.flags, err)
			continue
		}
		if got != tc.want {
			t.Errorf("-o %s %v = %q, want %q", tc.format, tc.flags, got, tc.want)
		}
	}
}

// TestTemplateWithoutOutput: as in kubectl, --template alone means
// -o go-template, not the default table.
func TestTemplateWithoutOutput(t *testing.T) {
	v := BuildQueues(queueState())
	cmd := &cobra.Command{}
	f := addOutputFlags(cmd, OutputTable)
	if err := cmd.Flags().Parse([]string{"--template", "{{len .queues}}"}); err != nil {
		t.Fatal(err)
	}
	if f.ownFormat() != "" {
		t.Fatalf("--template alone renders %q itself", f.ownFormat())
	}
	if got, err := printWith(f, &v); err != nil || got != "7" {
		t.Errorf("--template {{len .queues}} = %q, %v; want 7", got, err)
	}
}

func TestPrintNames(t *testing.T) {
	nodes := BuildNodes(nodeState(), []string{"node-a"})
	gangs := BuildGangs(gangState())
	s := gangState()
	x := BuildExplanation(s, &s.Pods[0])
	for _, tc := range []struct {
		v    printedView
		want string
	}{
		{&nodes, "node/node-a\n"},
		{&gangs, "podgroup.scheduling.x-k8s.io/big\npodgroup.scheduling.x-k8s.io/fresh\npodgroup.scheduling.x-k8s.io/lbl\npodgroup.scheduling.x-k8s.io/nowhere\npodgroup.scheduling.x-k8s.io/running\n"},
		{&x, "pod/big-0\n"},
	} {
		got, err := printAs(OutputName, tc.v)
		if err != nil || got != tc.want {
			t.Errorf("-o name of %T = %q, %v; want %q", tc.v, got, err, tc.want)
		}
	}
}

func TestBadOutputFormat(t *testing.T) {
	v := BuildQueues(queueState())
	for format, want := range map[string]string{
		"xml":                             `--output "xml": unknown output format, must be one of table, json, yaml, kyaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file`,
		"map":                             `--output "map": unknown output format, must be one of table, json`,
		"jsonpath":                        `--output "jsonpath": template format specified but no template given`,
		"jsonpath={.a":                    `--output "jsonpath={.a": error parsing jsonpath {.a, unclosed action`,
		"go-template={{.":                 `--output "go-template={{.": error parsing template {{., template: output:1: `,
		"jsonpath-file=/nonexistent/file": `--output "jsonpath-file=/nonexistent/file": error reading --template /nonexistent/file`,
	} {
		_, err := printAs(format, &v)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("-o %s: %v, want an error starting %q", format, err, want)
		}
	}
}

// TestBadOutputBeforeConnecting: a bad -o fails before the command talks
// to the API server; a good one gets as far as connecting.
func TestBadOutputBeforeConnecting(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing listens on port 1, so connecting fails at once.
	cluster := []string{"--kubeconfig", kubeconfig, "--server", "http://127.0.0.1:1", "--request-timeout", "5s"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"queues", "-o", "map"}, `--output "map": unknown output format`},
		{[]string{"gangs", "-o", "jsonpath"}, `--output "jsonpath": template format specified but no template given`},
		{[]string{"nodes", "-o", "map"}, "listing nodes: "},
		{[]string{"explain", "p", "-o", "name"}, "getting pod default/p: "},
	} {
		var out, errOut bytes.Buffer
		cmd := NewCommand(&out, &errOut)
		cmd.SetArgs(append(tc.args, cluster...))
		err := cmd.Execute()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("kubectl gantry %s: %v, want an error starting %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
