package deviceplugin

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
)

// Allocation is one GPU held by one container, as the kubelet reports it.
type Allocation struct {
	UUID         string
	PodNamespace string
	PodName      string
	Container    string
}

// AllocationLister reports the node's GPU allocations.
type AllocationLister interface {
	Allocations(ctx context.Context) ([]Allocation, error)
}

// PodResourcesClient reads GPU allocations from the kubelet's PodResources
// API, the node's ground truth of which container holds which device.
type PodResourcesClient struct {
	conn      *grpc.ClientConn
	client    podresourcesv1.PodResourcesListerClient
	resources map[string]bool
}

// NewPodResourcesClient returns a client of the PodResources socket that
// reports devices of the given resources. It connects lazily.
func NewPodResourcesClient(socket string, resources []string) (*PodResourcesClient, error) {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("PodResources socket %s: %w", socket, err)
	}
	res := make(map[string]bool, len(resources))
	for _, r := range resources {
		res[r] = true
	}
	return &PodResourcesClient{conn: conn, client: podresourcesv1.NewPodResourcesListerClient(conn), resources: res}, nil
}

// Close closes the connection.
func (c *PodResourcesClient) Close() error { return c.conn.Close() }

// Allocations lists every GPU of the served resources held by a container.
func (c *PodResourcesClient) Allocations(ctx context.Context) ([]Allocation, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := c.client.List(ctx, &podresourcesv1.ListPodResourcesRequest{})
	if err != nil {
		return nil, fmt.Errorf("listing pod resources: %w", err)
	}
	var out []Allocation
	for _, pod := range resp.PodResources {
		for _, ctr := range pod.Containers {
			for _, dev := range ctr.Devices {
				if !c.resources[dev.ResourceName] {
					continue
				}
				for _, id := range dev.DeviceIds {
					out = append(out, Allocation{UUID: id, PodNamespace: pod.Namespace, PodName: pod.Name, Container: ctr.Name})
				}
			}
		}
	}
	return out, nil
}

// Unallocated lists the pods the kubelet knows that hold no device of the
// served resources, as namespace/name. The kubelet adds a pod to its pod
// manager just before it admits it, and admits one pod at a time: while it
// asks GetPreferredAllocation for a pod, that pod is among these, and the
// pods bound after it are not yet.
func (c *PodResourcesClient) Unallocated(ctx context.Context) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := c.client.List(ctx, &podresourcesv1.ListPodResourcesRequest{})
	if err != nil {
		return nil, fmt.Errorf("listing pod resources: %w", err)
	}
	out := map[string]bool{}
	for _, pod := range resp.PodResources {
		held := false
		for _, ctr := range pod.Containers {
			for _, dev := range ctr.Devices {
				held = held || (c.resources[dev.ResourceName] && len(dev.DeviceIds) > 0)
			}
		}
		if !held {
			out[pod.Namespace+"/"+pod.Name] = true
		}
	}
	return out, nil
}
