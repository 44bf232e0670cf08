// Package pgcluster runs a private PostgreSQL cluster in a directory, from the PostgreSQL and
// PostGIS binaries installed on the system. It is the embedded database that `vungtrong serve`
// uses when no database URL is configured, and the throwaway database of the test suite.
//
// The cluster listens only on a Unix socket inside its directory (no TCP port, so several
// clusters never collide) and trusts local connections through that socket, which only its
// owner can reach. PostgreSQL refuses to run as root: when the calling process is root, the
// cluster's files belong to the `postgres` system user and the server runs as that user.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Superuser is the database superuser that initdb creates in every cluster.
const Superuser = "vungtrong"

// port names the socket file (.s.PGSQL.5432); no TCP port is opened.
const port = 5432

// maxSocketPath is the longest Unix socket path the kernel accepts (sun_path is 108 bytes).
const maxSocketPath = 107

// ErrNotInstalled is returned when the PostgreSQL server binaries cannot be found.
var ErrNotInstalled = errors.New("pgcluster: PostgreSQL server not installed")

// ErrNoPostGIS is returned when the server runs but has no PostGIS extension available.
var ErrNoPostGIS = errors.New("pgcluster: PostGIS not installed")

// InstallCommand is the command that installs everything the embedded database needs on Debian.
const InstallCommand = "apt-get install -y postgresql-15 postgresql-15-postgis-3 postgis"

// Options configures a Cluster.
type Options struct {
	// Dir is the cluster's home: it holds data/, the socket directory and the server log.
	Dir string
	// Throwaway trades durability for speed (fsync off); only for test clusters.
	Throwaway bool
	// BinDir overrides where the server binaries are (default: FindBinDir).
	BinDir string
	// Logger receives one line per lifecycle step. Nil discards.
	Logger *slog.Logger
	// Settings are more server settings, written with the cluster's own (e.g. a replica's
	// recovery_min_apply_delay).
	Settings map[string]string
}

// Cluster is one private PostgreSQL cluster.
type Cluster struct {
	dir       string
	binDir    string
	socketDir string
	throwaway bool
	log       *slog.Logger
	owner     *osUser // nil when running as the current (non-root) user
	settings  map[string]string
}

type osUser struct {
	name     string
	uid, gid uint32
}

