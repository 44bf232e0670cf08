package postgres

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
)

// Baselines: the forest maps screening reads, loaded from GeoTIFF tiles (see screening.go).

// BaselineLoad is one raster file to load as a baseline.
type BaselineLoad struct {
	Kind registry.BaselineKind
	// Info is what the file says about itself (checked again here).
	Info registry.RasterInfo
	// Dataset and Date name the dataset and the day its map stands for; empty and zero take the
	// kind's defaults.
	Dataset string
	Date    time.Time
	// Tiles holds the file's tiles as raster2pgsql writes them with -Y (COPY rows of hex
	// well-known binary rasters, one a line; other lines are skipped), in EPSG:4326.
	Tiles io.Reader
}

// LoadBaselines loads raster files as baselines, all in one transaction: a file that is
// refused (no coordinate system, outside Vietnam, values its kind cannot hold, overlapping
// another file of its kind) leaves the database as it was. A file of a name already loaded for
// its kind replaces it. Administrators only. Returns EFORBIDDEN, EINVALID or ECONFLICT.
func (s *ScreeningService) LoadBaselines(ctx context.Context, loads []BaselineLoad) ([]registry.Baseline, error) {
	if err := mustAdmin(ctx, "load baselines"); err != nil {
		return nil, err
	}
	for _, l := range loads {
		if _, err := baselineTable(l.Kind); err != nil {
			return nil, err
		}
		if err := l.Info.Check(); err != nil {
			return nil, err
		}
	}
	var out []registry.Baseline
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		for _, l := range loads {
			b, err := s.loadBaseline(ctx, tx, l)
			if err != nil {
				return err
			}
			out = append(out, *b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// vietnamPart is a file's extent inside Vietnam's.
func vietnamPart(b orb.Bound) orb.Bound {
	v := geo.VietnamBound
	return orb.Bound{Min: orb.Point{max(b.Min[0], v.Min[0]), max(b.Min[1], v.Min[1])}, Max: orb.Point{min(b.Max[0], v.Max[0]), min(b.Max[1], v.Max[1])}}
}

func (s *ScreeningService) loadBaseline(ctx context.Context, tx pgx.Tx, l BaselineLoad) (*registry.Baseline, error) {
	table, _ := baselineTable(l.Kind)
	file := l.Info.File
	bad := func(format string, args ...any) error {
		m := file + ": " + fmt.Sprintf(format, args...)
		return &registry.Error{Code: registry.EINVALID, Message: m, Details: []registry.Detail{{Field: "file", Message: m}}}
	}
	part := vietnamPart(l.Info.Bounds)
	env := []any{part.Min[0], part.Min[1], part.Max[0], part.Max[1]}
	// A file of the same name and kind is loaded again: it replaces the one loaded before.
	if _, err := tx.Exec(ctx, `DELETE FROM baseline WHERE kind = $1 AND source_file = $2`, l.Kind, file); err != nil {
		return nil, err
	}
	// Tiles of one kind must not overlap, or their pixels would count twice.
	var otherID int64
	var otherFile string
	err := tx.QueryRow(ctx, `
		SELECT id, source_file FROM baseline
		WHERE kind = $1 AND bounds && ST_MakeEnvelope($2, $3, $4, $5, 4326)
		  AND ST_Area(ST_Intersection(bounds, ST_MakeEnvelope($2, $3, $4, $5, 4326))) > $6::float8 * $7::float8
		ORDER BY id LIMIT 1`, append([]any{l.Kind}, append(env, l.Info.PixelWidth, l.Info.PixelHeight)...)...).Scan(&otherID, &otherFile)
	if err == nil {
		return nil, registry.Errorf(registry.ECONFLICT, "%s overlaps %s, loaded as %s baseline %d: the pixels both cover would count twice; remove it first (vungtrong baseline remove %d), or load tiles that do not overlap",
			file, otherFile, l.Kind, otherID, otherID)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	var id int64
	err = tx.QueryRow(ctx, `
		INSERT INTO baseline (kind, source_file, dataset, dataset_date, bounds, pixel_width, pixel_height, width, height, loaded_by)
		VALUES ($1, $2, 'pending', '2000-01-01', ST_MakeEnvelope($3, $4, $5, $6, 4326), $7, $8, $9, $10, $11) RETURNING id`,
		l.Kind, file, part.Min[0], part.Min[1], part.Max[0], part.Max[1], l.Info.PixelWidth, l.Info.PixelHeight,
		l.Info.Width, l.Info.Height, actorName(ctx)).Scan(&id)
	if err != nil {
		return nil, mapError(err)
	}
	// The tiles stream into COPY, each after the baseline's id; tiles outside Vietnam stay out.
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := writeTileRows(pw, l.Tiles, id)
		pw.CloseWithError(err)
		written <- err
	}()
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, pr, `COPY `+table+` (baseline_id, rast) FROM STDIN`)
	pr.CloseWithError(io.ErrClosedPipe) // stops the writer if COPY ended first
	if werr := <-written; werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		return nil, bad("%v", werr)
	}
	if err != nil {
		return nil, bad("the tiles could not be stored: %s", pgMessage(err))
	}
	var tiles int
	var lo, hi *float64
	err = tx.QueryRow(ctx, `
		SELECT count(*), min((st).min), max((st).max)
		FROM (SELECT ST_SummaryStats(rast, 1, true) st FROM `+table+` WHERE baseline_id = $1) s`, id).Scan(&tiles, &lo, &hi)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 0 || tiles == 0 {
		return nil, bad("no tile of the file lies inside Vietnam, or every pixel is \"no data\": is it the right file?")
	}
	least, most, meaning := l.Kind.ValueRange(s.now())
	if lo != nil && hi != nil && (*lo < least || *hi > most) {
		return nil, bad("its values run from %g to %g, but a %s baseline holds %s: is it the right file, and the right --kind?", *lo, *hi, l.Kind, meaning)
	}
	last := 0.0
	if hi != nil {
		last = *hi
	}
	name, date := l.Kind.DefaultDataset(last)
	if l.Dataset != "" {
		name = l.Dataset
	}
	if !l.Date.IsZero() {
		date = l.Date
	}
	var after []byte
	err = tx.QueryRow(ctx, `
		UPDATE baseline SET dataset = $2, dataset_date = $3, tiles = $4, min_value = $5, max_value = $6 WHERE id = $1
		RETURNING to_jsonb(baseline) - 'bounds'`, id, name, date, tiles, lo, hi).Scan(&after)
	if err != nil {
		return nil, mapError(err)
	}
	// Fresh statistics, so that screening finds the tiles under a plot by the index at once.
	if _, err := tx.Exec(ctx, `ANALYZE baseline; ANALYZE `+table); err != nil {
		return nil, err
	}
	if err := audit(ctx, tx, auditEntry{Action: "baseline.load", ObjectType: "baseline", ObjectID: id, After: after}); err != nil {
		return nil, err
	}
	return findBaseline(ctx, tx, id)
}

// rasterHeader is the fixed part of a raster's well-known binary form (PostGIS raster WKB).
type rasterHeader struct {
	scaleX, scaleY, ipX, ipY, skewX, skewY float64
	srid                                   int32
	width, height                          uint16
}

// rasterHeaderHex is the length of the header in hex digits: endianness (1 byte), version and
// band count (2 + 2), six doubles, the SRID (4), width and height (2 + 2).
const rasterHeaderHex = 2 * (1 + 2 + 2 + 6*8 + 4 + 2 + 2)

func parseRasterHeader(h string) (rasterHeader, error) {
	var r rasterHeader
	if len(h) < rasterHeaderHex {
		return r, errors.New("a tile is too short to be a raster")
	}
	b, err := hex.DecodeString(h[:rasterHeaderHex])
	if err != nil {
		return r, errors.New("a tile is not hexadecimal")
	}
	var o binary.ByteOrder = binary.LittleEndian
	if b[0] == 0 {
		o = binary.BigEndian
	}
	f := func(i int) float64 { return math.Float64frombits(o.Uint64(b[5+8*i:])) }
	r.scaleX, r.scaleY, r.ipX, r.ipY, r.skewX, r.skewY = f(0), f(1), f(2), f(3), f(4), f(5)
	r.srid = int32(o.Uint32(b[53:]))
	r.width, r.height = o.Uint16(b[57:]), o.Uint16(b[59:])
	return r, nil
}

// writeTileRows writes COPY rows "id<TAB>hex" of the tiles in r that lie in Vietnam's extent.
func writeTileRows(w io.Writer, r io.Reader, id int64) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	bw := bufio.NewWriterSize(w, 1<<20)
	prefix := fmt.Sprintf("%d\t", id)
	v := geo.VietnamBound
	for sc.Scan() {
		line := sc.Text()
		if len(line) < rasterHeaderHex || !isHex(line[:rasterHeaderHex]) {
			continue // raster2pgsql's BEGIN, COPY, \. and END lines
		}
		h, err := parseRasterHeader(line)
		if err != nil {
			return err
		}
		if h.srid != 0 && h.srid != geo.SRID {
			return fmt.Errorf("a tile is in SRID %d, not 4326", h.srid)
		}
		if h.skewX != 0 || h.skewY != 0 {
			return errors.New("the file's grid is rotated; warp it to a north-up grid with `gdalwarp -t_srs EPSG:4326`")
		}
		x0, x1 := h.ipX, h.ipX+float64(h.width)*h.scaleX
		y0, y1 := h.ipY+float64(h.height)*h.scaleY, h.ipY
		if min(x0, x1) >= v.Max[0] || max(x0, x1) <= v.Min[0] || min(y0, y1) >= v.Max[1] || max(y0, y1) <= v.Min[1] {
			continue
		}
		bw.WriteString(prefix)
		bw.WriteString(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the tiles: %w", err)
	}
	return bw.Flush()
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

const baselineColumns = `id, kind, source_file, dataset, dataset_date, ST_XMin(bounds), ST_YMin(bounds), ST_XMax(bounds), ST_YMax(bounds),
	pixel_width, pixel_height, width, height, tiles, min_value, max_value, loaded_at, loaded_by`

func scanBaseline(row scanner) (*registry.Baseline, error) {
	var b registry.Baseline
	err := row.Scan(&b.ID, &b.Kind, &b.SourceFile, &b.Dataset, &b.DatasetDate, &b.Bounds.Min[0], &b.Bounds.Min[1], &b.Bounds.Max[0], &b.Bounds.Max[1],
		&b.PixelWidth, &b.PixelHeight, &b.Width, &b.Height, &b.Tiles, &b.MinValue, &b.MaxValue, &b.LoadedAt, &b.LoadedBy)
	return &b, err
}

func findBaseline(ctx context.Context, q querier, id int64) (*registry.Baseline, error) {
	b, err := scanBaseline(q.QueryRow(ctx, `SELECT `+baselineColumns+` FROM baseline WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "baseline %d not found (vungtrong baseline list)", id)
	}
	return b, err
}

// Baselines implements registry.ScreeningService.
func (s *ScreeningService) Baselines(ctx context.Context) ([]registry.Baseline, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+baselineColumns+` FROM baseline ORDER BY kind, source_file`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registry.Baseline
	for rows.Next() {
		b, err := scanBaseline(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *b)
	}
	return out, rows.Err()
}

// RemoveBaseline forgets a baseline and its tiles (administrators). Plots keep their screening
// until they are screened again. Returns EFORBIDDEN or ENOTFOUND.
func (s *ScreeningService) RemoveBaseline(ctx context.Context, id int64) error {
	if err := mustAdmin(ctx, "remove baselines"); err != nil {
		return err
	}
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		var before []byte
		err := tx.QueryRow(ctx, `DELETE FROM baseline WHERE id = $1 RETURNING to_jsonb(baseline) - 'bounds'`, id).Scan(&before)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "baseline %d not found (vungtrong baseline list)", id)
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "baseline.remove", ObjectType: "baseline", ObjectID: id, Before: before})
	})
}

// PlotsIn counts the live plots inside a bound (what a new baseline covers).
func (s *ScreeningService) PlotsIn(ctx context.Context, b orb.Bound) (int64, error) {
	var n int64
	err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM plot WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND deleted_at IS NULL`,
		b.Min[0], b.Min[1], b.Max[0], b.Max[1]).Scan(&n)
	return n, err
}
