package replay

import (
	"os"
	"testing"
	"time"
)

func TestLoadAlibabaPods(t *testing.T) {
	jobs, err := LoadAlibabaFile("testdata/openb_pod_list_sample.csv", AlibabaOptions{MaxDuration: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// pod-0002 asks for no GPU and is skipped; the rest by creation time.
	want := []Job{
		{Name: "sample-pod-0004", Kind: "trace", Queue: "be", Pods: 1, GPUsPerPod: 1, Arrival: 0, Duration: 1000 * time.Second},
		{Name: "sample-pod-0001", Kind: "trace", Queue: "ls", Pods: 1, GPUsPerPod: 1, Arrival: 100 * time.Second, Duration: 3598 * time.Second},
		{Name: "sample-pod-0003", Kind: "trace", Queue: "burstable", Pods: 1, GPUsPerPod: 8, Arrival: 600 * time.Second, Duration: 24 * time.Hour},
		{Name: "sample-pod-0005", Kind: "trace", Queue: "ls", Pods: 1, GPUsPerPod: 4, Arrival: 1100 * time.Second, Duration: time.Second},
	}
	if len(jobs) != len(want) {
		t.Fatalf("got %d jobs, want %d: %+v", len(jobs), len(want), jobs)
	}
	for i := range want {
		if jobs[i] != want[i] {
			t.Errorf("job %d = %+v, want %+v", i, jobs[i], want[i])
		}
	}
	limited, err := LoadAlibabaFile("testdata/openb_pod_list_sample.csv", AlibabaOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(limited) != 2 || limited[1].Duration != 3598*time.Second {
		t.Errorf("Limit 2: %+v", limited)
	}
}

func TestLoadAlibabaNodes(t *testing.T) {
	f, err := os.Open("testdata/openb_node_list_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nodes, err := LoadAlibabaNodes(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || nodes[0] != (AlibabaNode{Name: "sample-node-0002", GPUs: 8, Model: "G3"}) || nodes[1].GPUs != 4 {
		t.Errorf("nodes = %+v", nodes)
	}
}

func TestLoadAlibabaPodsNeedsItsColumns(t *testing.T) {
	f, err := os.Open("testdata/openb_node_list_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := LoadAlibabaPods(f, AlibabaOptions{}); err == nil {
		t.Error("a node list loaded as a pod list")
	}
}