// New prepares a Cluster in opts.Dir without starting anything. It returns an error wrapping
// ErrNotInstalled, with the install command, when the PostgreSQL server binaries are missing.
func New(opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: no directory given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	bin := opts.BinDir
	if bin == "" {
		if bin, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{dir: dir, binDir: bin, throwaway: opts.Throwaway, log: log, settings: opts.Settings}
	c.socketDir = filepath.Join(dir, "run")
	if len(c.socketDir)+len("/.s.PGSQL.5432") > maxSocketPath {
		// The data directory is too deep for a socket path: use a short private directory in
		// the system temp dir, named after the cluster so that restarts find it again.
		sum := sha256.Sum256([]byte(dir))
		c.socketDir = filepath.Join(os.TempDir(), "vungtrong-pg-"+hex.EncodeToString(sum[:6]))
	}
	if os.Geteuid() == 0 {
		u, err := lookupPostgresUser()
		if err != nil {
			return nil, err
		}
		c.owner = u
	}
	return c, nil
}

// FindBinDir returns the directory of the PostgreSQL server binaries: `pg_config --bindir`
// when it holds a server, otherwise the newest /usr/lib/postgresql/*/bin. It returns an error
// wrapping ErrNotInstalled, with the install command, when neither has one.
func FindBinDir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(globbed, func(i, j int) bool { return versionOf(globbed[i]) > versionOf(globbed[j]) })
	candidates = append(candidates, globbed...)
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "postgres")) && isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: no postgres, initdb and pg_ctl found (looked in `pg_config --bindir` and /usr/lib/postgresql/*/bin); install them with:\n    %s", ErrNotInstalled, InstallCommand)
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func lookupPostgresUser() (*osUser, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root, PostgreSQL must run as the `postgres` system user, which does not exist (%v); install the server with:\n    %s", err, InstallCommand)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// Dir returns the cluster's home directory.
func (c *Cluster) Dir() string { return c.dir }

// DataDir returns PostgreSQL's data directory (PGDATA).
func (c *Cluster) DataDir() string { return filepath.Join(c.dir, "data") }

// LogFile returns the path of the server log.
func (c *Cluster) LogFile() string { return filepath.Join(c.dir, "postgres.log") }

// SocketDir returns the directory that holds the server's Unix socket.
func (c *Cluster) SocketDir() string { return c.socketDir }

// URL returns a connection URL for the named database as the superuser, over the socket.
func (c *Cluster) URL(database string) string {
	u := url.URL{Scheme: "postgres", User: url.User(Superuser), Path: "/" + database}
	q := url.Values{}
	q.Set("host", c.socketDir)
	q.Set("port", strconv.Itoa(port))
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return u.String()
}

// Initialized reports whether the data directory holds a cluster.
func (c *Cluster) Initialized() bool {
	_, err := os.Stat(filepath.Join(c.DataDir(), "PG_VERSION"))
	return err == nil
}

// Running reports whether the cluster's server is up (pg_ctl status).
func (c *Cluster) Running(ctx context.Context) bool {
	if !c.Initialized() {
		return false
	}
	return c.pgctl(ctx, "status", "-D", c.DataDir()) == nil
}

// Start creates the cluster when it does not exist yet and starts its server. It reports
// whether this call started the server (false when it was already running).
func (c *Cluster) Start(ctx context.Context) (started bool, err error) {
	if err := c.prepareDirs(); err != nil {
		return false, err
	}
	if !c.Initialized() {
		if err := c.initdb(ctx); err != nil {
			return false, err
		}
	}
	if err := c.writeConfig(); err != nil {
		return false, err
	}
	if c.Running(ctx) {
		c.log.Info("embedded PostgreSQL already running", "dir", c.dir)
		return false, nil
	}
	c.log.Info("starting embedded PostgreSQL", "dir", c.dir)
	if err := c.pgctl(ctx, "start", "-D", c.DataDir(), "-l", c.LogFile(), "-w", "-t", "120"); err != nil {
		return false, fmt.Errorf("pgcluster: start failed: %w\nlast lines of %s:\n%s", err, c.LogFile(), tail(c.LogFile(), 15))
	}
	return true, nil
}

// StartThrowaway starts a throwaway cluster in dir (creating it when needed), as the
// benchmarks use one. stop stops the server again if this call started it.
func StartThrowaway(ctx context.Context, dir string) (c *Cluster, stop func(), err error) {
	if c, err = New(Options{Dir: dir, Throwaway: true}); err != nil {
		return nil, nil, err
	}
	started, err := c.Start(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, func() {
		if started {
			_ = c.Stop(context.Background())
		}
	}, nil
}

// Replicate makes a streaming replica of the running cluster in dir (pg_basebackup, which
// writes the standby's connection to this cluster) and starts it, with its own socket and
// opts' settings. Stop or Remove it like any cluster.
func (c *Cluster) Replicate(ctx context.Context, opts Options) (*Cluster, error) {
	opts.BinDir = cmpOr(opts.BinDir, c.binDir)
	opts.Throwaway = opts.Throwaway || c.throwaway
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	r, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := r.prepareDirs(); err != nil {
		return nil, err
	}
	if !r.Initialized() {
		r.log.Info("copying the cluster for a streaming replica", "from", c.dir, "to", r.dir)
		if err := r.run(ctx, "pg_basebackup", "-D", r.DataDir(), "-R", "-X", "stream", "-c", "fast",
			"-h", c.socketDir, "-p", strconv.Itoa(port), "-U", Superuser); err != nil {
			return nil, fmt.Errorf("pgcluster: pg_basebackup: %w", err)
		}
	}
	if _, err := r.Start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Stop stops the server with a fast shutdown (open sessions are ended, data is flushed).
// Stopping a server that is not running is not an error.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.Running(ctx) {
		return nil
	}
	c.log.Info("stopping embedded PostgreSQL", "dir", c.dir)
	if err := c.pgctl(ctx, "stop", "-D", c.DataDir(), "-m", "fast", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("pgcluster: stop failed: %w", err)
	}
	return nil
}

// Remove stops the server if needed and deletes the whole cluster directory.
func (c *Cluster) Remove(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	if c.socketDir != filepath.Join(c.dir, "run") {
		_ = os.RemoveAll(c.socketDir)
	}
	return os.RemoveAll(c.dir)
}

// prepareDirs creates the cluster home and socket directories, owned by the server's user,
// and makes sure that user can reach them through every parent directory.
func (c *Cluster) prepareDirs() error {
	// Folders above the cluster that do not exist yet are ours to create: make them passable.
	if err := os.MkdirAll(filepath.Dir(c.dir), 0o755); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	for _, d := range []string{c.dir, c.socketDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if c.owner != nil {
			if err := os.Chown(d, int(c.owner.uid), int(c.owner.gid)); err != nil {
				return fmt.Errorf("pgcluster: %w", err)
			}
			if err := c.ensureReachable(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureReachable grants the search permission (o+x, not listing) on every parent of dir that
// the server's user could not otherwise pass through: PostgreSQL cannot start in a data
// directory under, say, a 0700 home directory of root. Each change is logged.
func (c *Cluster) ensureReachable(dir string) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		canPass := mode&0o001 != 0 ||
			(ok && st.Uid == c.owner.uid && mode&0o100 != 0) ||
			(ok && st.Gid == c.owner.gid && mode&0o010 != 0)
		if !canPass {
			if err := os.Chmod(p, fi.Mode()|0o001); err != nil {
				return fmt.Errorf("pgcluster: the %s user cannot reach %s through %s (mode %v), and granting it search permission failed: %w", c.owner.name, dir, p, mode, err)
			}
			c.log.Warn("granted search permission (o+x) so the postgres user can reach the cluster", "dir", p)
		}
		if p == "/" || p == filepath.Dir(p) {
			return nil
		}
	}
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("creating embedded PostgreSQL cluster", "dir", c.DataDir())
	base := []string{"-D", c.DataDir(), "-U", Superuser, "--auth=trust", "--encoding=UTF8"}
	// ICU gives Vietnamese collation (sorting "Đắk" after "Dak"); fall back to C.UTF-8 where the
	// server was built without ICU.
	err := c.run(ctx, "initdb", append(base, "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=vi-VN")...)
	if err != nil {
		_ = os.RemoveAll(c.DataDir())
		if err2 := c.run(ctx, "initdb", append(base, "--locale=C.UTF-8")...); err2 != nil {
			return fmt.Errorf("pgcluster: initdb failed: %w", err2)
		}
	}
	return nil
}

// writeConfig (re)writes the cluster's own settings, so that moving the socket directory or
// switching durability takes effect on the next start.
func (c *Cluster) writeConfig() error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by vungtrong on every start; edit postgresql.conf for your own settings.\n")
	fmt.Fprintf(&b, "listen_addresses = ''\n")
	fmt.Fprintf(&b, "port = %d\n", port)
	fmt.Fprintf(&b, "unix_socket_directories = '%s'\n", strings.ReplaceAll(c.socketDir, "'", "''"))
	fmt.Fprintf(&b, "unix_socket_permissions = 0700\n")
	fmt.Fprintf(&b, "max_connections = 200\n")
	fmt.Fprintf(&b, "shared_buffers = '256MB'\n")
	fmt.Fprintf(&b, "timezone = 'Asia/Ho_Chi_Minh'\n")
	fmt.Fprintf(&b, "log_timezone = 'Asia/Ho_Chi_Minh'\n")
	// Errors are logged without their DETAIL, HINT, QUERY and CONTEXT lines, nor the statement:
	// a unique violation's detail names the value (a citizen ID, a phone number), which must
	// never reach a log.
	fmt.Fprintf(&b, "log_error_verbosity = terse\n")
	fmt.Fprintf(&b, "log_min_error_statement = panic\n")
	if c.throwaway {
		fmt.Fprintf(&b, "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
	}
	keys := make([]string, 0, len(c.settings))
	for k := range c.settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(c.settings[k], "'", "''"))
	}
	path := filepath.Join(c.DataDir(), "vungtrong.conf")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if c.owner != nil {
		if err := os.Chown(path, int(c.owner.uid), int(c.owner.gid)); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	conf := filepath.Join(c.DataDir(), "postgresql.conf")
	body, err := os.ReadFile(conf)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	const include = "include_if_exists = 'vungtrong.conf'"
	if !bytes.Contains(body, []byte(include)) {
		body = append(body, []byte("\n"+include+"\n")...)
		if err := os.WriteFile(conf, body, 0o600); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	return nil
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) error {
	return c.run(ctx, "pg_ctl", args...)
}

// run runs a server binary as the cluster's owner, in its own process group so that a Ctrl-C
// in the terminal reaches vungtrong (which then stops the server cleanly) and not the server.
func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.owner != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.owner.uid, Gid: c.owner.gid}
		cmd.Env = append(cmd.Env, "HOME="+c.dir, "USER="+c.owner.name)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			return fmt.Errorf("%s: %w", name, err)
		}
		return fmt.Errorf("%s: %w: %s", name, err, msg)
	}
	return nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
