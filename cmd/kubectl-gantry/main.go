// Command kubectl-gantry is a kubectl plugin (`kubectl gantry ...`) that
// shows Gantry's queues, the GPU map of nodes, gangs, and why a pod waits.
// It only reads from the cluster.
package main

import (
	"fmt"
	"os"

	"github.com/gantry-gpu/gantry/pkg/kubectlgantry"
)

func main() {
	if err := kubectlgantry.NewCommand(os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
