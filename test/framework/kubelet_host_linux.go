package framework

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// What a kubelet changes on its machine, which Gantry's test kubelets
// guard and put back.
const (
	kubeletVarDir = "/var/lib/kubelet"
	// kubeletLogLinkDir is made by every kubelet at start (its legacy
	// folder of links to container logs; a FakeRuntime writes no logs, so
	// it stays empty).
	kubeletLogLinkDir = "/var/log/containers"
	// kubeletLock is held by the process running a test kubelet. It is in
	// /run, not in $TMPDIR, so processes with different temporary folders
	// see the same lock.
	kubeletLock = "/run/gantry-test-kubelet.lock"
)

// kubeletSysctls are the kernel settings the kubelet sets at start
// (pkg/kubelet/cm's setupKernelTunables); a test kubelet restores them.
var kubeletSysctls = []string{
	"vm.overcommit_memory",
	"vm.panic_on_oom",
	"kernel.panic",
	"kernel.panic_on_oops",
	"kernel.keys.root_maxkeys",
	"kernel.keys.root_maxbytes",
}

// kubeletHost is what a test kubelet holds on the machine for its
// lifetime: the lock, the kernel settings to restore and the folders it
// made outside its own.
type kubeletHost struct {
	lock    *os.File
	sysctls map[string]string
	// owned: no other kubelet uses the device-plugin folder; release
	// removes it.
	owned bool
	made  []string // removed at release if empty, last first
}

// claimKubeletHost takes the machine's test-kubelet lock (waiting for
// another test kubelet to finish, until ctx ends), checks that no other
// kubelet uses /var/lib/kubelet, removes what a test kubelet that did not
// stop cleanly left and records the kernel settings.
func claimKubeletHost(ctx context.Context) (*kubeletHost, error) {
	f, err := os.OpenFile(kubeletLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the test-kubelet lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", kubeletLock, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("another test kubelet on this machine holds %s (one runs at a time: the device-plugin folder %s is fixed in the kubelet): %w", kubeletLock, KubeletDevicePluginDir, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	h := &kubeletHost{lock: f}
	if err := h.prepare(); err != nil {
		return nil, errors.Join(err, h.release(false))
	}
	return h, nil
}

func (h *kubeletHost) prepare() error {
	if _, err := os.Stat(kubeletLogLinkDir); os.IsNotExist(err) {
		h.made = append(h.made, kubeletLogLinkDir)
	}
	entries, err := os.ReadDir(kubeletVarDir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(KubeletDevicePluginDir) {
			return fmt.Errorf("%s holds %s: this machine has a kubelet of its own, whose device-plugin folder a test kubelet would share; run the tests elsewhere", kubeletVarDir, e.Name())
		}
	}
	// Absent, or left by a test kubelet that did not stop cleanly.
	h.made = append(h.made, kubeletVarDir)
	sock := filepath.Join(KubeletDevicePluginDir, "kubelet.sock")
	if conn, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		conn.Close()
		return fmt.Errorf("another kubelet serves %s (this machine's own, or a test's that outlived its test process: stop it); a test kubelet would take its device plugins", sock)
	}
	h.owned = true
	// Left by a test kubelet that did not stop cleanly: its checkpoint
	// would name pods of a control plane that is gone.
	if err := os.RemoveAll(KubeletDevicePluginDir); err != nil {
		return fmt.Errorf("removing what a test kubelet left in %s: %w", KubeletDevicePluginDir, err)
	}
	if err := os.MkdirAll(KubeletDevicePluginDir, 0o750); err != nil {
		return err
	}
	return h.recover()
}

