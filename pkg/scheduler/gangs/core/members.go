package core

import (
	"slices"
)

// Reserve records that the member passed Reserve on node, and forgets that
// it was rejected before.
func (b *Book) Reserve(gang, member, node string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.entry(gang)
	if g.reserved == nil {
		g.reserved = map[string]string{}
	}
	g.reserved[member] = node
	delete(g.rejecting, member)
}

// Unreserve records that the member gave its reservation up. It reports
// whether that was the echo of a rejection this book was told of
// (Rejecting): such a member's leaving is no news for its gang.
func (b *Book) Unreserve(gang, member string) (echo bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return false
	}
	delete(g.reserved, member)
	_, echo = g.rejecting[member]
	delete(g.rejecting, member)
	b.gc(gang)
	return echo
}

// Reserved reports whether the member is past Reserve and not unreserved.
func (b *Book) Reserved(gang, member string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return false
	}
	_, ok := g.reserved[member]
	return ok
}

// ReservedMembers returns the gang's members past Reserve, sorted.
func (b *Book) ReservedMembers(gang string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.reserved))
	for k := range g.reserved {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ReservedOn maps the gang's members past Reserve to their nodes.
func (b *Book) ReservedOn(gang string) map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil || len(g.reserved) == 0 {
		return nil
	}
	out := make(map[string]string, len(g.reserved))
	for k, v := range g.reserved {
		out[k] = v
	}
	return out
}

// Rejecting records that the members are being rejected in Permit.
func (b *Book) Rejecting(gang string, members ...string) {
	if len(members) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.entry(gang)
	if g.rejecting == nil {
		g.rejecting = map[string]struct{}{}
	}
	for _, m := range members {
		g.rejecting[m] = struct{}{}
	}
}

// IsRejecting reports whether the member was rejected in Permit and has not
// been unreserved or reserved again since: it is leaving, and no longer
// counts for its gang.
func (b *Book) IsRejecting(gang, member string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return false
	}
	_, ok := g.rejecting[member]
	return ok
}

// Forget forgets a member that no longer exists.
func (b *Book) Forget(gang, member string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return
	}
	delete(g.reserved, member)
	delete(g.rejecting, member)
	if _, ok := g.blocked[member]; ok {
		delete(g.blocked, member)
		g.failure = nil
	}
	b.gc(gang)
}

// Block records that the member was refused for a reason of its own (say,
// another plugin's PreFilter found it invalid): no plan can complete the
// gang until it passes.
func (b *Book) Block(gang, member, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.entry(gang)
	if g.blocked == nil {
		g.blocked = map[string]string{}
	}
	g.blocked[member] = reason
}

// Unblock records that the member got past what refused it, and forgets
// the gang's last failure, which may have been because of it.
func (b *Book) Unblock(gang, member string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return
	}
	if _, ok := g.blocked[member]; ok {
		delete(g.blocked, member)
		g.failure = nil
		b.gc(gang)
	}
}

// BlockedMember returns the first of members (in their order) that is
// blocked, and why.
func (b *Book) BlockedMember(gang string, members []string) (string, string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.gangs[gang]
	if g == nil {
		return "", "", false
	}
	for _, m := range members {
		if reason, ok := g.blocked[m]; ok {
			return m, reason, true
		}
	}
	return "", "", false
}
