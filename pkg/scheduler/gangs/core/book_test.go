package core

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestBook() (*Book, *clock) {
	c := &clock{t: time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)}
	return NewBook(c.now), c
}

// planOf places members m0..m(n-1) on nodes n0..; members beyond placed are
// considered but left out.
func planOf(n, placed int) (*Plan, []Member) {
	p := &Plan{Assignments: map[string]Assignment{}}
	var ms []Member
	for i := range n {
		m := Member{Key: fmt.Sprintf("m%d", i), GPUs: 4, Requests: Resources{"cpu": 1000}}
		ms = append(ms, m)
		if i < placed {
			p.Assignments[m.Key] = Assignment{Node: fmt.Sprintf("n%d", i)}
		}
	}
	return p, ms
}

func TestBookTake(t *testing.T) {
	type step struct {
		member     string
		wantNode   string
		wantLookup Lookup
	}
	cases := []struct {
		name     string
		noPlan   bool
		advance  time.Duration // before the steps
		steps    []step
		wantPlan bool // after the steps
	}{{
		name:   "no plan",
		noPlan: true,
		steps:  []step{{"m0", "", Replan}},
	}, {
		name:     "each member takes its place once",
		steps:    []step{{"m0", "n0", Assigned}, {"m1", "n1", Assigned}},
		wantPlan: true,
	}, {
		name:  "asking twice means the first attempt failed: replan",
		steps: []step{{"m0", "n0", Assigned}, {"m0", "", Replan}, {"m1", "", Replan}},
	}, {
		name:  "a member the plan never saw: replan",
		steps: []step{{"m9", "", Replan}},
	}, {
		name:     "a member the plan left out",
		steps:    []step{{"m2", "", LeftOut}, {"m2", "", LeftOut}},
		wantPlan: true,
	}, {
		name:    "an expired plan",
		advance: time.Minute,
		steps:   []step{{"m0", "", Replan}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, c := newTestBook()
			if !tc.noPlan {
				p, ms := planOf(3, 2)
				b.SetPlan("ns/g", p, ms, time.Minute)
			}
			c.t = c.t.Add(tc.advance)
			for i, s := range tc.steps {
				a, l := b.Take("ns/g", s.member)
				if a.Node != s.wantNode || l != s.wantLookup {
					t.Errorf("step %d: Take(%s) = %q, %v; want %q, %v", i, s.member, a.Node, l, s.wantNode, s.wantLookup)
				}
			}
			if got := b.HasPlan("ns/g"); got != tc.wantPlan {
				t.Errorf("HasPlan = %v, want %v", got, tc.wantPlan)
			}
		})
	}
}

func TestBookHolds(t *testing.T) {
	b, c := newTestBook()
	pa, ma := planOf(3, 3)
	b.SetPlan("ns/a", pa, ma, time.Minute)
	pb, mb := planOf(2, 2)
	b.SetPlan("ns/b", pb, mb, 2*time.Minute)
	b.Reserve("ns/a", "m0", "n0")

	keys := func(hs []Hold) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Gang+":"+h.Member.Key+"@"+h.Assignment.Node)
		}
		return out
	}
	all := func(string, string) bool { return true }

	// Gang b plans around a's places that a has not reserved yet.
	if got, want := keys(b.Holds("ns/b", all)), []string{"ns/a:m1@n1", "ns/a:m2@n2"}; !slices.Equal(got, want) {
		t.Errorf("holds for b: %v, want %v", got, want)
	}
	// A member that is gone or bound holds nothing.
	pending := func(gang, m string) bool { return !(gang == "ns/a" && m == "m2") }
	if got, want := keys(b.Holds("ns/b", pending)), []string{"ns/a:m1@n1"}; !slices.Equal(got, want) {
		t.Errorf("holds for b with m2 gone: %v, want %v", got, want)
	}
	// A third gang plans around both.
	if got := len(b.Holds("ns/c", all)); got != 4 {
		t.Errorf("holds for c: %d, want 4", got)
	}
	// Held members carry their requests.
	if h := b.Holds("ns/b", all)[0]; h.Member.GPUs != 4 || h.Member.Requests["cpu"] != 1000 {
		t.Errorf("hold lost the member's requests: %+v", h.Member)
	}
	// Expired plans hold nothing, and Expire drops them.
	c.t = c.t.Add(90 * time.Second)
	if got, want := keys(b.Holds("ns/c", all)), []string{"ns/b:m0@n0", "ns/b:m1@n1"}; !slices.Equal(got, want) {
		t.Errorf("holds after a's plan expired: %v, want %v", got, want)
	}
	if got := b.Expire(); !slices.Equal(got, []string{"ns/a"}) {
		t.Errorf("Expire = %v, want [ns/a]", got)
	}
	if b.HasPlan("ns/a") || !b.HasPlan("ns/b") {
		t.Errorf("after Expire: plan a %v, plan b %v", b.HasPlan("ns/a"), b.HasPlan("ns/b"))
	}
	// a's reservation outlives its plan.
	if !b.Reserved("ns/a", "m0") {
		t.Error("reservation of m0 lost with the plan")
	}
}

