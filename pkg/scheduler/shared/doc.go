// Package shared is what Gantry's scheduler plugins share within one
// scheduler, built once by the scheduler's setup and passed to every
// plugin's factory: the typed informers of Gantry's resources (one per
// resource for the whole process, the scheduler's requeueing included).
// Plugin packages import this package and leaf packages, never each other.
package shared
