package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the vungtrong command once for the tests that run it as a user would.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vungtrong-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vungtrong")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building vungtrong: %v", buildErr)
	}
	return binPath
}

func runBinary(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// installWithoutPostGIS lays out a copy of the PostgreSQL server whose share folder lacks
// PostGIS: PostgreSQL finds its share and lib folders relative to its own binary, so the
// copied server really has no PostGIS to offer.
func installWithoutPostGIS(t *testing.T) string {
	t.Helper()
	realBin, err := pgcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	version := filepath.Base(filepath.Dir(realBin)) // "15"
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "lib", "postgresql", version, "bin")
	share := filepath.Join(root, "share", "postgresql", version)
	for _, d := range []string{bin, filepath.Join(share, "extension")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"postgres", "initdb", "pg_ctl"} {
		copyFile(t, filepath.Join(realBin, name), filepath.Join(bin, name))
	}
	mustSymlink(t, filepath.Join(filepath.Dir(realBin), "lib"), filepath.Join(root, "lib", "postgresql", version, "lib"))
	realShare := filepath.Join("/usr/share/postgresql", version)
	entries, err := os.ReadDir(realShare)
	if err != nil {
		t.Skipf("no %s: this test knows the Debian layout only", realShare)
	}
	for _, e := range entries {
		if e.Name() != "extension" {
			mustSymlink(t, filepath.Join(realShare, e.Name()), filepath.Join(share, e.Name()))
		}
	}
	exts, _ := os.ReadDir(filepath.Join(realShare, "extension"))
	for _, e := range exts {
		if !strings.HasPrefix(e.Name(), "postgis") {
			mustSymlink(t, filepath.Join(realShare, "extension", e.Name()), filepath.Join(share, "extension", e.Name()))
		}
	}
	return bin
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Symlink(from, to); err != nil {
		t.Fatal(err)
	}
}

func TestServeStopsOnAServerWithoutPostGIS(t *testing.T) {
	ctx := context.Background()
	c, err := pgcluster.New(pgcluster.Options{Dir: filepath.Join(t.TempDir(), "pg"), Throwaway: true, BinDir: installWithoutPostGIS(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Remove(context.Background()) })
	if err := c.EnsureDatabase(ctx, "registry"); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, []string{"VUNGTRONG_DATABASE_URL=" + c.URL("registry"), "VUNGTRONG_HTTP_ADDR=127.0.0.1:0"}, "serve")
	if code == 0 {
		t.Fatalf("serve started on a server without PostGIS:\n%s", out)
	}
	for _, want := range []string{"has no PostGIS", "needs PostGIS 3", "postgresql-15-postgis-3"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	t.Logf("output:\n%s", out)
	if strings.Count(out, "\n") > 3 || strings.Contains(out, "SQLSTATE") {
		t.Errorf("want one clear message, not a stack of SQL errors:\n%s", out)
	}
}

func TestServeStopsWhenPostGISCannotBeEnabled(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.AdminURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		`DROP DATABASE IF EXISTS plain_db`, `DROP ROLE IF EXISTS plain_user`,
		`CREATE ROLE plain_user LOGIN`, `CREATE DATABASE plain_db OWNER plain_user`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), `DROP DATABASE IF EXISTS plain_db WITH (FORCE)`)
		_, _ = conn.Exec(context.Background(), `DROP ROLE IF EXISTS plain_user`)
	})
	url := strings.Replace(strings.Replace(admin, "/postgres?", "/plain_db?", 1), "vungtrong@", "plain_user@", 1)
	if !strings.Contains(url, "plain_user@") || !strings.Contains(url, "/plain_db?") {
		t.Skipf("cannot derive a URL for another user from %s", admin)
	}
	out, code := runBinary(t, []string{"VUNGTRONG_DATABASE_URL=" + url, "VUNGTRONG_HTTP_ADDR=127.0.0.1:0"}, "serve")
	if code == 0 || !strings.Contains(out, "not enabled in database \"plain_db\"") || !strings.Contains(out, "CREATE EXTENSION postgis") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestCommandLineErrors(t *testing.T) {
	out, code := runBinary(t, []string{"VUNGTRONG_HTTP_ADDR=eighty"}, "serve")
	if code != 1 || !strings.Contains(out, "http.addr (env VUNGTRONG_HTTP_ADDR) is \"eighty\": allowed is host:port") {
		t.Errorf("bad config: exit %d\n%s", code, out)
	}
	if out, code := runBinary(t, nil, "migrate", "down", "zero"); code != 2 || !strings.Contains(out, "N must be a whole number") {
		t.Errorf("bad argument: exit %d\n%s", code, out)
	}
	if out, code := runBinary(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "vungtrong ") {
		t.Errorf("version: exit %d\n%s", code, out)
	}
}

func TestAccountCommands(t *testing.T) {
	url := pgtest.NewURL(t)
	env := []string{"VUNGTRONG_DATABASE_URL=" + url}
	out, code := runBinary(t, env, "user", "add", "lan", "--role", "officer", "--name", "Trần Thị Lan", "--commune", "24280")
	m := regexp.MustCompile(`one-time password: (\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("user add: exit %d\n%s", code, out)
	}
	out, code = runBinary(t, env, "user", "list")
	if code != 0 || !strings.Contains(out, "lan") || !strings.Contains(out, "66/24280") || !strings.Contains(out, "must change password") {
		t.Errorf("user list: exit %d\n%s", code, out)
	}
	if out, code := runBinary(t, env, "user", "add", "x", "--role", "officer", "--name", "X"); code == 0 || !strings.Contains(out, "an officer needs at least one province or commune") {
		t.Errorf("an officer without jurisdiction: exit %d\n%s", code, out)
	}
	out, code = runBinary(t, env, "token", "create", "importer", "--user", "lan")
	if code != 0 || !strings.HasPrefix(out, "vt_") {
		t.Fatalf("token create: exit %d\n%s", code, out)
	}
	if out, code := runBinary(t, env, "token", "create", "importer"); code != 2 || !strings.Contains(out, "--user") {
		t.Errorf("token create without --user: exit %d\n%s", code, out)
	}
	if out, code := runBinary(t, env, "user", "disable", "lan"); code != 0 {
		t.Errorf("user disable: exit %d\n%s", code, out)
	}
	out, _ = runBinary(t, env, "token", "list")
	if !strings.Contains(out, "revoked") {
		t.Errorf("disabling a user must revoke its tokens:\n%s", out)
	}
}
