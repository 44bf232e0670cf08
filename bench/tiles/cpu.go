package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cpuUse is the CPU time the parts of one measurement spent: the database (every postgres
// process), the tile server, and the client driving the load (pgbench or this process).
type cpuUse struct {
	pg, server, client time.Duration
}

func (c cpuUse) sub(d cpuUse) cpuUse {
	return cpuUse{pg: c.pg - d.pg, server: c.server - d.server, client: c.client - d.client}
}

// ticks is the kernel's clock-tick length (USER_HZ, 100 on Linux).
const ticks = 10 * time.Millisecond

// procStat reads the user + system time of a process from /proc/<pid>/stat, and that of its
// children it has waited for.
func procStat(pid string) (comm string, own, children time.Duration, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return "", 0, 0, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, 0, false
	}
	comm = string(b[open+1 : end])
	f := bytes.Fields(b[end+1:]) // f[0] is field 3 (state): utime is field 14
	if len(f) < 15 {
		return "", 0, 0, false
	}
	n := func(i int) time.Duration {
		v, _ := strconv.ParseInt(string(f[i-3]), 10, 64)
		return time.Duration(v) * ticks
	}
	return comm, n(14) + n(15), n(16) + n(17), true
}

// postgresCPU is the CPU time of every postgres process, those that have ended included
// (their time is in the postmaster's children's time once it has reaped them).
func postgresCPU() time.Duration {
	entries, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		comm, own, children, ok := procStat(e.Name())
		if ok && comm == "postgres" {
			total += own + children
		}
	}
	return total
}

// cpuNow samples the CPU time so far of the database, the server (pid; 0: none) and this
// process.
func cpuNow(serverPID int) cpuUse {
	var c cpuUse
	c.pg = postgresCPU()
	if serverPID > 0 {
		_, own, _, _ := procStat(strconv.Itoa(serverPID))
		c.server = own
	}
	_, own, _, _ := procStat("self")
	c.client = own
	return c
}
