package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// second is what was sampled at the end of one second of a phase: the servers' connections to
// the database (-1: the database did not answer) and the busy share of the whole machine over
// the second (-1: not known), whoever used it.
type second struct {
	conns   int
	machine float64
}

// samples are what a phase sampled while its load was measured.
type samples struct {
	seconds     []second
	first, last cpuReading
}

// sample samples, at the end of each second of the measured load, the servers' database
// connections and the machine's busy share, so that the report can show the pools emptying and
// filling again around a restart, and when something else took the CPU; and reads the CPU
// times at the start and the end of the phase.
func sample(ctx context.Context, dbURL, dataDir string, servers []*server, start time.Time, d time.Duration) samples {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	s := samples{first: readCPU(dataDir, servers)}
	prev := s.first
	for i := 1; time.Duration(i)*time.Second <= d; i++ {
		select {
		case <-time.After(time.Until(start.Add(time.Duration(i) * time.Second))):
		case <-ctx.Done():
			return s
		}
		now := readCPU(dataDir, servers)
		sec := second{conns: -1, machine: now.machineSince(prev)}
		prev = now
		qctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
		var err error
		if conn == nil {
			conn, err = pgx.Connect(qctx, dbURL)
		}
		if err == nil {
			err = conn.QueryRow(qctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&sec.conns)
		}
		cancel()
		if err != nil {
			sec.conns = -1
			if conn != nil {
				conn.Close(context.Background())
				conn = nil
			}
		}
		s.seconds = append(s.seconds, sec)
	}
	s.last = readCPU(dataDir, servers)
	return s
}

// cpuReading is the CPU time used so far by the servers, the private cluster's PostgreSQL
// processes and this process, and the machine's busy and total time, at a moment.
type cpuReading struct {
	at                        time.Time
	servers, postgres, client time.Duration
	postmaster                int // the cluster's postmaster when read (0: not running)
	busy, total               time.Duration
}

// cpuUse is the CPU used between two readings, in cores (1: one core busy all the time);
// postgres is negative when the cluster was restarted in between.
type cpuUse struct {
	servers, postgres, client, machine float64
}

func (c cpuReading) since(p cpuReading) cpuUse {
	elapsed := c.at.Sub(p.at).Seconds()
	if elapsed <= 0 {
		return cpuUse{postgres: -1, machine: -1}
	}
	cores := func(d time.Duration) float64 { return d.Seconds() / elapsed }
	u := cpuUse{servers: cores(c.servers - p.servers), client: cores(c.client - p.client), postgres: -1, machine: c.machineSince(p)}
	if c.postmaster != 0 && c.postmaster == p.postmaster {
		u.postgres = cores(c.postgres - p.postgres)
	}
	return u
}

// machineSince returns the busy share of all the machine's CPUs since p (-1: not known).
func (c cpuReading) machineSince(p cpuReading) float64 {
	if c.total <= p.total {
		return -1
	}
	return float64(c.busy-p.busy) / float64(c.total-p.total)
}

// readCPU reads the CPU times from /proc (Linux; elsewhere they stay zero).
func readCPU(dataDir string, servers []*server) cpuReading {
	var c cpuReading
	for _, s := range servers {
		own, _, _ := procCPU(s.cmd.Process.Pid)
		c.servers += own
	}
	c.client, _, _ = procCPU(os.Getpid())
	// The postmaster's own time, that of the backends it has reaped, and that of its
	// children alive now.
	if b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid")); err == nil {
		if pid, err := strconv.Atoi(string(bytes.TrimSpace(bytes.SplitN(b, []byte("\n"), 2)[0]))); err == nil {
			if own, reaped, ok := procCPU(pid); ok {
				c.postmaster = pid
				c.postgres = own + reaped
				entries, _ := os.ReadDir("/proc")
				for _, e := range entries {
					child, err := strconv.Atoi(e.Name())
					if err != nil {
						continue
					}
					if ppid, _ := procParent(child); ppid == pid {
						own, _, _ := procCPU(child)
						c.postgres += own
					}
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		// cpu  user nice system idle iowait irq softirq steal ...
		f := bytes.Fields(bytes.SplitN(b, []byte("\n"), 2)[0])
		for i := 1; i < len(f) && i <= 8; i++ {
			v, _ := strconv.ParseInt(string(f[i]), 10, 64)
			c.total += time.Duration(v) * tick
			if i != 4 && i != 5 { // idle and iowait
				c.busy += time.Duration(v) * tick
			}
		}
	}
	c.at = time.Now()
	return c
}

// tick is the kernel's clock tick (USER_HZ, 100 a second on Linux).
const tick = 10 * time.Millisecond

// procStat returns the fields of /proc/<pid>/stat after the command name: fields[0] is the
// state (field 3).
func procStat(pid int) [][]byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return nil
	}
	return bytes.Fields(b[end+1:])
}

// procCPU returns the user + system time of a process, and that of its children it has
// waited for.
func procCPU(pid int) (own, reaped time.Duration, ok bool) {
	f := procStat(pid)
	if len(f) < 15 {
		return 0, 0, false
	}
	n := func(field int) time.Duration {
		v, _ := strconv.ParseInt(string(f[field-3]), 10, 64)
		return time.Duration(v) * tick
	}
	return n(14) + n(15), n(16) + n(17), true
}

// procParent returns the parent of a process.
func procParent(pid int) (int, bool) {
	f := procStat(pid)
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return ppid, err == nil
}
