package bench

// scheduler-plugins' Coscheduling, the baseline the gang benchmark runs
// against, and the scheme that decodes its args.
import (
	_ "sigs.k8s.io/scheduler-plugins/apis/config/scheme"
	_ "sigs.k8s.io/scheduler-plugins/pkg/coscheduling"
)
