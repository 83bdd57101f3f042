package kubectlgantry

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// indexRanges prints sorted indexes compactly: "0-3,6".
func indexRanges(idx []int32) string {
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(int(idx[i])))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// RenderNodesTable writes one row per GPU.
func RenderNodesTable(w io.Writer, v NodesView) error {
	if len(v.Nodes) == 0 {
		_, err := fmt.Fprintln(w, "No GPU nodes found.")
		return err
	}
	t := newTable(w, "NODE", "GPU", "MODEL", "MEMORY", "NVLINK", "STATE", "POD")
	var problems []string
	for _, n := range v.Nodes {
		if !n.HasNodeGPU {
			t.row(n.Name, "-", "-", "-", "-", fmt.Sprintf("%d/%d used", n.UsedGPUs, n.CapacityGPUs), orDash(strings.Join(n.Pods, ",")))
		}
		for _, g := range n.GPUs {
			isl := "-"
			if g.NVLinkIsland != nil {
				isl = indexRanges(n.NVLinkIslands[*g.NVLinkIsland])
			}
			state := g.State
			if g.HealthReason != "" {
				state += " (" + g.HealthReason + ")"
			}
			mem := "-"
			if g.MemoryMiB > 0 {
				mem = fmt.Sprintf("%dGi", (g.MemoryMiB+512)/1024)
			}
			pods := orDash(strings.Join(g.Pods, ","))
			if g.Mismatch != "" {
				pods += " (MISMATCH: " + g.Mismatch + ")"
			}
			t.row(n.Name, strconv.Itoa(int(g.Index)), orDash(g.Model), mem, isl, state, pods)
		}
		for _, p := range n.Problems {
			problems = append(problems, n.Name+": "+p)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	return writeProblems(w, problems)
}

func writeProblems(w io.Writer, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(w, "\nProblems:"); err != nil {
		return err
	}
	for _, p := range problems {
		if _, err := fmt.Fprintf(w, "  %s\n", p); err != nil {
			return err
		}
	}
	return nil
}

// mapSymbols are the letters given to the pods on one node, in the order
// of the lowest GPU each holds.
const mapSymbols = "ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwxyz"

// RenderNodesMap writes one line per node: a box per GPU, NVLink islands
// separated by "|", and a legend of the pods.
//
//	node-a  8 GPUs  3 free  [A A B . | . X . .]  A=ns/train-0 B=ns/infer-1 X=Unhealthy(XID79)
func RenderNodesMap(w io.Writer, v NodesView) error {
	if len(v.Nodes) == 0 {
		_, err := fmt.Fprintln(w, "No GPU nodes found.")
		return err
	}
	tw := newTable(w, "NODE", "GPUS", "FREE", "MAP", "LEGEND")
	for _, n := range v.Nodes {
		if !n.HasNodeGPU {
			tw.row(n.Name, strconv.FormatInt(n.CapacityGPUs, 10), strconv.FormatInt(n.FreeGPUs, 10), "(no NodeGPU)", orDash(strings.Join(n.Pods, " ")))
			continue
		}
		symbol := map[string]byte{}
		var legend []string
		var boxes []string
		for i, g := range n.GPUs {
			if i > 0 && islandOf(g) != islandOf(n.GPUs[i-1]) {
				boxes = append(boxes, "|")
			}
			var c byte = '.'
			if len(g.Pods) > 0 && g.Mismatch == "" {
				p := g.Pods[0]
				s, ok := symbol[p]
				if !ok {
					s = '#'
					if len(symbol) < len(mapSymbols) {
						s = mapSymbols[len(symbol)]
					}
					symbol[p] = s
					legend = append(legend, fmt.Sprintf("%c=%s", s, p))
				}
				c = s
			}
			if g.State == GPUUnhealthy {
				c = 'X'
				note := "X=Unhealthy"
				if g.HealthReason != "" {
					note += "(" + g.HealthReason + ")"
				}
				if !containsString(legend, note) {
					legend = append(legend, note)
				}
			}
			if g.Mismatch != "" {
				c = '!'
				if !containsString(legend, "!=mismatch(see table)") {
					legend = append(legend, "!=mismatch(see table)")
				}
			}
			boxes = append(boxes, string(c))
		}
		tw.row(n.Name, strconv.FormatInt(n.CapacityGPUs, 10), strconv.FormatInt(n.FreeGPUs, 10),
			"["+strings.Join(boxes, " ")+"]", orDash(strings.Join(legend, " ")))
	}
	if err := tw.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\n. free  X unhealthy  ! scheduler and kubelet disagree  | NVLink island boundary  letters: pods (legend)")
	return err
}

// islandOf is the GPU's island, -1 for none.
func islandOf(g GPUSlot) int {
	if g.NVLinkIsland == nil {
		return -1
	}
	return *g.NVLinkIsland
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
