package nvml

import (
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	nvmllib "github.com/NVIDIA/go-nvml/pkg/nvml"
)

func TestFixtureNames(t *testing.T) {
	want := []string{"dgx-a100", "dgx-h100", "l4-1", "pcie-2island", "pcie-4"}
	if got := FixtureNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("FixtureNames() = %v, want %v", got, want)
	}
	for _, name := range want {
		if FixtureDescription(name) == "" {
			t.Errorf("fixture %s has no description", name)
		}
		f, err := NewFixture(name)
		if err != nil {
			t.Fatalf("NewFixture(%q): %v", name, err)
		}
		if f.Name() != name || f.Interface() == nil {
			t.Errorf("fixture %q: Name %q, Interface %v", name, f.Name(), f.Interface())
		}
		// Every fixture GPU answers the checks of its spec.
		if len(f.spec.numa) != f.Len() {
			t.Errorf("fixture %s: %d NUMA nodes for %d GPUs", name, len(f.spec.numa), f.Len())
		}
	}
	if FixtureDescription("nope") != "" {
		t.Error("unknown fixture has a description")
	}
}

func TestNewFixtureUnknown(t *testing.T) {
	_, err := NewFixture("nope")
	if err == nil {
		t.Fatal("NewFixture(nope) succeeded")
	}
	for _, w := range append([]string{`"nope"`}, FixtureNames()...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		fixture string // "" for the real library
		errs    []string
	}{
		{spec: "nvml"},
		{spec: "fixture:dgx-h100", fixture: "dgx-h100"},
		{spec: "fixture:l4-1", fixture: "l4-1"},
		{spec: "fixture:nope", errs: append([]string{`"nope"`}, FixtureNames()...)},
		{spec: "fixture:", errs: []string{`"fixture:"`, `"fixture:NAME"`, "dgx-a100"}},
		{spec: "", errs: []string{`neither "nvml" nor "fixture:NAME"`}},
		{spec: "NVML", errs: []string{`neither "nvml" nor "fixture:NAME"`}},
		{spec: "dgx-a100", errs: []string{`neither "nvml" nor "fixture:NAME"`}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			lib, f, err := Parse(tt.spec)
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatalf("Parse(%q) succeeded", tt.spec)
				}
				if lib != nil || f != nil {
					t.Errorf("Parse(%q) failed but returned %v, %v", tt.spec, lib, f)
				}
				for _, w := range tt.errs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			if lib == nil {
				t.Fatal("no library")
			}
			if tt.fixture == "" {
				if f != nil {
					t.Errorf("Parse(nvml) returned fixture %s", f.Name())
				}
				return
			}
			if f == nil || f.Name() != tt.fixture || lib != f.Interface() {
				t.Fatalf("Parse(%q) = %v, %v", tt.spec, lib, f)
			}
			b := New(lib)
			if err := b.Init(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.Discover(); err != nil {
				t.Errorf("Discover: %v", err)
			}
		})
	}
}

