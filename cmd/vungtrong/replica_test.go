package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/tiles"
)

// With database.read_url, tiles and anonymous reads come from a streaming replica, and an edit
// still shows in the next tile: the replica here replays 700 ms late, and a tile that needs the
// edit waits a little for it, then is drawn by the primary.
func TestTilesFromAReadReplica(t *testing.T) {
	primary, url := ownCluster(t)
	ctx := context.Background()
	replica, err := primary.Replicate(ctx, pgcluster.Options{Dir: filepath.Join(filepath.Dir(primary.Dir()), "replica"),
		Settings: map[string]string{"recovery_min_apply_delay": "700ms"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replica.Stop(context.Background()) })
	a := startApp(t, func(c *Config) {
		c.Database.URL = url
		c.Database.ReadURL = replica.URL("vungtrong")
	})
	here, there := orb.Point{108.40, 12.60}, orb.Point{108.43, 12.60}
	res := a.do("POST", "/api/v1/plots", plotAt(here), a.auth()...)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var created struct{ ID int64 }
	_ = json.Unmarshal(res.body, &created)
	for _, z := range []int{14, 16} {
		if d, _ := a.tile("plots", tiles.At(here, z)); !hasFeature(d, "plots", created.ID) {
			t.Fatalf("z%d: the new plot is not in the next tile", z)
		}
		a.tile("plots", tiles.At(there, z))
	}
	if res := a.do("PATCH", res.header.Get("Location"), plotAt(there), append(a.auth(), "If-Match", `"v1"`)...); res.status != 200 {
		t.Fatalf("move: %d %s", res.status, res.body)
	}
	for _, z := range []int{14, 16} {
		if d, _ := a.tile("plots", tiles.At(here, z)); hasFeature(d, "plots", created.ID) {
			t.Errorf("z%d: the old place still shows the plot after the move", z)
		}
		if d, _ := a.tile("plots", tiles.At(there, z)); !hasFeature(d, "plots", created.ID) {
			t.Errorf("z%d: the new place does not show the plot after the move", z)
		}
	}
	if a.app.tiles.FellBack() == 0 {
		t.Error("no tile waited for the lagging replica: the test proves nothing")
	}
	// Once the replica has caught up, tiles and the public's reads come from it.
	time.Sleep(time.Second)
	d, _ := a.tile("plots", tiles.At(there, 15))
	if !hasFeature(d, "plots", created.ID) {
		t.Error("z15 from the replica does not show the moved plot")
	}
	if res := a.anonymous().do("GET", "/api/v1/plots?limit=5", ""); res.status != 200 {
		t.Fatalf("anonymous read: %d", res.status)
	}
	conn, err := pgx.Connect(ctx, replica.URL("vungtrong"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tileConns, readConns int
	conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE application_name = 'vungtrong-tiles'), count(*) FILTER (WHERE application_name = 'vungtrong-read')
		FROM pg_stat_activity`).Scan(&tileConns, &readConns)
	if tileConns == 0 || readConns == 0 {
		t.Errorf("the replica serves %d tile and %d read connections, want some of each", tileConns, readConns)
	}
}

// A unique violation on a citizen ID or a phone number leaves no personal value in the embedded
// PostgreSQL's log (terse errors, no statements), nor in the server's.
func TestDatabaseLogHoldsNoPersonalData(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, func(c *Config) {
		c.Database.URL = ""
		c.DataDir = dir
	})
	cccd, phone := "066091234567", "0912345678"
	a.secret(cccd, "912345678")
	producer := `{"kind":"household","name":"Nguyễn Văn Riêng","citizen_id":"` + cccd + `","phone":"` + phone + `","commune_code":"24280"}`
	if res := a.do("POST", "/api/v1/producers", producer, append(a.auth(), "Content-Type", "application/json")...); res.status != 201 {
		t.Fatalf("first producer: %d %s", res.status, res.body)
	}
	res := a.do("POST", "/api/v1/producers", producer, append(a.auth(), "Content-Type", "application/json")...)
	if res.status != 409 || strings.Contains(string(res.body), "producer_citizen_id_key") {
		t.Fatalf("the same citizen ID again: %d %s, want 409 in words", res.status, res.body)
	}
	var id struct{ ID int64 }
	_ = json.Unmarshal(a.do("GET", "/api/v1/producers?limit=1", "", a.auth()...).body, &id)
	user := `{"phone":"` + phone + `","display_name":"Nông hộ Riêng","role":"farmer","producer_id":%d,"password":"mat-khau-dai-2026"}`
	var pid int64
	a.app.DB().Pool.QueryRow(context.Background(), `SELECT id FROM producer WHERE citizen_id = $1`, cccd).Scan(&pid)
	for i := range 2 {
		res := a.do("POST", "/api/v1/users", fmt.Sprintf(user, pid), append(a.auth(), "Content-Type", "application/json")...)
		if want := []int{201, 409}[i]; res.status != want {
			t.Fatalf("farmer account %d: %d %s, want %d", i+1, res.status, res.body, want)
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "pg", "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "duplicate key value violates unique constraint") {
		t.Fatalf("the database's log does not have the violations: the check would prove nothing\n%s", log)
	}
	for _, v := range []string{cccd, "912345678", "Nguyễn Văn Riêng"} {
		if strings.Contains(string(log), v) {
			t.Errorf("the database's log holds %q", v)
		}
	}
}
