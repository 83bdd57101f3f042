package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a binary a test (or the local cluster) runs beside the control
// plane, with its output in a log file.
type Process struct {
	Name string
	// Log is the path of the file that holds the process's stdout and stderr.
	Log string

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
	// tempDir, when set, is removed by a Stop that finds nothing wrong.
	tempDir string
}

// StartProcess starts bin with args, its output going to logPath (whose
// folder is created). The process gets its own process group, so a Ctrl-C
// in the terminal reaches only whoever owns it, who stops it with Stop.
func StartProcess(name, logPath, bin string, args ...string) (*Process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Stop sends SIGTERM, waits up to 15 s, then kills the process. Stopping a
// process that exited on its own reports how it exited (and keeps its
// temporary folder, for its log); Stop may be called more than once.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			if p.waitErr != nil {
				p.stopErr = fmt.Errorf("%s had exited: %v (log: %s)", p.Name, p.waitErr, p.Log)
			}
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if p.tempDir != "" && p.stopErr == nil {
			_ = os.RemoveAll(p.tempDir)
		}
	})
	return p.stopErr
}

// LogTail returns the last n lines of the process's log, for error messages.
func (p *Process) LogTail(n int) string { return LogTail(p.Log, n) }

// LogTail returns the last n lines of a file.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitReady polls ready every 250 ms until it reports true, the process
// exits, ctx ends or timeout passes; the error names the process, its log
// and the log's tail.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := ready(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %v; log %s ends with:\n%s", p.Name, p.waitErr, p.Log, p.LogTail(30))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s (last error: %v); log %s ends with:\n%s", p.Name, timeout, last, p.Log, p.LogTail(30))
		case <-tick.C:
		}
	}
}

// WaitServing waits, as WaitReady does, until url answers 200 OK: a health
// or readiness endpoint of the process on loopback, whose serving
// certificate is self-signed and which needs no credentials.
func (p *Process) WaitServing(ctx context.Context, timeout time.Duration, url string) error {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback probe of a self-signed test server
	}}
	return p.WaitReady(ctx, timeout, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("%s: %s", url, resp.Status)
		}
		return true, nil
	})
}

// FreeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// toolBinary returns the path of a tool built by hack/build-tools.sh, or an
// error that says how to build it.
func toolBinary(name string) (string, error) {
	dir := os.Getenv(ToolsDirEnv)
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "_output", "tools")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s not found in %s: run `make tools` to build it from the version pinned in the repository (or set %s to a folder that has it): %w", name, dir, ToolsDirEnv, err)
	}
	return path, nil
}