var uuidShape = regexp.MustCompile(`^GPU-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func uuids(t *testing.T, f *Fixture) []string {
	t.Helper()
	b := New(f.Interface())
	if err := b.Init(); err != nil {
		t.Fatal(err)
	}
	topo, _, err := b.Discover()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range topo.Devices() {
		out = append(out, d.UUID)
	}
	return out
}

func TestFixtureUUIDs(t *testing.T) {
	seen := map[string]string{}
	for _, name := range FixtureNames() {
		for _, node := range []string{"", "node-a", "node-b"} {
			f, err := NewFixtureForNode(name, node)
			if err != nil {
				t.Fatal(err)
			}
			if f.NodeName() != node {
				t.Errorf("NodeName %q, want %q", f.NodeName(), node)
			}
			got := uuids(t, f)
			for i, u := range got {
				if !uuidShape.MatchString(u) {
					t.Errorf("%s/%s GPU %d: UUID %q is not in NVIDIA's shape", name, node, i, u)
				}
				where := name + "/" + node + "/" + string(rune('0'+i))
				if other, dup := seen[u]; dup {
					t.Errorf("UUID %s of %s is also that of %s", u, where, other)
				}
				seen[u] = where
			}
			// Stable: a second fixture of that name and node has the same UUIDs.
			again, err := NewFixtureForNode(name, node)
			if err != nil {
				t.Fatal(err)
			}
			if second := uuids(t, again); !reflect.DeepEqual(got, second) {
				t.Errorf("%s/%s: UUIDs changed from %v to %v", name, node, got, second)
			}
		}
	}
	// NewFixture is the unsalted fixture; ParseForNode salts.
	plain, _ := NewFixture("dgx-a100")
	unsalted, _ := NewFixtureForNode("dgx-a100", "")
	if !reflect.DeepEqual(uuids(t, plain), uuids(t, unsalted)) {
		t.Error("NewFixture and NewFixtureForNode(name, \"\") differ")
	}
	_, f, err := ParseForNode("fixture:dgx-a100", "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if f.NodeName() != "node-a" || uuids(t, f)[0] != fixtureUUID("dgx-a100", "node-a", 0) {
		t.Errorf("ParseForNode did not salt with the node name")
	}
	// The mock server finds the GPU by its UUID and bus ID too.
	lib := f.Interface()
	d, ret := lib.DeviceGetHandleByUUID(fixtureUUID("dgx-a100", "node-a", 6))
	if ret != nvmllib.SUCCESS {
		t.Fatal(ret)
	}
	if i, _ := d.GetIndex(); i != 6 {
		t.Errorf("GPU by UUID has index %d, want 6", i)
	}
	if d, ret := lib.DeviceGetHandleByPciBusId("0000:b7:00.0"); ret != nvmllib.SUCCESS || f.indexOf(d) != 6 {
		t.Errorf("GPU by bus ID: %v, index %d", ret, f.indexOf(d))
	}
}

// A pending Wait wakes as soon as an event is injected, well before its
// timeout.
func TestFakeEventSetWakesWait(t *testing.T) {
	f, err := NewFixture("dgx-a100")
	if err != nil {
		t.Fatal(err)
	}
	lib := f.Interface()
	set, ret := lib.EventSetCreate()
	if ret != nvmllib.SUCCESS {
		t.Fatal(ret)
	}
	dev, _ := lib.DeviceGetHandleByIndex(2)
	if ret := dev.RegisterEvents(nvmllib.EventTypeXidCriticalError, set); ret != nvmllib.SUCCESS {
		t.Fatal(ret)
	}
	if ret := dev.RegisterEvents(nvmllib.EventTypeClock, set); ret != nvmllib.ERROR_NOT_SUPPORTED {
		t.Errorf("registering an unsupported event type: %v", ret)
	}

	start := time.Now()
	if _, ret := set.Wait(20); ret != nvmllib.ERROR_TIMEOUT {
		t.Errorf("Wait on an empty set = %v, want ERROR_TIMEOUT", ret)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Error("Wait returned before its timeout")
	}

	type result struct {
		data nvmllib.EventData
		ret  nvmllib.Return
		at   time.Time
	}
	got := make(chan result, 1)
	go func() {
		data, ret := set.Wait(60_000)
		got <- result{data, ret, time.Now()}
	}()
	time.Sleep(20 * time.Millisecond) // let Wait block
	f.InjectECC(2, true)              // not registered for ECC: dropped
	injected := time.Now()
	f.InjectXID(2, 48)
	select {
	case r := <-got:
		if r.ret != nvmllib.SUCCESS || r.data.EventType != nvmllib.EventTypeXidCriticalError || r.data.EventData != 48 || f.indexOf(r.data.Device) != 2 {
			t.Errorf("Wait = %+v, %v", r.data, r.ret)
		}
		if lag := r.at.Sub(injected); lag > time.Second {
			t.Errorf("Wait woke %v after the injection", lag)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not wake on an injected event")
	}

	// Free wakes a waiter too, and the set is forgotten.
	go func() {
		data, ret := set.Wait(60_000)
		got <- result{data, ret, time.Now()}
	}()
	time.Sleep(20 * time.Millisecond)
	if ret := set.Free(); ret != nvmllib.SUCCESS {
		t.Fatal(ret)
	}
	select {
	case r := <-got:
		if r.ret == nvmllib.SUCCESS {
			t.Errorf("Wait on a freed set succeeded: %+v", r.data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Free did not wake the waiter")
	}
	if f.Watching(2) {
		t.Error("a freed set still watches GPU 2")
	}
}

// Injections race with a reader and with each other (run with -race).
func TestFixtureConcurrentInjection(t *testing.T) {
	b, f := started(t, "dgx-h100")
	events, stop := watch(t, b, nil)
	waitWatching(t, f, 0, 1, 2, 3, 4, 5, 6, 7)

	const perGPU = 20
	var wg sync.WaitGroup
	for i := range f.Len() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range perGPU {
				f.InjectXID(i, uint64(100+x))
				if x%5 == 0 {
					_ = b.CheckDevice(i)
					_ = f.Watching(i)
				}
			}
		}()
	}
	counts := map[int]int{}
	for range f.Len() * perGPU {
		e := next(t, events)
		if e.Kind != EventXID {
			t.Fatalf("unexpected event %v", e)
		}
		counts[e.Index]++
	}
	wg.Wait()
	for i := range f.Len() {
		if counts[i] != perGPU {
			t.Errorf("GPU %d: %d events, want %d", i, counts[i], perGPU)
		}
	}
	// Lose and recover concurrently with discovery-free probing.
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 10 {
			f.InjectGPULost(3)
			f.Recover(3)
		}
	}()
	go func() {
		defer wg.Done()
		for range 10 {
			_ = b.CheckDevice(3)
		}
	}()
	wg.Wait()
	if err := stop(); err != nil {
		t.Errorf("WatchEvents: %v", err)
	}
}

func TestFixtureIndexOutOfRange(t *testing.T) {
	f, err := NewFixture("l4-1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "no GPU 1") {
			t.Errorf("InjectXID(1) on a 1-GPU fixture: recover() = %v", r)
		}
	}()
	f.InjectXID(1, 48)
}

func TestFixtureNoNVLinkAnswers(t *testing.T) {
	f, err := NewFixture("pcie-4")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.Interface().DeviceGetHandleByIndex(0)
	if _, ret := d.GetNvLinkState(0); ret != nvmllib.ERROR_NOT_SUPPORTED {
		t.Errorf("GetNvLinkState on a GPU without NVLink = %v", ret)
	}
	if _, ret := d.GetNumaNodeId(); ret != nvmllib.ERROR_NOT_SUPPORTED {
		t.Errorf("pcie-4 GetNumaNodeId = %v, want ERROR_NOT_SUPPORTED", ret)
	}
	a, _ := NewFixture("dgx-a100")
	d, _ = a.Interface().DeviceGetHandleByIndex(0)
	if _, ret := d.GetNvLinkState(12); ret != nvmllib.ERROR_INVALID_ARGUMENT {
		t.Errorf("GetNvLinkState(12) on a 12-link GPU = %v", ret)
	}
	if typ, ret := d.GetNvLinkRemoteDeviceType(11); ret != nvmllib.SUCCESS || typ != nvmllib.NVLINK_DEVICE_TYPE_SWITCH {
		t.Errorf("GetNvLinkRemoteDeviceType(11) = %v, %v", typ, ret)
	}
}
