package resourceversion

import "testing"

func TestNewer(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "5", true},
		{"5", "6", true},
		{"6", "5", false},
		{"5", "5", false},
		{"10", "9", false},
		{"abc", "abd", true},
		{"abc", "abc", false},
	} {
		if got := Newer(tc.a, tc.b); got != tc.want {
			t.Errorf("Newer(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
