package scheduler

import (
	"strings"
	"testing"

	"k8s.io/kubernetes/pkg/scheduler/apis/config"
)

func set(names ...string) config.PluginSet {
	var s config.PluginSet
	for _, n := range names {
		s.Enabled = append(s.Enabled, config.Plugin{Name: n})
	}
	return s
}

func TestCheckProfile(t *testing.T) {
	shipped := func() *config.Plugins {
		return &config.Plugins{
			QueueSort:  set("GantryGang"),
			PreFilter:  set("NodeResourcesFit", "GantryGPUTopology", "GantryQueue", "GantryGang"),
			PostFilter: set("GantryPreemption", "GantryGang"),
			Permit:     set("GantryGang"),
			Bind:       set("GantryGPUTopology", "DefaultBinder"),
		}
	}
	tests := []struct {
		name    string
		change  func(*config.Plugins)
		wantErr string
	}{
		{"shipped", func(*config.Plugins) {}, ""},
		{"gang before queue", func(p *config.Plugins) {
			p.PreFilter = set("GantryGang", "GantryQueue")
		}, `profile "gantry": plugin GantryQueue must come before GantryGang at preFilter`},
		{"gang preempts first", func(p *config.Plugins) {
			p.PostFilter = set("GantryGang", "GantryPreemption")
		}, "plugin GantryPreemption must come before GantryGang at postFilter"},
		{"default binder first", func(p *config.Plugins) {
			p.Bind = set("DefaultBinder", "GantryGPUTopology")
		}, "plugin GantryGPUTopology must come before DefaultBinder at bind"},
		{"gang without its queue sort", func(p *config.Plugins) {
			p.QueueSort = set("PrioritySort")
		}, "plugin GantryGang is enabled but queueSort is [PrioritySort]"},
		{"in-tree gang scheduling beside GantryGang", func(p *config.Plugins) {
			p.PreEnqueue = set("SchedulingGates", "GantryGang", "GangScheduling")
			p.Permit = set("GantryGang", "GangScheduling")
		}, "plugins GantryGang and GangScheduling are both enabled; disable GangScheduling"},
		{"in-tree placement generator beside GantryGang", func(p *config.Plugins) {
			p.PlacementGenerate = set("TopologyPlacementGenerator")
		}, "plugins GantryGang and TopologyPlacementGenerator are both enabled"},
		{"in-tree pod-group scoring beside GantryGang", func(p *config.Plugins) {
			p.PlacementScore = set("PodGroupPodsCount")
		}, "plugins GantryGang and PodGroupPodsCount are both enabled"},
		{"in-tree gang scheduling without GantryGang", func(p *config.Plugins) {
			p.QueueSort = set("PrioritySort")
			p.PreFilter = set("GantryQueue")
			p.PostFilter = set("GantryPreemption")
			p.Permit = set("GangScheduling")
			p.PreEnqueue = set("GangScheduling")
		}, ""},
		{"no gang plugin, any sort", func(p *config.Plugins) {
			p.QueueSort = set("PrioritySort")
			p.PreFilter = set("GantryQueue")
			p.PostFilter = set("GantryPreemption")
			p.Permit = set()
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := shipped()
			tt.change(p)
			err := checkProfile("gantry", p)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckGates(t *testing.T) {
	withGang := &config.Plugins{QueueSort: set("GantryGang"), PreFilter: set("GantryQueue", "GantryGang"), Permit: set("GantryGang")}
	withoutGang := &config.Plugins{QueueSort: set("PrioritySort"), PreFilter: set("GantryQueue")}
	if err := checkGates("gantry", withGang, false); err != nil {
		t.Errorf("GenericWorkload off: %v", err)
	}
	if err := checkGates("default", withoutGang, true); err != nil {
		t.Errorf("GenericWorkload on, no GantryGang: %v", err)
	}
	want := `profile "gantry": plugin GantryGang cannot run with the feature gate GenericWorkload on in the scheduler`
	err := checkGates("gantry", withGang, true)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--feature-gates=GenericWorkload=false") {
		t.Fatalf("GenericWorkload on with GantryGang: error = %v, want one containing %q and the flag", err, want)
	}
}
