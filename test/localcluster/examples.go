package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/test/framework"
)

// ExamplesDir is deploy/examples.
func ExamplesDir() string { return filepath.Join(framework.RepoRoot(), "deploy", "examples") }

// LoadExample decodes deploy/examples/FILE. With runFor set, the pods of
// its Jobs and CronJobs get the annotation framework.RunForAnnotation, so
// KWOK finishes them after that long (the examples run "forever" as
// written: real training takes hours). Nothing else changes.
func LoadExample(file, runFor string) ([]*unstructured.Unstructured, error) {
	path := filepath.Join(ExamplesDir(), file)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	objs, err := framework.DecodeObjects(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if runFor == "" {
		return objs, nil
	}
	for _, u := range objs {
		var fields []string
		switch u.GetKind() {
		case "Job":
			fields = []string{"spec", "template", "metadata", "annotations"}
		case "CronJob":
			fields = []string{"spec", "jobTemplate", "spec", "template", "metadata", "annotations"}
		default:
			continue
		}
		if err := unstructured.SetNestedField(u.Object, runFor, append(fields, framework.RunForAnnotation)...); err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", path, u.GetKind(), u.GetName(), err)
		}
	}
	return objs, nil
}

// Apply server-side applies objects (field manager gantry-local).
func (c *Cluster) Apply(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, u := range objs {
		//lint:ignore SA1019 kept a patch: it updates u in place with the server's copy, as callers have had it.
		if err := c.CP.Client.Patch(ctx, u, client.Apply, client.FieldOwner("gantry-local"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", u.GetKind(), key(u), err)
		}
	}
	return nil
}

func key(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

// TriggerCronJob creates a Job from a CronJob's template now, as `kubectl
// create job NAME --from=cronjob/CRONJOB` does (annotation
// cronjob.kubernetes.io/instantiate: manual, owned by the CronJob).
func (c *Cluster) TriggerCronJob(ctx context.Context, namespace, cronJob, jobName string) (*batchv1.Job, error) {
	var cj batchv1.CronJob
	if err := c.CP.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: cronJob}, &cj); err != nil {
		return nil, err
	}
	annotations := map[string]string{"cronjob.kubernetes.io/instantiate": "manual"}
	for k, v := range cj.Spec.JobTemplate.Annotations {
		annotations[k] = v
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: jobName,
			Labels: cj.Spec.JobTemplate.Labels, Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: ptr.To(true),
			}},
		},
		Spec: cj.Spec.JobTemplate.Spec,
	}
	if err := c.CP.Client.Create(ctx, job); err != nil {
		return nil, fmt.Errorf("creating Job %s/%s from CronJob %s: %w", namespace, jobName, cronJob, err)
	}
	return job, nil
}
