package nodelease

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

func TestNameRoundTrips(t *testing.T) {
	for _, node := range []string{"gpu-0", "node.example.com", strings.Repeat("a", MaxNodeNameLength)} {
		name := Name(node)
		if errs := validation.IsDNS1123Subdomain(name); len(errs) != 0 {
			t.Errorf("Name(%q) = %q is not a valid object name: %v", node, name, errs)
		}
		got, ok := NodeName(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}})
		if !ok || got != node {
			t.Errorf("NodeName(%q) = %q, %t; want %q, true", name, got, ok, node)
		}
	}
}

func TestNodeNameRefusesOtherLeases(t *testing.T) {
	for _, name := range []string{"gantry-scheduler", "gpu-0", NamePrefix} {
		if node, ok := NodeName(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}}); ok {
			t.Errorf("NodeName(%q) = %q, true; want false", name, node)
		}
	}
}

func TestSelectorMatchesLabels(t *testing.T) {
	if !Selector().Matches(labels.Set(Labels())) {
		t.Errorf("Selector %s does not match Labels %v", Selector(), Labels())
	}
	if Selector().Matches(labels.Set{"app": "other"}) {
		t.Errorf("Selector %s matches a Lease without the label", Selector())
	}
}

func TestRenewIntervalIsAQuarter(t *testing.T) {
	if got := RenewInterval(DefaultDuration); got != 10*time.Second {
		t.Errorf("RenewInterval(%s) = %s, want 10s", DefaultDuration, got)
	}
}

func TestValidateDuration(t *testing.T) {
	for _, tc := range []struct {
		d       time.Duration
		wantErr string
	}{
		{DefaultDuration, ""},
		{time.Second, ""},
		{0, "less than 1s"},
		{500 * time.Millisecond, "less than 1s"},
		{1500 * time.Millisecond, "whole number of seconds"},
		{time.Duration(1<<31) * time.Second, "too long"},
	} {
		err := ValidateDuration(tc.d)
		if tc.wantErr == "" && err != nil {
			t.Errorf("ValidateDuration(%s) = %v, want nil", tc.d, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("ValidateDuration(%s) = %v, want an error saying %q", tc.d, err, tc.wantErr)
		}
	}
}

func TestExpired(t *testing.T) {
	renewed := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	lease := func(renew *time.Time, seconds *int32) *coordinationv1.Lease {
		l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: seconds}}
		if renew != nil {
			l.Spec.RenewTime = &metav1.MicroTime{Time: *renew}
		}
		return l
	}
	for _, tc := range []struct {
		name  string
		lease *coordinationv1.Lease
		now   time.Time
		want  bool
	}{
		{"just renewed", lease(&renewed, ptr.To[int32](40)), renewed, false},
		{"at the last moment", lease(&renewed, ptr.To[int32](40)), renewed.Add(40 * time.Second), false},
		{"past its duration", lease(&renewed, ptr.To[int32](40)), renewed.Add(40*time.Second + time.Microsecond), true},
		{"never renewed", lease(nil, ptr.To[int32](40)), renewed, true},
		{"no duration", lease(&renewed, nil), renewed, true},
		{"no lease", nil, renewed, true},
	} {
		if got := Expired(tc.lease, tc.now); got != tc.want {
			t.Errorf("%s: Expired = %t, want %t", tc.name, got, tc.want)
		}
	}
}
