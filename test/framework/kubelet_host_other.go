//go:build !linux

package framework

import (
	"context"
	"errors"
)

// errKubeletLinuxOnly is what StartKubelet answers where the kubelet does
// not run.
var errKubeletLinuxOnly = errors.New("kubelet: real kubelets run on Linux only")

type kubeletHost struct{}

func claimKubeletHost(context.Context) (*kubeletHost, error) { return nil, errKubeletLinuxOnly }

func (*kubeletHost) recordOwnDir(string) error { return nil }

func (*kubeletHost) release(bool) error { return nil }

func unmountUnder(string) error { return nil }

func startProcessIn(_, _, _, _ string, _ ...string) (*Process, error) {
	return nil, errKubeletLinuxOnly
}
