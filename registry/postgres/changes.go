package postgres

import (
	"context"
	"encoding/json"
	"math"

	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
)

// changeChannel is the NOTIFY channel of committed changes. Payload: {"k": kind, "b": [minx,
// miny, maxx, maxy]} in WGS 84. NOTIFY is sent in the writing transaction, so it reaches the
// listeners exactly when (and only if) the change is committed.
const changeChannel = "vungtrong_changes"

type changePayload struct {
	K string     `json:"k"`
	B [4]float64 `json:"b"`
}

// OnCommit registers fn to be called, on this server, with the changes of every write right
// after it commits (before its answer goes out, so the writer's next read sees them).
func (db *DB) OnCommit(fn func([]registry.Change)) {
	db.hooksMu.Lock()
	defer db.hooksMu.Unlock()
	db.hooks = append(db.hooks, fn)
}

// changed records, inside tx, that objects of kind changed within bbox: NOTIFY for the other
// servers, and a note for this server's hooks after commit. An empty bound is ignored.
func (db *DB) changed(ctx context.Context, tx pgx.Tx, kind string, bbox orb.Bound) error {
	if bbox.IsZero() {
		return nil
	}
	b, _ := json.Marshal(changePayload{K: kind, B: [4]float64{bbox.Min[0], bbox.Min[1], bbox.Max[0], bbox.Max[1]}})
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changeChannel, string(b)); err != nil {
		return err
	}
	db.pendingMu.Lock()
	db.pending[tx] = append(db.pending[tx], registry.Change{Kind: kind, BBox: bbox})
	db.pendingMu.Unlock()
	return nil
}

// settle hands the changes of a finished transaction to the hooks if it committed.
func (db *DB) settle(tx pgx.Tx, committed bool) {
	db.pendingMu.Lock()
	changes := db.pending[tx]
	delete(db.pending, tx)
	db.pendingMu.Unlock()
	if !committed || len(changes) == 0 {
		return
	}
	if db.TrackLSN {
		lsn := db.currentLSN(db.Pool)
		for i := range changes {
			changes[i].LSN = lsn
		}
	}
	db.hooksMu.Lock()
	hooks := append([]func([]registry.Change){}, db.hooks...)
	db.hooksMu.Unlock()
	for _, fn := range hooks {
		fn(changes)
	}
}

// ListenChanges calls fn with every change committed by any server, until ctx ends. When the
// connection drops it reconnects, and once listening again calls gap: changes made meanwhile
// were missed. (Not when it drops: while the database is down nothing changes, and what this
// server has cached stays good to serve.)
func (db *DB) ListenChanges(ctx context.Context, fn func(registry.Change), gap func()) {
	backoff := time.Second
	lost := false
	for ctx.Err() == nil {
		err := db.listen(ctx, fn, func() {
			if lost {
				gap()
				lost = false
			}
			backoff = time.Second
		})
		if ctx.Err() != nil {
			return
		}
		if !lost {
			db.log.Warn("change feed lost; reconnecting", "err", err)
		}
		lost = true
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen listens for changes on a connection of its own, calling listening once it does.
func (db *DB) listen(ctx context.Context, fn func(registry.Change), listening func()) error {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection stays in LISTEN for good: take it out of the pool.
	c := conn.Hijack()
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, `LISTEN `+changeChannel); err != nil {
		return err
	}
	listening()
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if _, own := db.backends.Load(n.PID); own {
			continue // sent by this server: its hooks had it at commit
		}
		var p changePayload
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			db.log.Error("bad change notification", "err", err)
			continue
		}
		var lsn uint64
		if db.TrackLSN {
			// Read after the notification arrived, so after the change's commit.
			lsn = db.currentLSN(c)
		}
		fn(registry.Change{Kind: p.K, BBox: orb.Bound{Min: orb.Point{p.B[0], p.B[1]}, Max: orb.Point{p.B[2], p.B[3]}}, LSN: lsn})
	}
}

// PrimaryLSN returns the primary's current write-ahead log position, in bytes (see Change.LSN).
func (db *DB) PrimaryLSN() uint64 { return db.currentLSN(db.Pool) }

// currentLSN returns the primary's current write-ahead log position, in bytes; after a commit
// it is at or past the commit's record. On failure it returns the largest position, so that a
// replica is never trusted with what it may not have.
func (db *DB) currentLSN(q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var lsn int64
	if err := q.QueryRow(ctx, `SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint`).Scan(&lsn); err != nil {
		db.log.Warn("reading the primary's log position", "err", err)
		return math.MaxUint64
	}
	return uint64(lsn)
}

// bounds returns the bound of geometries, for changed.
func bounds(gs ...orb.Geometry) orb.Bound {
	var b orb.Bound
	first := true
	for _, g := range gs {
		if g == nil {
			continue
		}
		gb := g.Bound()
		if first {
			b, first = gb, false
		} else {
			b = b.Union(gb)
		}
	}
	return b
}

// PlotExtent returns the bound of the live plots, from the density cells (fast at any size).
// It returns an empty bound when there are no plots.
func (db *DB) PlotExtent(ctx context.Context) (orb.Bound, error) {
	var b orb.Bound
	var minX, minY, maxX, maxY *float64
	err := db.Pool.QueryRow(ctx, `
		SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
		  SELECT ST_Transform(ST_SetSRID(ST_Extent(ST_MakePoint(sum_x / plots, sum_y / plots))::geometry, 3857), 4326) AS e
		  FROM plot_cell WHERE level = 11) s`).Scan(&minX, &minY, &maxX, &maxY)
	if err != nil || minX == nil {
		return orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{0, 0}}, err
	}
	b.Min, b.Max = orb.Point{*minX, *minY}, orb.Point{*maxX, *maxY}
	return b, nil
}
