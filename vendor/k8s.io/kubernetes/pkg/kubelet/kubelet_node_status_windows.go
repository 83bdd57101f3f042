//go:build windows

/*
Copyright 2019 The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package kubelet

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/pkg/kubelet/winstats"
)

func getOSSpecificLabels() (map[string]string, error) {
	osInfo, err := winstats.GetOSInfo()
	if err != nil {
		return nil, err
	}

	return map[string]string{v1.LabelWindowsBuild: osInfo.GetBuild()}, nil
}

// runningInUserNS returns a pointer to true if the Kubelet is running in a user namespace.
func (kl *Kubelet) runningInUserNS() *bool {
	return nil
}
