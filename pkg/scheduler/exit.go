package scheduler

import "os"

// exit is os.Exit, replaceable in tests.
var (
	realExit = os.Exit
	exit     = realExit
)
