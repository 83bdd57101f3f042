// Package clients builds the typed clients Gantry's binaries talk to the API
// server with: built-in resources, gantry.dev (Queue, NodeGPU) and
// scheduler-plugins' PodGroup.
package clients

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	spclientset "sigs.k8s.io/scheduler-plugins/pkg/generated/clientset/versioned"

	gantryclientset "github.com/gantry-gpu/gantry/pkg/generated/clientset/versioned"
)

// Set is one of each client, on one API server.
type Set struct {
	Kube      kubernetes.Interface
	Gantry    gantryclientset.Interface
	PodGroups spclientset.Interface
}

// New builds the clients on cfg. They share one HTTP client, hence one
// connection pool.
func New(cfg *rest.Config) (*Set, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building an HTTP client for %s: %w", cfg.Host, err)
	}
	kube, err := kubernetes.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building the Kubernetes client for %s: %w", cfg.Host, err)
	}
	gantry, err := gantryclientset.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building the gantry.dev client for %s: %w", cfg.Host, err)
	}
	podGroups, err := spclientset.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building the scheduling.x-k8s.io client for %s: %w", cfg.Host, err)
	}
	return &Set{Kube: kube, Gantry: gantry, PodGroups: podGroups}, nil
}
