// Package nodelease is the contract between gantry-device-plugin, which
// renews one Lease per node while it runs, and whoever decides from those
// Leases whether a node's NodeGPU is current (gantry-scheduler). The NodeGPU
// itself carries no heartbeat: it is a large object, written only when the
// GPUs' state changes, while a Lease is small and cheap to renew often.
package nodelease

import (
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	// NamePrefix starts the name of every node's Lease: "gantry-gpu-" and
	// the node's name. The prefix keeps a node's Lease apart from the
	// leader-election Leases that may share its namespace (a node named
	// gantry-scheduler would otherwise hold the scheduler's lock).
	NamePrefix = "gantry-gpu-"

	// MaxNodeNameLength is the longest node name whose Lease name is still
	// a valid object name (253 characters with the prefix).
	MaxNodeNameLength = validation.DNS1123SubdomainMaxLength - len(NamePrefix)

	// DefaultNamespace holds the Leases when the device plugin is not told
	// otherwise and does not run in a pod: the namespace Gantry is
	// installed in by default. In a pod, the pod's own namespace is used.
	DefaultNamespace = "gantry-system"

	// DefaultDuration is how long a Lease stays valid after its renewal,
	// as the kubelet's node Lease.
	DefaultDuration = 40 * time.Second

	// LabelKey and LabelValue mark Gantry's node Leases, so that readers
	// can watch them alone among the namespace's Leases.
	LabelKey   = "gantry.dev/lease"
	LabelValue = "node-gpu"
)

// Name is the name of node's Lease.
func Name(node string) string { return NamePrefix + node }

// NodeName is the node a Lease is for, from its name; false when the
// Lease is not a node's.
func NodeName(lease *coordinationv1.Lease) (string, bool) {
	node, ok := strings.CutPrefix(lease.Name, NamePrefix)
	return node, ok && node != ""
}

// Labels are the labels every node Lease carries.
func Labels() map[string]string { return map[string]string{LabelKey: LabelValue} }

// Selector selects node Leases among others.
func Selector() labels.Selector { return labels.SelectorFromSet(Labels()) }

// RenewInterval is how often a Lease of the given duration is renewed: a
// quarter of it, as the kubelet does, so that three renewals in a row can
// fail before the Lease expires.
func RenewInterval(duration time.Duration) time.Duration { return duration / 4 }

// ValidateDuration says why a Lease duration cannot be used: a Lease holds
// whole seconds, at least one.
func ValidateDuration(d time.Duration) error {
	if d < time.Second {
		return fmt.Errorf("%s is less than 1s", d)
	}
	if d%time.Second != 0 {
		return fmt.Errorf("%s is not a whole number of seconds", d)
	}
	if d > time.Duration(1<<31-1)*time.Second {
		return fmt.Errorf("%s is too long", d)
	}
	return nil
}

// ExpiresAt is when the Lease stops vouching for its node: its last
// renewal plus its duration. False when either is missing, which vouches
// for nothing.
func ExpiresAt(lease *coordinationv1.Lease) (time.Time, bool) {
	if lease == nil || lease.Spec.RenewTime == nil || lease.Spec.LeaseDurationSeconds == nil {
		return time.Time{}, false
	}
	return lease.Spec.RenewTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second), true
}

// Expired reports whether the Lease no longer vouches for its node at now:
// renewTime + leaseDurationSeconds is before now, or either is missing.
// renewTime is read from the node's clock and now from the reader's: the
// default duration leaves room for the skew of clocks kept by NTP.
func Expired(lease *coordinationv1.Lease, now time.Time) bool {
	at, ok := ExpiresAt(lease)
	return !ok || at.Before(now)
}
