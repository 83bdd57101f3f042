// Command kubectl-gantry is a kubectl plugin (`kubectl gantry ...`) that
// shows Gantry's queues, the GPU map of nodes, gangs, and why a pod waits.
// It only reads from the cluster, and takes kubectl's connection and
// output flags.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/gantry-gpu/gantry/pkg/kubectlgantry"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if err := kubectlgantry.NewCommandWithStreams(streams).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
