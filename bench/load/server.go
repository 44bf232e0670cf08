package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// server is one `vungtrong serve` process on a loopback port.
type server struct {
	name    string
	base    string // http://127.0.0.1:port
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has ended
	once    sync.Once
}

// adminPassword is the servers' auth.admin_password: the admin account exists from the first
// start, and the edits' API token acts for it.
const adminPassword = "bench-load-admin"

// startServer starts `vungtrong serve` on a free loopback port against dbURL, its log in
// o.dir, and waits until it is ready (GET /readyz answers 200).
func startServer(ctx context.Context, o options, dbURL, name string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	logPath := filepath.Join(o.dir, "server-"+name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(o.binary, "serve")
	cmd.Env = append(os.Environ(),
		"VUNGTRONG_DATABASE_URL="+dbURL,
		"VUNGTRONG_HTTP_ADDR="+addr,
		"VUNGTRONG_HTTP_PUBLIC_RATE=0",
		"VUNGTRONG_HTTP_TILE_RATE=0",
		"VUNGTRONG_HTTP_REQUEST_TIMEOUT="+o.requestTimeout.String(),
		"VUNGTRONG_AUTH_ADMIN_PASSWORD="+adminPassword,
		"VUNGTRONG_LOG_LEVEL=warn",
	)
	cmd.Env = append(cmd.Env, o.serverEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The server gets its own process group, so that a Ctrl-C in the terminal reaches this
	// program (which then stops the servers in order) and not the servers directly; and it is
	// told to end if this program dies without stopping it.
	cmd.SysProcAttr = childAttributes()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, base: "http://" + addr, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		switch {
		case ctx.Err() != nil:
			s.stop()
			return nil, ctx.Err()
		case s.exited():
			return nil, fmt.Errorf("server %s ended at start: see %s", name, logPath)
		case time.Now().After(deadline):
			s.stop()
			return nil, fmt.Errorf("server %s was not ready after 60 s: see %s", name, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exited reports whether the server process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop asks the server to shut down (SIGINT, as Ctrl-C would) and kills it if it has not
// ended within 20 seconds. Stopping twice is harmless.
func (s *server) stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}
