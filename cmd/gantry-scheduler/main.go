// Command gantry-scheduler is Gantry's secondary scheduler.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	// What upstream kube-scheduler's main registers: the JSON log format,
	// client-go's metrics (leader election, REST client, work queues) and
	// the build-version metric.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"

	"github.com/gantry-gpu/gantry/pkg/scheduler"
)

func main() {
	os.Exit(cli.Run(scheduler.NewCommand()))
}
