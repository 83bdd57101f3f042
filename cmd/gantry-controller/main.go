// Command gantry-controller is Gantry's controller manager.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	"github.com/gantry-gpu/gantry/pkg/controller"
)

func main() {
	os.Exit(cli.Run(controller.NewCommand()))
}
