package pgcluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestClusterLifecycle(t *testing.T) {
	ctx := context.Background()
	c, err := New(Options{Dir: filepath.Join(t.TempDir(), "var", "pg"), Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Remove(context.Background()) })
	if c.Running(ctx) || c.Initialized() {
		t.Fatal("a new cluster claims to exist")
	}
	started, err := c.Start(ctx)
	if err != nil || !started {
		t.Fatalf("start: started=%v err=%v", started, err)
	}
	if again, err := c.Start(ctx); err != nil || again {
		t.Fatalf("second start: started=%v err=%v, want false, nil", again, err)
	}
	if err := c.EnsureDatabase(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureDatabase(ctx, "demo"); err != nil {
		t.Fatalf("EnsureDatabase twice: %v", err)
	}
	conn, err := pgx.Connect(ctx, c.URL("demo"))
	if err != nil {
		t.Fatal(err)
	}
	var postgis *string
	var listen string
	if err := conn.QueryRow(ctx, `SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'), current_setting('listen_addresses')`).Scan(&postgis, &listen); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if postgis == nil || !strings.HasPrefix(*postgis, "3.") {
		t.Errorf("PostGIS available: %v, want 3.x", postgis)
	}
	if listen != "" {
		t.Errorf("listen_addresses = %q: the embedded server must not open a TCP port", listen)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Running(ctx) {
		t.Fatal("still running after Stop")
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("stopping a stopped cluster: %v", err)
	}
	// A restart finds the data again.
	if started, err := c.Start(ctx); err != nil || !started {
		t.Fatalf("restart: started=%v err=%v", started, err)
	}
	conn, err = pgx.Connect(ctx, c.URL("demo"))
	if err != nil {
		t.Fatalf("the database created before the restart is gone: %v", err)
	}
	conn.Close(ctx)
}

func TestLongDirectoryGetsAShortSocketPath(t *testing.T) {
	deep := filepath.Join(t.TempDir(), strings.Repeat("very-long-folder-name/", 5), "pg")
	c, err := New(Options{Dir: deep})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.SocketDir()) + len("/.s.PGSQL.5432"); got > maxSocketPath {
		t.Errorf("socket path is %d bytes, the kernel takes %d", got, maxSocketPath)
	}
	if !strings.HasPrefix(c.SocketDir(), os.TempDir()) {
		t.Errorf("socket dir %s, want one in %s", c.SocketDir(), os.TempDir())
	}
	other, _ := New(Options{Dir: deep})
	if other.SocketDir() != c.SocketDir() {
		t.Error("the fallback socket dir must be the same for the same cluster (restarts find it)")
	}
}
