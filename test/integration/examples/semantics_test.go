package examples

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// These tests read the examples only; they check what the API server cannot
// see but a user would suffer from.

const (
	gantryScheduler = "gantry"
	gpuResource     = corev1.ResourceName("nvidia.com/gpu")
	// minMemberLabel is GantryGang's label-only gang size
	// (gantryv1alpha1.GangMinMemberLabel; not imported so this test
	// does not build the scheduler).
	minMemberLabel = "gantry.dev/gang-min-member"
)

// defaultSchedulerByDesign lists the GPU workloads that stay on the default
// scheduler on purpose, with why.
var defaultSchedulerByDesign = map[string]string{
	"inference-canary.yaml: Deployment inference/llm-serve-stable": "the canary's stable track: the comparison point, on the default scheduler",
}

// podTemplate is one pod template of an example workload and how many pods
// of it run at once.
type podTemplate struct {
	owner    object
	where    string // the field path, for messages
	template corev1.PodTemplateSpec
	pods     int32
}

func (p podTemplate) String() string { return p.owner.String() + " " + p.where }

// podTemplates returns the pod templates of every workload in the examples.
func podTemplates(t *testing.T, objs []object) []podTemplate {
	t.Helper()
	var out []podTemplate
	for _, o := range objs {
		switch o.GetKind() {
		case "Job":
			j := into[batchv1.Job](t, o)
			out = append(out, podTemplate{o, "spec.template", j.Spec.Template, ptrOr(j.Spec.Parallelism, 1)})
		case "CronJob":
			cj := into[batchv1.CronJob](t, o)
			out = append(out, podTemplate{o, "spec.jobTemplate.spec.template", cj.Spec.JobTemplate.Spec.Template, ptrOr(cj.Spec.JobTemplate.Spec.Parallelism, 1)})
		case "Deployment":
			d := into[appsv1.Deployment](t, o)
			out = append(out, podTemplate{o, "spec.template", d.Spec.Template, ptrOr(d.Spec.Replicas, 1)})
		case "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "JobSet":
			t.Fatalf("%s: the test does not read %s pod templates yet; teach podTemplates", o, o.GetKind())
		case "PyTorchJob":
			j, err := decodePyTorchJob(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, rtype := range []string{"Master", "Worker"} {
				if rs := j.Spec.PyTorchReplicaSpecs[rtype]; rs != nil {
					out = append(out, podTemplate{o, "spec.pytorchReplicaSpecs." + rtype + ".template", rs.Template, ptrOr(rs.Replicas, 1)})
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no pod templates in the examples")
	}
	return out
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// gpus is what one pod of the template asks for.
func gpus(spec corev1.PodSpec) int64 {
	var n int64
	for _, c := range spec.Containers {
		q := c.Resources.Limits[gpuResource]
		if r, ok := c.Resources.Requests[gpuResource]; ok && r.Cmp(q) > 0 {
			q = r
		}
		n += q.Value()
	}
	for _, c := range spec.InitContainers {
		if q := c.Resources.Limits[gpuResource]; q.Value() > n {
			n = q.Value()
		}
	}
	return n
}

// TestGPUWorkloadsUseGantry: a GPU pod template without schedulerName
// gantry is placed by the default scheduler, which ignores gangs, GPU
// topology and queues; in an example that is a silent bug.
func TestGPUWorkloadsUseGantry(t *testing.T) {
	objs := loadExamples(t)
	seen := map[string]bool{}
	for _, p := range podTemplates(t, objs) {
		if gpus(p.template.Spec) == 0 {
			continue
		}
		if why, ok := defaultSchedulerByDesign[p.owner.String()]; ok {
			seen[p.owner.String()] = true
			if p.template.Spec.SchedulerName != "" && p.template.Spec.SchedulerName != corev1.DefaultSchedulerName {
				t.Errorf("%s names scheduler %q, but is listed as on the default scheduler (%s)", p, p.template.Spec.SchedulerName, why)
			}
			continue
		}
		if p.template.Spec.SchedulerName != gantryScheduler {
			t.Errorf("%s asks for %s but names scheduler %q, want %q", p, gpuResource, p.template.Spec.SchedulerName, gantryScheduler)
		}
	}
	for name := range defaultSchedulerByDesign {
		if !seen[name] {
			t.Errorf("defaultSchedulerByDesign lists %s, which is no GPU workload of the examples: update the list", name)
		}
	}
}

// TestGangSizesMatch: a gang's minMember must equal the number of pods its
// workload runs. Fewer, and Gantry may start a partial gang that blocks in
// rendezvous; more, and the gang waits forever.
func TestGangSizesMatch(t *testing.T) {
	objs := loadExamples(t)
	podGroups := map[string]*schedv1alpha1.PodGroup{}
	used := map[string]bool{}
	for _, o := range ofKind(objs, "PodGroup") {
		pg := into[schedv1alpha1.PodGroup](t, o)
		podGroups[pg.Namespace+"/"+pg.Name] = pg
	}
	gangs := 0
	for _, p := range podTemplates(t, objs) {
		if p.owner.GetKind() == "PyTorchJob" {
			continue // the training operator makes the PodGroup; checked below
		}
		group, ok := p.template.Labels[schedv1alpha1.PodGroupLabel]
		if !ok {
			continue
		}
		gangs++
		key := p.owner.GetNamespace() + "/" + group
		var minMember int32
		if pg := podGroups[key]; pg != nil {
			used[key] = true
			minMember = pg.Spec.MinMember
		} else if v, ok := p.template.Labels[minMemberLabel]; ok {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				t.Fatalf("%s: label %s=%q: %v", p, minMemberLabel, v, err)
			}
			minMember = int32(n)
		} else {
			t.Errorf("%s is in gang %s, but no example has that PodGroup and the pods have no %s label", p, key, minMemberLabel)
			continue
		}
		if minMember != p.pods {
			t.Errorf("%s: gang %s has minMember %d, but %d pods run at once", p, key, minMember, p.pods)
		}
		if p.owner.GetKind() == "Job" {
			j := into[batchv1.Job](t, p.owner)
			if c := ptrOr(j.Spec.Completions, 1); c != minMember {
				t.Errorf("%s: gang %s has minMember %d, but the Job has %d completions", p.owner, key, minMember, c)
			}
		}
	}
	for _, o := range ofKind(objs, "PyTorchJob") {
		j, err := decodePyTorchJob(o)
		if err != nil {
			t.Fatal(err)
		}
		gangs++
		var total int32
		for _, rs := range j.Spec.PyTorchReplicaSpecs {
			total += ptrOr(rs.Replicas, 1)
		}
		sp := j.Spec.RunPolicy.SchedulingPolicy
		if sp == nil || sp.MinAvailable == nil {
			t.Errorf("%s: runPolicy.schedulingPolicy.minAvailable is not set (the operator would use the replica count, but say it)", o)
		} else if *sp.MinAvailable != total {
			t.Errorf("%s: minAvailable %d, but the replicas add up to %d", o, *sp.MinAvailable, total)
		}
	}
	for key := range podGroups {
		if !used[key] {
			t.Errorf("PodGroup %s is used by no example workload", key)
		}
	}
	if gangs == 0 {
		t.Error("no gang in the examples")
	}
}

// TestRendezvousService: a Job whose pods find each other by hostname
// (spec.subdomain) needs a headless Service of that name selecting them,
// publishing addresses before the pods are ready.
func TestRendezvousService(t *testing.T) {
	objs := loadExamples(t)
	services := map[string]*corev1.Service{}
	for _, o := range ofKind(objs, "Service") {
		s := into[corev1.Service](t, o)
		services[s.Namespace+"/"+s.Name] = s
	}
	for _, p := range podTemplates(t, objs) {
		sub := p.template.Spec.Subdomain
		if sub == "" {
			continue
		}
		s := services[p.owner.GetNamespace()+"/"+sub]
		switch {
		case s == nil:
			t.Errorf("%s: subdomain %q, but no example Service of that name", p, sub)
		case s.Spec.ClusterIP != corev1.ClusterIPNone:
			t.Errorf("%s: Service %s is not headless", p, sub)
		case !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(p.template.Labels)):
			t.Errorf("%s: Service %s selects %v, which the pods (%v) do not match", p, sub, s.Spec.Selector, p.template.Labels)
		case !s.Spec.PublishNotReadyAddresses:
			t.Errorf("%s: Service %s must publish not-ready addresses: ranks resolve rank 0 before it is ready", p, sub)
		}
	}
}

// TestDailyInferenceAt11 pins the scenario Gantry is held to: a CronJob at
// 11:00 every day, in a set time zone, one run at a time, bounded in time,
// small GPU pods, in the inference queue, at a priority above training.
func TestDailyInferenceAt11(t *testing.T) {
	objs := loadExamples(t)
	cronJobs := ofKind(objs, "CronJob")
	if len(cronJobs) != 1 {
		t.Fatalf("want one CronJob in the examples, have %d", len(cronJobs))
	}
	o := cronJobs[0]
	cj := into[batchv1.CronJob](t, o)
	// minute hour day-of-month month day-of-week
	if f := strings.Fields(cj.Spec.Schedule); !slices.Equal(f, []string{"0", "11", "*", "*", "*"}) {
		t.Errorf("%s: schedule %q, want 11:00 every day (\"0 11 * * *\")", o, cj.Spec.Schedule)
	}
	if cj.Spec.TimeZone == nil || *cj.Spec.TimeZone == "" {
		t.Errorf("%s: no timeZone: 11:00 would be the controller's time zone", o)
	} else if _, err := time.LoadLocation(*cj.Spec.TimeZone); err != nil {
		t.Errorf("%s: timeZone %q: %v", o, *cj.Spec.TimeZone, err)
	}
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("%s: concurrencyPolicy %q, want Forbid", o, cj.Spec.ConcurrencyPolicy)
	}
	js := cj.Spec.JobTemplate.Spec
	if js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds <= 0 {
		t.Errorf("%s: the Job template has no activeDeadlineSeconds", o)
	}
	spec := js.Template.Spec
	if n := gpus(spec); n < 1 || n > 2 {
		t.Errorf("%s: pods ask for %d GPUs, want 1 or 2", o, n)
	}
	if q := js.Template.Labels[gantryv1alpha1.QueueLabel]; q != "inference" {
		t.Errorf("%s: pods are in queue %q, want inference", o, q)
	}

	classes := map[string]int32{}
	for _, pc := range ofKind(objs, "PriorityClass") {
		classes[pc.GetName()] = into[schedulingv1.PriorityClass](t, pc).Value
	}
	inference, ok := classes[spec.PriorityClassName]
	if !ok {
		t.Fatalf("%s: priorityClassName %q is not defined in the examples", o, spec.PriorityClassName)
	}
	for _, p := range podTemplates(t, objs) {
		if p.owner.GetNamespace() == "research" {
			if v := classes[p.template.Spec.PriorityClassName]; v >= inference {
				t.Errorf("%s: priority %d (%q) is not below the inference batch's %d", p, v, p.template.Spec.PriorityClassName, inference)
			}
		}
	}
}

// TestReferencesResolve: every namespace, queue and priority class an
// example names is defined by the examples, so applying them in order
// works on an empty cluster with Gantry installed.
func TestReferencesResolve(t *testing.T) {
	objs := loadExamples(t)
	defined := map[string]map[string]bool{"Namespace": {}, "Queue": {}, "PriorityClass": {}}
	for _, o := range objs {
		if m, ok := defined[o.GetKind()]; ok {
			m[o.GetName()] = true
		}
	}
	if !defined["Queue"][gantryv1alpha1.DefaultQueueName] {
		t.Errorf("no Queue %q: workloads that name no queue would have none", gantryv1alpha1.DefaultQueueName)
	}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && !defined["Namespace"][ns] {
			t.Errorf("%s: namespace %s is not defined in the examples", o, ns)
		}
		if q, ok := o.GetLabels()[gantryv1alpha1.QueueLabel]; ok && !defined["Queue"][q] {
			t.Errorf("%s: label %s=%s names no example Queue", o, gantryv1alpha1.QueueLabel, q)
		}
	}
	for _, o := range ofKind(objs, "Queue") {
		q := into[gantryv1alpha1.Queue](t, o)
		if q.Spec.Parent != "" && !defined["Queue"][q.Spec.Parent] {
			t.Errorf("%s: parent %s is not defined in the examples", o, q.Spec.Parent)
		}
	}
	for _, p := range podTemplates(t, objs) {
		if q, ok := p.template.Labels[gantryv1alpha1.QueueLabel]; ok && !defined["Queue"][q] {
			t.Errorf("%s: pods are in queue %s, which no example defines", p, q)
		}
		if pc := p.template.Spec.PriorityClassName; pc != "" && !defined["PriorityClass"][pc] {
			t.Errorf("%s: priorityClassName %s is not defined in the examples", p, pc)
		}
	}
	for _, o := range ofKind(objs, "PyTorchJob") {
		j, err := decodePyTorchJob(o)
		if err != nil {
			t.Fatal(err)
		}
		if sp := j.Spec.RunPolicy.SchedulingPolicy; sp != nil {
			if sp.Queue != "" && !defined["Queue"][sp.Queue] {
				t.Errorf("%s: schedulingPolicy.queue %s names no example Queue", o, sp.Queue)
			}
			if sp.PriorityClass != "" && !defined["PriorityClass"][sp.PriorityClass] {
				t.Errorf("%s: schedulingPolicy.priorityClass %s is not defined in the examples", o, sp.PriorityClass)
			}
		}
	}
}

// TestCanary: the Service selects both tracks, each Deployment only its own,
// the canary is on Gantry and the stable is not.
func TestCanary(t *testing.T) {
	objs := loadExamples(t)
	var svc *corev1.Service
	var deps []*appsv1.Deployment
	for _, o := range objs {
		if o.file != "inference-canary.yaml" {
			continue
		}
		switch o.GetKind() {
		case "Service":
			svc = into[corev1.Service](t, o)
		case "Deployment":
			deps = append(deps, into[appsv1.Deployment](t, o))
		}
	}
	if svc == nil || len(deps) != 2 {
		t.Fatalf("inference-canary.yaml: want one Service and two Deployments, have service %v and %d deployments", svc != nil, len(deps))
	}
	tracks := map[string]*appsv1.Deployment{}
	for _, d := range deps {
		tracks[d.Spec.Template.Labels["track"]] = d
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Service %s does not select Deployment %s's pods", svc.Name, d.Name)
		}
		for _, other := range deps {
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			if other != d && sel.Matches(labels.Set(other.Spec.Template.Labels)) {
				t.Errorf("Deployment %s's selector matches Deployment %s's pods: they would fight over them", d.Name, other.Name)
			}
		}
	}
	stable, canary := tracks["stable"], tracks["canary"]
	if stable == nil || canary == nil {
		t.Fatalf("want tracks stable and canary, have %v", slices.Collect(maps.Keys(tracks)))
	}
	if canary.Spec.Template.Spec.SchedulerName != gantryScheduler {
		t.Errorf("canary Deployment %s is not on %s", canary.Name, gantryScheduler)
	}
	if stable.Spec.Template.Spec.SchedulerName == gantryScheduler {
		t.Errorf("stable Deployment %s is on %s; the canary compares against the default scheduler", stable.Name, gantryScheduler)
	}
	if n := gpus(canary.Spec.Template.Spec); n != 1 {
		t.Errorf("canary pods ask for %d GPUs, want 1", n)
	}
	if v, ok := canary.Spec.Template.Annotations[gantryv1alpha1.MinGPULinkAnnotation]; ok {
		links := []gantryv1alpha1.LinkType{gantryv1alpha1.LinkNVLink, gantryv1alpha1.LinkSameBoard, gantryv1alpha1.LinkSingleSwitch, gantryv1alpha1.LinkMultipleSwitches, gantryv1alpha1.LinkHostBridge, gantryv1alpha1.LinkNUMANode, gantryv1alpha1.LinkSystem}
		if !slices.Contains(links, gantryv1alpha1.LinkType(v)) {
			t.Errorf("canary annotation %s=%q is not a link type %v", gantryv1alpha1.MinGPULinkAnnotation, v, links)
		}
	}
}