func TestBookReservations(t *testing.T) {
	b, _ := newTestBook()
	b.Reserve("ns/g", "m0", "n0")
	b.Reserve("ns/g", "m1", "n0")
	b.Reserve("ns/g", "m2", "n0")
	if got := b.ReservedMembers("ns/g"); !slices.Equal(got, []string{"m0", "m1", "m2"}) {
		t.Fatalf("reserved %v", got)
	}
	if got := b.ReservedOn("ns/g"); len(got) != 3 || got["m1"] != "n0" {
		t.Fatalf("reserved on %v", got)
	}
	// m1 is rejected by the gang: its Unreserve is an echo.
	b.Rejecting("ns/g", "m1")
	if !b.Unreserve("ns/g", "m1") {
		t.Error("Unreserve of a rejected member is not reported as an echo")
	}
	// m0 fails on its own: news.
	if b.Unreserve("ns/g", "m0") {
		t.Error("Unreserve of a failed member reported as an echo")
	}
	// A member rejected and then reserved again is news next time.
	b.Rejecting("ns/g", "m2")
	b.Reserve("ns/g", "m2", "n0")
	if b.Unreserve("ns/g", "m2") {
		t.Error("Reserve did not clear the rejection")
	}
	if got := b.ReservedMembers("ns/g"); len(got) != 0 {
		t.Errorf("reserved after unreserving all: %v", got)
	}
	if len(b.gangs) != 0 {
		t.Errorf("book keeps %d empty gangs", len(b.gangs))
	}
	// Forget drops what a deleted pod left.
	b.Reserve("ns/g", "m3", "n0")
	b.Rejecting("ns/g", "m3")
	b.Forget("ns/g", "m3")
	if b.Reserved("ns/g", "m3") || len(b.gangs) != 0 {
		t.Error("Forget left the member behind")
	}
}

func TestBookCaps(t *testing.T) {
	b, c := newTestBook()
	b.Cap("ns/g", "n1", 1, c.t.Add(time.Minute))
	b.Cap("ns/g", "n2", 0, c.t.Add(2*time.Minute))
	if got := b.Caps("ns/g"); fmt.Sprint(got) != "map[n1:1 n2:0]" {
		t.Errorf("caps %v", got)
	}
	// A higher cap does not lift a lower one in force, but extends it.
	b.Cap("ns/g", "n2", 3, c.t.Add(3*time.Minute))
	if got := b.Caps("ns/g"); got["n2"] != 0 {
		t.Errorf("cap on n2 raised to %d", got["n2"])
	}
	if got := b.Caps("ns/h"); got != nil {
		t.Errorf("gang h capped on %v", got)
	}
	c.t = c.t.Add(90 * time.Second)
	if got := b.Caps("ns/g"); fmt.Sprint(got) != "map[n2:0]" {
		t.Errorf("after a minute and a half caps %v, want n2 only", got)
	}
	c.t = c.t.Add(2 * time.Minute)
	if got := b.Caps("ns/g"); got != nil {
		t.Errorf("caps outlived their time: %v", got)
	}
	if len(b.gangs) != 0 {
		t.Errorf("book keeps %d empty gangs", len(b.gangs))
	}
}

func TestBookFailures(t *testing.T) {
	b, _ := newTestBook()
	v0 := b.Version()
	b.SetFailure("ns/a", "too big", 7)
	if msg, ok := b.Failure("ns/a", 7); !ok || msg != "too big" {
		t.Errorf("Failure(7) = %q, %v", msg, ok)
	}
	if _, ok := b.Failure("ns/a", 8); ok {
		t.Error("a failure is repeated after the world changed")
	}
	if got := b.Blocked(); !slices.Equal(got, []string{"ns/a"}) {
		t.Errorf("Blocked = %v", got)
	}
	p, ms := planOf(1, 1)
	b.SetPlan("ns/a", p, ms, time.Minute)
	if b.Version() == v0 {
		t.Error("SetPlan did not change the version")
	}
	if _, ok := b.Failure("ns/a", 7); ok || len(b.Blocked()) != 0 {
		t.Error("a plan did not clear the gang's failure")
	}
	v1 := b.Version()
	if !b.Drop("ns/a") || b.Version() == v1 {
		t.Error("Drop did not drop the plan or change the version")
	}
	if b.Drop("ns/a") {
		t.Error("Drop reported a plan twice")
	}
	b.SetFailure("ns/b", "no room", 1)
	b.ForgetGang("ns/b")
	if len(b.Blocked()) != 0 || len(b.gangs) != 0 {
		t.Error("ForgetGang left the gang behind")
	}
}

func TestBookBlockedMembers(t *testing.T) {
	b, _ := newTestBook()
	b.Block("ns/g", "m1", "bad annotation")
	if m, why, ok := b.BlockedMember("ns/g", []string{"m0", "m1", "m2"}); !ok || m != "m1" || why != "bad annotation" {
		t.Errorf("BlockedMember = %q, %q, %v", m, why, ok)
	}
	if _, _, ok := b.BlockedMember("ns/g", []string{"m0", "m2"}); ok {
		t.Error("a member blocked that was not")
	}
	// A gang failure recorded while m1 was blocked is forgotten once it
	// passes: it may have been because of m1.
	b.SetFailure("ns/g", "pod m1 cannot be scheduled", 1)
	b.Unblock("ns/g", "m1")
	if _, ok := b.Failure("ns/g", 1); ok {
		t.Error("Unblock kept the gang's failure")
	}
	if _, _, ok := b.BlockedMember("ns/g", []string{"m1"}); ok {
		t.Error("m1 still blocked")
	}
	b.Block("ns/g", "m2", "x")
	b.Forget("ns/g", "m2")
	if len(b.gangs) != 0 {
		t.Errorf("book keeps %d gangs after the blocked member was forgotten", len(b.gangs))
	}
}
