package deviceplugin

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// admittingSets is staticSets that also knows the pods the kubelet has
// given no GPU yet.
type admittingSets struct {
	staticSets
	admitting [][]string
	err       error
}

func (s admittingSets) AdmittingSets(context.Context) ([][]string, error) { return s.admitting, s.err }

func TestChooseTakesThePodTheKubeletIsAdmitting(t *testing.T) {
	topo := twoIslandBox(t)
	uuids := topo.UUIDs(topo.All())
	older, younger := []string{uuids[0], uuids[1]}, []string{uuids[4], uuids[5]}
	tests := []struct {
		name       string
		sets       AnnotatedSets
		want       []string
		wantSource string
	}{
		{"the kubelet admits the younger of two same-size pods",
			admittingSets{staticSets: staticSets{cached: [][]string{older, younger}}, admitting: [][]string{younger}},
			younger, SourceAdmitting},
		{"without the kubelet's word, the oldest bound pod's choice",
			staticSets{cached: [][]string{older, younger}},
			older, SourceAnnotation},
		{"the kubelet cannot be asked: the oldest bound pod's choice",
			admittingSets{staticSets: staticSets{cached: [][]string{older, younger}}, err: errors.New("connection refused")},
			older, SourceAnnotation},
		{"the admitting pod's set is no longer available: another bound pod's",
			admittingSets{staticSets: staticSets{cached: [][]string{older, younger}}, admitting: [][]string{{uuids[0], uuids[7]}}},
			older, SourceAnnotation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			available := slices.Clone(uuids[:6])
			got, source, err := NewPreferredAllocator(topo, tt.sets).Choose(context.Background(), available, nil, 2)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || source != tt.wantSource {
				t.Errorf("Choose = %v from %s, want %v from %s", got, source, tt.want, tt.wantSource)
			}
		})
	}
}
