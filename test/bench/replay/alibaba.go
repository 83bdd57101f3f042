package replay

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Alibaba's cluster-trace-gpu-v2023 (github.com/alibaba/clusterdata,
// folder cluster-trace-gpu-v2023; Weng et al., "Beware of Fragmentation",
// USENIX ATC '23) lists pods in openb_pod_list_*.csv with the columns
//
//	name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
//
// (times in seconds) and nodes in openb_node_list_*.csv with
//
//	sn,cpu_milli,memory_mib,gpu,model
//
// The loaders find columns by header name, so column order does not matter.

// AlibabaOptions says how trace pods become jobs.
type AlibabaOptions struct {
	// MaxDuration clips a pod's run time (0: 12 hours); pods still running
	// at the end of the trace have huge deletion times.
	MaxDuration time.Duration
	// Limit keeps only the first Limit GPU pods by creation time (0: all).
	Limit int
}

// LoadAlibabaPods reads an openb_pod_list_*.csv and returns one job per
// pod that asks for GPUs, sorted by arrival:
//
//   - GPUs: num_gpu whole GPUs; a GPU-sharing pod (num_gpu 1, gpu_milli
//     below 1000) gets one whole GPU, because the schedulers compared here
//     count whole nvidia.com/gpu devices. Pods with num_gpu 0 (CPU only)
//     are skipped.
//   - Arrival: creation_time less the earliest creation_time in the file.
//   - Duration: deletion_time − scheduled_time (creation_time when the pod
//     was never scheduled), at least one second, clipped to MaxDuration.
//   - Queue: the pod's qos column, lower-cased ("ls", "be", "burstable",
//     ...): the trace names no tenant, and QoS classes are the nearest
//     thing to one.
//
// The trace's pods are independent (no gangs): every job has one pod.
func LoadAlibabaPods(r io.Reader, opts AlibabaOptions) ([]Job, error) {
	if opts.MaxDuration <= 0 {
		opts.MaxDuration = 12 * time.Hour
	}
	rows, col, err := readCSV(r, "name", "num_gpu", "gpu_milli", "qos", "creation_time", "deletion_time", "scheduled_time")
	if err != nil {
		return nil, err
	}
	type pod struct {
		job      Job
		creation int64
	}
	var pods []pod
	for i, row := range rows {
		line := i + 2
		gpus, err := intField(row, col["num_gpu"])
		if err != nil {
			return nil, fmt.Errorf("line %d: num_gpu: %w", line, err)
		}
		if gpus <= 0 {
			continue
		}
		created, err := intField(row, col["creation_time"])
		if err != nil {
			return nil, fmt.Errorf("line %d: creation_time: %w", line, err)
		}
		deleted, err := intField(row, col["deletion_time"])
		if err != nil {
			return nil, fmt.Errorf("line %d: deletion_time: %w", line, err)
		}
		started := created
		if s := strings.TrimSpace(row[col["scheduled_time"]]); s != "" && s != "nan" {
			if started, err = intField(row, col["scheduled_time"]); err != nil {
				return nil, fmt.Errorf("line %d: scheduled_time: %w", line, err)
			}
		}
		d := time.Duration(max(deleted-started, 1)) * time.Second
		d = min(d, opts.MaxDuration)
		qos := strings.ToLower(strings.TrimSpace(row[col["qos"]]))
		if qos == "" || qos == "nan" {
			qos = "default"
		}
		pods = append(pods, pod{creation: created, job: Job{
			Name: strings.TrimSpace(row[col["name"]]), Kind: "trace", Queue: qos,
			Pods: 1, GPUsPerPod: int(gpus), Duration: d,
		}})
	}
	sort.SliceStable(pods, func(a, b int) bool { return pods[a].creation < pods[b].creation })
	if opts.Limit > 0 && len(pods) > opts.Limit {
		pods = pods[:opts.Limit]
	}
	jobs := make([]Job, len(pods))
	for i, p := range pods {
		p.job.Arrival = time.Duration(p.creation-pods[0].creation) * time.Second
		jobs[i] = p.job
	}
	return jobs, nil
}

// AlibabaNode is one row of openb_node_list_*.csv.
type AlibabaNode struct {
	Name  string
	GPUs  int
	Model string
}

// LoadAlibabaNodes reads an openb_node_list_*.csv and returns its GPU
// nodes (the GPU count column is "gpu" in the published file; "num_gpu" is
// accepted too).
func LoadAlibabaNodes(r io.Reader) ([]AlibabaNode, error) {
	rows, col, err := readCSV(r, "sn", "model")
	if err != nil {
		return nil, err
	}
	gpuCol, ok := col["gpu"]
	if !ok {
		if gpuCol, ok = col["num_gpu"]; !ok {
			return nil, errors.New("no column gpu (or num_gpu)")
		}
	}
	var out []AlibabaNode
	for i, row := range rows {
		n, err := intField(row, gpuCol)
		if err != nil {
			return nil, fmt.Errorf("line %d: gpu: %w", i+2, err)
		}
		if n > 0 {
			out = append(out, AlibabaNode{Name: row[col["sn"]], GPUs: int(n), Model: row[col["model"]]})
		}
	}
	return out, nil
}

// LoadAlibabaFile is LoadAlibabaPods on a file.
func LoadAlibabaFile(path string, opts AlibabaOptions) ([]Job, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	jobs, err := LoadAlibabaPods(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return jobs, nil
}

func readCSV(r io.Reader, required ...string) ([][]string, map[string]int, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, name := range required {
		if _, ok := col[name]; !ok {
			return nil, nil, fmt.Errorf("no column %q in header %v", name, header)
		}
	}
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, nil, err
	}
	return rows, col, nil
}

// intField parses an integer column; the trace writes some as floats
// ("1.0").
func intField(row []string, i int) (int64, error) {
	s := strings.TrimSpace(row[i])
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	return int64(f), nil
}
