package core

import (
	"slices"
	"sync"
	"time"
)

// Book keeps every gang's plan between scheduling cycles, and what each gang
// holds. Members are named by a key unique to the pod (the plugin uses the
// pod's UID, so a pod deleted and created again under its name is a new
// member). It is safe for concurrent use.
//
// A plan is made once for all the gang's members still to place, when the
// first of them is popped, and each member then takes its place from it. A
// place is handed out once: a member that asks again under the same plan
// has failed somewhere after PreFilter, so the plan no longer holds and a
// new one is made. Until every member has taken its place, the places not
// yet reserved are holds: plans made for other gangs are made around them,
// so the gang that planned first is not broken into by the next one (the
// interleaving that deadlocks Coscheduling's gangs).
type Book struct {
	mu      sync.Mutex
	now     func() time.Time
	ids     uint64
	version uint64
	gangs   map[string]*gangEntry
}

type gangEntry struct {
	plan *bookedPlan
	// reserved maps the members past Reserve that have not been
	// unreserved (waiting in Permit, binding or bound) to their node.
	reserved map[string]string
	// rejecting holds the members this plugin rejected in Permit: their
	// Unreserve is the echo of that rejection, not a new failure.
	rejecting map[string]struct{}
	// caps limit how many of the gang's members plans put on a node.
	caps map[string]nodeCap
	// blocked maps members that another plugin refused before the plan
	// was asked (its PreFilter) to why: the gang cannot be completed
	// until they pass.
	blocked map[string]string
	failure *failure
}

type bookedPlan struct {
	id          uint64
	expires     time.Time
	members     map[string]Member
	assignments map[string]Assignment
	handedOut   map[string]struct{}
}

type nodeCap struct {
	max   int
	until time.Time
}

type failure struct {
	message     string
	fingerprint uint64
}

// NewBook returns an empty book that reads the time from now (time.Now when
// nil).
func NewBook(now func() time.Time) *Book {
	if now == nil {
		now = time.Now
	}
	return &Book{now: now, gangs: map[string]*gangEntry{}}
}

// Lookup is what the book says about a member's place.
type Lookup int

const (
	// Replan means the gang has no plan the member can use: none, an
	// expired one, one made before the member existed, or one whose place
	// for the member was handed out already (and so failed).
	Replan Lookup = iota
	// Assigned means the member has its place.
	Assigned
	// LeftOut means the plan left the member out: it placed the gang's
	// minMember, not every pod of the gang.
	LeftOut
)

func (l Lookup) String() string {
	switch l {
	case Replan:
		return "Replan"
	case Assigned:
		return "Assigned"
	case LeftOut:
		return "LeftOut"
	}
	return "Lookup(?)"
}

func (b *Book) entry(gang string) *gangEntry {
	g := b.gangs[gang]
	if g == nil {
		g = &gangEntry{}
		b.gangs[gang] = g
	}
	return g
}

// gc forgets a gang the book has nothing left to say about.
func (b *Book) gc(gang string) {
	g := b.gangs[gang]
	if g != nil && g.plan == nil && len(g.reserved) == 0 && len(g.rejecting) == 0 && len(g.caps) == 0 && len(g.blocked) == 0 && g.failure == nil {
		delete(b.gangs, gang)
	}
}

// dropLocked drops the gang's plan, and reports whether it had one.
func (b *Book) dropLocked(g *gangEntry) bool {
	if g == nil || g.plan == nil {
		return false
	}
	g.plan = nil
	b.version++
	return true
}

// Take hands the member its place in the gang's plan. A plan that cannot
// serve the member (see Replan) is dropped.
func (b *Book) Take(gang, member string) (Assignment, Lookup) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil || g.plan == nil {
		return Assignment{}, Replan
	}
	p := g.plan
	_, known := p.members[member]
	_, taken := p.handedOut[member]
	if !b.now().Before(p.expires) || !known || taken {
		b.dropLocked(g)
		b.gc(gang)
		return Assignment{}, Replan
	}
	a, ok := p.assignments[member]
	if !ok {
		return Assignment{}, LeftOut
	}
	p.handedOut[member] = struct{}{}
	return a, Assigned
}

