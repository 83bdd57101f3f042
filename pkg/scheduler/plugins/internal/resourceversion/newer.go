// Package resourceversion orders the resource versions of objects that the
// scheduler plugins see from two informers (their own, and the scheduler's
// through queueing hints), so a late copy never undoes a newer one.
package resourceversion

import "strconv"

// Newer reports whether resource version b is newer than a. Versions are
// opaque to clients in general; etcd's are integers that grow. An empty a
// is older than anything, and versions that do not parse count as newer
// when they differ, so an update is never lost.
func Newer(a, b string) bool {
	if a == "" {
		return true
	}
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return a != b
	}
	return y > x
}
