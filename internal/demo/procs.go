package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// proc is a child process in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	err  error         // its exit, once done is closed
}

func start(name string, cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop sends SIGTERM to the process group, waits up to grace for the
// process, then kills what is left of the group.
func (p *proc) stop(grace time.Duration) {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL) // ESRCH when the group is gone already
}

// exited returns why p ended early, for an error message.
func (p *proc) exited() error {
	return fmt.Errorf("%s exited: %v", p.name, p.err)
}

// build compiles the package pkg (relative to the repository root) into dir.
func build(ctx context.Context, root, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// startMongo runs the MongoDB test server on addr and returns it with the
// URI it printed. Its log goes to logPath.
func startMongo(ctx context.Context, bin, addr, logPath string) (*proc, string, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "-addr", addr)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	p, err := start("the MongoDB test server", cmd)
	if err != nil {
		return nil, "", err
	}
	uri := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		uri <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-uri:
		if strings.HasPrefix(u, "mongodb://") {
			return p, u, nil
		}
		p.stop(time.Second)
		return nil, "", fmt.Errorf("the MongoDB test server did not start (see %s): %v", logPath, p.err)
	case <-time.After(30 * time.Second):
		p.stop(time.Second)
		return nil, "", errors.New("the MongoDB test server did not print its URI within 30 s")
	case <-ctx.Done():
		p.stop(time.Second)
		return nil, "", ctx.Err()
	}
}

// execWatcher is the command of the demo's watcher.
func execWatcher(bin, configPath string, env []string) *exec.Cmd {
	cmd := exec.Command(bin, "run", "-c", configPath)
	cmd.Env = append(cmd.Environ(), env...)
	return cmd
}

// waitReady polls http://addr/readyz until it answers 200.
func waitReady(ctx context.Context, p *proc, addr string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		select {
		case <-p.done:
			return p.exited()
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the watcher was not ready within %s (/readyz: %s)", timeout, last)
}

// pickAddr returns preferred when it can be listened on, else a free
// loopback port ("" prefers nothing).
func pickAddr(preferred string) (string, error) {
	for _, addr := range []string{preferred, "127.0.0.1:0"} {
		if addr == "" {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		got := l.Addr().String()
		_ = l.Close()
		return got, nil
	}
	return "", errors.New("no free loopback port")
}

// console serializes the demo's own lines and its children's logs.
type console struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, format, args...)
}

// prefixed is a writer that prints each complete line with prefix.
func (c *console) prefixed(prefix string) io.Writer {
	return &linePrefixer{c: c, prefix: prefix}
}

type linePrefixer struct {
	c      *console
	prefix string
	buf    []byte
}

func (l *linePrefixer) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		l.c.printf("%s%s\n", l.prefix, l.buf[:i])
		l.buf = l.buf[i+1:]
	}
}