// SetPlan records the gang's new plan over members (every member the plan
// considered, placed or left out), valid for ttl. It replaces any plan the
// gang had and forgets its last failure. It returns the plan's id.
func (b *Book) SetPlan(gang string, plan *Plan, members []Member, ttl time.Duration) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.entry(gang)
	b.ids++
	b.version++
	bp := &bookedPlan{
		id:          b.ids,
		expires:     b.now().Add(ttl),
		members:     make(map[string]Member, len(members)),
		assignments: make(map[string]Assignment, len(plan.Assignments)),
		handedOut:   map[string]struct{}{},
	}
	for _, m := range members {
		bp.members[m.Key] = m
	}
	for k, a := range plan.Assignments {
		bp.assignments[k] = a
	}
	g.plan = bp
	g.failure = nil
	return bp.id
}

// HasPlan reports whether the gang has a plan that has not expired.
func (b *Book) HasPlan(gang string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	return g != nil && g.plan != nil && b.now().Before(g.plan.expires)
}

// Drop drops the gang's plan, and reports whether it had one.
func (b *Book) Drop(gang string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	dropped := b.dropLocked(b.gangs[gang])
	b.gc(gang)
	return dropped
}

// Expire drops the plans that have expired and returns their gangs.
func (b *Book) Expire() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	var out []string
	for gang, g := range b.gangs {
		if g.plan != nil && !now.Before(g.plan.expires) {
			b.dropLocked(g)
			b.gc(gang)
			out = append(out, gang)
		}
	}
	slices.Sort(out)
	return out
}

// Hold is a place another gang's plan keeps for a member that has not
// reserved it yet.
type Hold struct {
	Gang       string
	Member     Member
	Assignment Assignment
}

// Holds returns the places that the live plans of every gang but except
// keep for members not reserved yet, for which pending(gang, member) is
// true (the plugin checks the pod still exists and is not bound). Sorted
// by gang and member.
func (b *Book) Holds(except string, pending func(gang, member string) bool) []Hold {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	var out []Hold
	for gang, g := range b.gangs {
		if gang == except || g.plan == nil || !now.Before(g.plan.expires) {
			continue
		}
		for key, a := range g.plan.assignments {
			if _, ok := g.reserved[key]; ok {
				continue
			}
			if pending != nil && !pending(gang, key) {
				continue
			}
			out = append(out, Hold{Gang: gang, Member: g.plan.members[key], Assignment: a})
		}
	}
	slices.SortFunc(out, func(x, y Hold) int {
		if x.Gang != y.Gang {
			if x.Gang < y.Gang {
				return -1
			}
			return 1
		}
		if x.Member.Key < y.Member.Key {
			return -1
		}
		if x.Member.Key > y.Member.Key {
			return 1
		}
		return 0
	})
	return out
}

// ForgetGang forgets everything about a gang that no longer exists.
func (b *Book) ForgetGang(gang string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropLocked(b.gangs[gang])
	delete(b.gangs, gang)
}

// Cap limits the gang's plans to max members on node (in all, those
// already there included) until until. A lower cap in force stays.
func (b *Book) Cap(gang, node string, max int, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.entry(gang)
	if g.caps == nil {
		g.caps = map[string]nodeCap{}
	}
	if c, ok := g.caps[node]; ok && b.now().Before(c.until) && c.max <= max {
		c.until = until
		g.caps[node] = c
		return
	}
	g.caps[node] = nodeCap{max: max, until: until}
}

// Caps returns the caps in force on the gang's members per node, or nil.
func (b *Book) Caps(gang string) map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return nil
	}
	now := b.now()
	var out map[string]int
	for node, c := range g.caps {
		if !now.Before(c.until) {
			delete(g.caps, node)
			continue
		}
		if out == nil {
			out = map[string]int{}
		}
		out[node] = c.max
	}
	b.gc(gang)
	return out
}

// SetFailure records that the gang could not be planned, with the message
// to repeat while the world looks the same (fingerprint).
func (b *Book) SetFailure(gang, message string, fingerprint uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entry(gang).failure = &failure{message: message, fingerprint: fingerprint}
}

// Failure returns the gang's last planning failure if it was recorded under
// the same fingerprint: nothing the plan depends on has changed since, and
// planning again would fail the same way.
func (b *Book) Failure(gang string, fingerprint uint64) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil || g.failure == nil || g.failure.fingerprint != fingerprint {
		return "", false
	}
	return g.failure.message, true
}

// Blocked returns the gangs whose last planning failed, sorted: when holds
// are released, they may fit now.
func (b *Book) Blocked() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for gang, g := range b.gangs {
		if g.failure != nil {
			out = append(out, gang)
		}
	}
	slices.Sort(out)
	return out
}

// Version changes whenever a plan is made or dropped, that is whenever the
// holds other gangs plan around change.
func (b *Book) Version() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}