// recover reads what a test process that died while running a kubelet
// left in the lock file (the kernel settings from before that kubelet,
// the folders it made, its own folder, whose mounts outlive it), removes
// that folder and records what to restore: the kernel settings left, or
// else the current ones, and the folders made.
func (h *kubeletHost) recover() error {
	saved, err := io.ReadAll(h.lock)
	if err != nil {
		return fmt.Errorf("reading %s: %w", kubeletLock, err)
	}
	h.sysctls = map[string]string{}
	for _, line := range strings.Split(string(saved), "\n") {
		key, v, _ := strings.Cut(line, "=")
		switch {
		case key == removeKey && filepath.IsAbs(v):
			if err := errors.Join(unmountUnder(v), os.RemoveAll(v)); err != nil {
				return fmt.Errorf("removing the folder of a test kubelet that did not stop cleanly: %w", err)
			}
		case key == madeKey && !slices.Contains(h.made, v):
			h.made = append(h.made, v)
		case slices.Contains(kubeletSysctls, key):
			h.sysctls[key] = v
		}
	}
	var out strings.Builder
	for _, name := range kubeletSysctls {
		if _, ok := h.sysctls[name]; !ok {
			b, err := os.ReadFile(sysctlPath(name))
			if err != nil {
				return fmt.Errorf("reading kernel setting %s: %w", name, err)
			}
			h.sysctls[name] = strings.TrimSpace(string(b))
		}
		fmt.Fprintf(&out, "%s=%s\n", name, h.sysctls[name])
	}
	for _, dir := range h.made {
		fmt.Fprintf(&out, "%s=%s\n", madeKey, dir)
	}
	return h.save(out.String(), true)
}

// Keys of the lock file besides the kernel settings': a folder a test
// kubelet made outside its own, and the kubelet's own folder.
const (
	madeKey   = "made"
	removeKey = "remove"
)

// recordOwnDir notes the folder that holds the kubelet's files in the
// lock file, for recover.
func (h *kubeletHost) recordOwnDir(dir string) error {
	return h.save(removeKey+"="+dir+"\n", false)
}

func (h *kubeletHost) save(text string, replace bool) error {
	if replace {
		if err := h.lock.Truncate(0); err != nil {
			return fmt.Errorf("writing %s: %w", kubeletLock, err)
		}
	}
	end, err := h.lock.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = h.lock.WriteAt([]byte(text), end)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", kubeletLock, err)
	}
	return nil
}

// release restores the kernel settings, removes the device-plugin folder
// (and the kubelet's folders outside its own that were not there before)
// and drops the lock. Unless clean (the kubelet's own folder removed),
// the lock file keeps what the next kubelet's recover needs.
func (h *kubeletHost) release(clean bool) error {
	var errs []error
	for _, name := range kubeletSysctls {
		v, ok := h.sysctls[name]
		if !ok {
			continue
		}
		if err := os.WriteFile(sysctlPath(name), []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring kernel setting %s=%s: %w", name, v, err))
		}
	}
	if h.owned {
		if err := os.RemoveAll(KubeletDevicePluginDir); err != nil {
			errs = append(errs, err)
		}
		for _, dir := range slices.Backward(h.made) {
			if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
		}
	}
	if clean && len(errs) == 0 && h.sysctls != nil {
		errs = append(errs, h.lock.Truncate(0)) // nothing left to recover
	}
	errs = append(errs, h.lock.Close()) // closing drops the flock
	return errors.Join(errs...)
}

func sysctlPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

// unmountUnder detaches every mount at or below dir, deepest first: what
// a kubelet mounted for pods' volumes and did not clean up.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	var points []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		// Octal escapes (\040 for a space) do not occur in the test's paths.
		if p := fields[4]; p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// startProcessIn is StartProcess with the process's working directory set
// (the kubelet deletes files relative to it when a runtime leaves paths
// empty, so it works in a folder of its own), the log appended to (a
// restarted kubelet's log follows the first run's) and the process killed
// when its starter dies.
func startProcessIn(dir, name, logPath, bin string, args ...string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Killed with its starter: a kubelet left running would keep the
	// device-plugin folder from the next one.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	p := &Process{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}
