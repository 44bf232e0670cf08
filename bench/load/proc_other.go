//go:build unix && !linux

package main

import "syscall"

// childAttributes puts a server in its own process group. Only Linux can also tie the
// server's life to this program's.
func childAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
