package examples

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gantry-gpu/gantry/test/framework"
)

// examplesDir is what users apply.
var examplesDir = filepath.Join(framework.RepoRoot(), "deploy", "examples")

// object is one document of an example file.
type object struct {
	file string
	*unstructured.Unstructured
}

// String names the object in failure messages the way a user finds it.
func (o object) String() string {
	name := o.GetName()
	if ns := o.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%s: %s %s", o.file, o.GetKind(), name)
}

// loadExamples decodes every *.yaml file of deploy/examples, in file-name
// order, skipping documents that hold only comments. A file with no object
// at all is an error: it would be listed in the README but apply nothing.
func loadExamples(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no examples in %s", examplesDir)
	}
	slices.Sort(files)
	var out []object
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		objs, err := framework.DecodeObjects(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, u := range objs {
			out = append(out, object{file: name, Unstructured: u})
		}
		n := len(objs)
		if n == 0 {
			t.Fatalf("%s holds no objects", name)
		}
	}
	return out
}

// TestExamplesListedInReadme: deploy/examples/README.md is how users find
// the examples, so a file missing from it is as good as missing.
func TestExamplesListedInReadme(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(examplesDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); !strings.Contains(string(raw), "`"+name+"`") {
			t.Errorf("deploy/examples/README.md does not list %s", name)
		}
	}
}

// into converts an unstructured object to a typed one. Unknown fields are
// dropped here; the API server's strict validation catches them.
func into[T any](t *testing.T, o object) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out); err != nil {
		t.Fatalf("%s: %v", o, err)
	}
	return out
}

// ofKind returns the objects of one kind.
func ofKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}
