package core

import (
	"maps"
	"testing"
)

func TestNodeRoomPlace(t *testing.T) {
	tests := []struct {
		name   string
		room   NodeRoom
		pods   []int64
		fits   bool
		remain NodeRoom
	}{{
		name:   "best fit: a 1-GPU pod takes a node's last GPU, not a whole free node",
		room:   NodeRoom{8: 1, 1: 1},
		pods:   []int64{1},
		fits:   true,
		remain: NodeRoom{8: 1},
	}, {
		name:   "the rest of a node stays room",
		room:   NodeRoom{8: 1},
		pods:   []int64{2},
		fits:   true,
		remain: NodeRoom{6: 1},
	}, {
		name:   "biggest first: 4+4+8 on two free nodes",
		room:   NodeRoom{8: 2},
		pods:   []int64{4, 8, 4},
		fits:   true,
		remain: NodeRoom{},
	}, {
		name:   "enough in total, no node big enough",
		room:   NodeRoom{4: 2},
		pods:   []int64{8},
		fits:   false,
		remain: NodeRoom{4: 2},
	}, {
		name:   "a pod that fits no node takes nothing, the others are placed",
		room:   NodeRoom{8: 1, 2: 1},
		pods:   []int64{8, 8, 2},
		fits:   false,
		remain: NodeRoom{},
	}, {
		name:   "pods asking no GPU need no room",
		room:   NodeRoom{},
		pods:   []int64{0},
		fits:   true,
		remain: NodeRoom{},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.room.Clone()
			if got := before.holds(tc.pods); got != tc.fits {
				t.Errorf("holds = %v, want %v", got, tc.fits)
			}
			if !maps.Equal(before, tc.room) {
				t.Errorf("holds changed the room: %v, was %v", before, tc.room)
			}
			if got := tc.room.Place(tc.pods); got != tc.fits {
				t.Errorf("Place = %v, want %v", got, tc.fits)
			}
			if !maps.Equal(tc.room, tc.remain) {
				t.Errorf("room left = %v, want %v", tc.room, tc.remain)
			}
		})
	}
	var none NodeRoom
	if !none.Place([]int64{8}) || none.Clone() != nil {
		t.Error("a nil room must hold everything and stay nil")
	}
}
