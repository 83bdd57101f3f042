// Command gantry-device-plugin is Gantry's NVIDIA GPU device plugin.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
)

func main() {
	os.Exit(cli.Run(deviceplugin.NewCommand()))
}
