package core

import (
	"slices"
	"testing"
	"time"
)

func TestLess(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		a, b SortKey
		want bool // a before b
	}{
		{"higher priority first", SortKey{Priority: 10, Time: t0.Add(time.Hour), Group: "ns/z"}, SortKey{Priority: 0, Time: t0, Group: "ns/a"}, true},
		{"lower priority after", SortKey{Priority: 0, Time: t0}, SortKey{Priority: 10, Time: t0}, false},
		{"older gang first", SortKey{Time: t0, Group: "ns/b"}, SortKey{Time: t0.Add(time.Second), Group: "ns/a"}, true},
		{"same time: group key", SortKey{Time: t0, Group: "ns/a", Pod: "ns/z"}, SortKey{Time: t0, Group: "ns/b", Pod: "ns/a"}, true},
		{"same gang: pod key", SortKey{Time: t0, Group: "ns/g", Pod: "ns/w-0"}, SortKey{Time: t0, Group: "ns/g", Pod: "ns/w-1"}, true},
		{"equal keys are not less", SortKey{Time: t0, Group: "ns/g", Pod: "ns/w"}, SortKey{Time: t0, Group: "ns/g", Pod: "ns/w"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Less(tc.a, tc.b); got != tc.want {
				t.Errorf("Less(a, b) = %v, want %v", got, tc.want)
			}
			if tc.want && Less(tc.b, tc.a) {
				t.Errorf("Less(b, a) is true too")
			}
		})
	}
}

// TestLessKeepsGangsTogether sorts two interleaved gangs and a plain pod
// created between them: each gang's members come out back to back.
func TestLessKeepsGangsTogether(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)
	gangA := func(pod string) SortKey { return SortKey{Time: t0, Group: "ns/a", Pod: "ns/" + pod} }
	gangB := func(pod string) SortKey {
		return SortKey{Time: t0.Add(2 * time.Second), Group: "ns/b", Pod: "ns/" + pod}
	}
	queue := []SortKey{
		gangB("b-0"), gangA("a-2"), {Time: t0.Add(time.Second), Group: "ns/plain", Pod: "ns/plain"},
		gangA("a-0"), gangB("b-1"), gangA("a-1"), {Priority: 100, Time: t0.Add(time.Hour), Group: "ns/urgent", Pod: "ns/urgent"},
	}
	slices.SortFunc(queue, func(x, y SortKey) int {
		switch {
		case Less(x, y):
			return -1
		case Less(y, x):
			return 1
		}
		return 0
	})
	var got []string
	for _, k := range queue {
		got = append(got, k.Pod)
	}
	want := []string{"ns/urgent", "ns/a-0", "ns/a-1", "ns/a-2", "ns/plain", "ns/b-0", "ns/b-1"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestAdmit(t *testing.T) {
	cases := []struct {
		name      string
		found     bool
		minMember int32
		pods      int
		others    []string
		wantOK    bool
		wantMsg   string
	}{
		{name: "no PodGroup", found: false, pods: 4, wantMsg: "PodGroup ns/x not found"},
		{name: "too few pods", found: true, minMember: 4, pods: 3, wantMsg: "gang ns/x has 3 of minMember 4 pods"},
		{name: "exactly minMember", found: true, minMember: 4, pods: 4, wantOK: true},
		{name: "more than minMember", found: true, minMember: 4, pods: 6, wantOK: true},
		{name: "minMember unset", found: true, minMember: 0, pods: 1, wantOK: true},
		{name: "mixed schedulers", found: true, minMember: 2, pods: 3, others: []string{"b (default-scheduler)"},
			wantMsg: "gang ns/x: pods b (default-scheduler) name another scheduler; every pod of a gang must have the same schedulerName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, msg := Admit("ns/x", tc.found, tc.minMember, tc.pods, tc.others)
			if ok != tc.wantOK || msg != tc.wantMsg {
				t.Errorf("Admit = %v, %q; want %v, %q", ok, msg, tc.wantOK, tc.wantMsg)
			}
		})
	}
}

func TestQuorum(t *testing.T) {
	cases := []struct {
		name      string
		minMember int32
		sets      [][]string
		wantN     int
		wantOK    bool
	}{
		{"alone, min 1", 1, [][]string{{"self"}}, 1, true},
		{"waiting and self short of min", 4, [][]string{nil, {"a"}, {"a", "b"}, {"self"}}, 3, false},
		{"reserved members also waiting count once", 3, [][]string{nil, {"a", "b", "self"}, {"a", "b"}, {"self"}}, 3, true},
		{"bound members count", 4, [][]string{{"x", "y"}, {"self"}, {"a"}, {"self"}}, 4, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := Quorum(tc.minMember, tc.sets...)
			if n != tc.wantN || ok != tc.wantOK {
				t.Errorf("Quorum = %d, %v; want %d, %v", n, ok, tc.wantN, tc.wantOK)
			}
		})
	}
}
