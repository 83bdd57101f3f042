// Package pluginargs reads the args of Gantry's scheduler plugins the same
// way for every plugin.
package pluginargs

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// Args is a plugin's args type, used through its pointer.
type Args[T any] interface {
	*T
	DeepCopy() *T
}

// Decode reads a plugin's configuration: nil (no pluginConfig entry) gives
// newArgs(); a *T is copied; the raw JSON or YAML that the scheduler's
// configuration loader hands out-of-tree plugins is decoded onto newArgs(),
// and an unknown field is an error, so a misspelt field does not silently
// fall back to its default. The caller defaults and validates the result.
func Decode[T any, P Args[T]](name string, obj runtime.Object, newArgs func() *T) (*T, error) {
	switch o := obj.(type) {
	case nil:
		return newArgs(), nil
	case P:
		return o.DeepCopy(), nil
	case *runtime.Unknown:
		args := newArgs()
		if err := frameworkruntime.DecodeInto(o, args); err != nil {
			return nil, fmt.Errorf("decoding %s args: %w", name, err)
		}
		if err := rejectUnknownFields[T](o); err != nil {
			return nil, fmt.Errorf("decoding %s args: %w", name, err)
		}
		return args, nil
	default:
		return nil, fmt.Errorf("%s args: want %T or raw configuration, got %T", name, P(nil), obj)
	}
}

// rejectUnknownFields decodes JSON args strictly: DecodeInto (encoding/json,
// or sigs.k8s.io/yaml for YAML) ignores unknown fields, and the
// configuration loader hands out-of-tree args over as JSON.
func rejectUnknownFields[T any](o *runtime.Unknown) error {
	if len(o.Raw) == 0 || (o.ContentType != "" && o.ContentType != runtime.ContentTypeJSON) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(o.Raw))
	dec.DisallowUnknownFields()
	return dec.Decode(new(T))
}
