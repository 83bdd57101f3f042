package kubectlgantry

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
)

// Output formats the commands render themselves; every other -o value
// (json, yaml, name, jsonpath=..., go-template=... and the rest kubectl
// knows) goes to cli-runtime's printers.
const (
	OutputTable = "table"
	// OutputMap is the nodes command's one line per node.
	OutputMap = "map"
	// OutputJSON and OutputYAML print the view object as kubectl -o json
	// and -o yaml print API objects.
	OutputJSON = "json"
	OutputYAML = "yaml"
	// OutputName prints the API objects a view is about, kind.group/name,
	// one a line, as kubectl -o name.
	OutputName = "name"
)

// printedView is what a command prints through cli-runtime's printers:
// the view object for -o json, yaml, jsonpath and go-template, and the API
// objects its rows are about for -o name (a view's own kind names no
// object one could get).
type printedView interface {
	runtime.Object
	namedObjects() []metav1.PartialObjectMetadata
}

// outputFlags are a command's -o, --template and
// --allow-missing-template-keys, as kubectl get has them.
type outputFlags struct {
	format string
	// ownFormats are those the command renders itself, default first.
	ownFormats []string
	print      *genericclioptions.PrintFlags
	// printer is set by complete when the format is not one of ownFormats.
	printer printers.ResourcePrinter
}

// addOutputFlags adds -o to cmd; ownFormats are those the command renders
// itself, the first the default.
func addOutputFlags(cmd *cobra.Command, ownFormats ...string) *outputFlags {
	f := &outputFlags{ownFormats: ownFormats, print: genericclioptions.NewPrintFlags("")}
	f.print.OutputFormat = &f.format
	f.print.TemplatePrinterFlags.AddFlags(cmd)
	cmd.Flags().StringVarP(&f.format, "output", "o", ownFormats[0],
		"Output format. One of: ("+strings.Join(f.allowedFormats(), ", ")+"). json, yaml and the templates see the fields of -o json, documented in github.com/gantry-gpu/gantry/pkg/kubectlgantry.")
	// As in kubectl: --template without -o means -o go-template.
	f.print.OutputFlagSpecified = func() bool { return cmd.Flags().Changed("output") }
	return f
}

func (f *outputFlags) allowedFormats() []string {
	return slices.Concat(f.ownFormats, f.print.AllowedFormats())
}

// ownFormat is the format when the command renders it itself, else "".
func (f *outputFlags) ownFormat() string {
	templateOnly := *f.print.TemplatePrinterFlags.TemplateArgument != "" && !f.print.OutputFlagSpecified()
	if templateOnly || !slices.Contains(f.ownFormats, f.format) {
		return ""
	}
	return f.format
}

// complete checks the format and builds its printer; commands call it
// before they connect, so a bad -o fails at once.
func (f *outputFlags) complete() error {
	if f.ownFormat() != "" {
		return nil
	}
	p, err := f.print.ToPrinter()
	if genericclioptions.IsNoCompatiblePrinterError(err) {
		// cli-runtime's message lists only its own formats, not table or
		// map, so say it in full.
		return fmt.Errorf("--output %q: unknown output format, must be one of %s", f.format, strings.Join(f.allowedFormats(), ", "))
	}
	if err != nil {
		return fmt.Errorf("--output %q: %w", f.format, err)
	}
	f.printer = p
	return nil
}

// printView prints v with the printer complete chose.
func (f *outputFlags) printView(w io.Writer, v printedView) error {
	if _, ok := f.printer.(*printers.JSONPathPrinter); ok {
		// The JSONPath printer decodes a typed object's numbers as float64,
		// which no integer literal in a filter ([?(@.freeGPUs>0)]) compares
		// with; from unstructured content they are int64, as for kubectl get.
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(v)
		if err != nil {
			return fmt.Errorf("converting %s for jsonpath: %w", v.GetObjectKind().GroupVersionKind().Kind, err)
		}
		return f.printer.PrintObj(&unstructured.Unstructured{Object: content}, w)
	}
	if !strings.EqualFold(f.format, OutputName) {
		return f.printer.PrintObj(v, w)
	}
	for _, o := range v.namedObjects() {
		if err := f.printer.PrintObj(&o, w); err != nil {
			return err
		}
	}
	return nil
}
