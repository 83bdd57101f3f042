// Command gantry-scheduler is Gantry's secondary scheduler.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	"github.com/gantry-gpu/gantry/pkg/scheduler"
)

func main() {
	os.Exit(cli.Run(scheduler.NewCommand()))
}
