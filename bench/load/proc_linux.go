package main

import "syscall"

// childAttributes puts a server in its own process group and has the kernel send it SIGTERM
// if this program dies first (killed, or crashed), so that no server outlives the benchmark.
func childAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
