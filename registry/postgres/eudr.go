package postgres

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/riverqueue/river"
	"github.com/vungtrong/vungtrong/compliance/eudr"
	"github.com/vungtrong/vungtrong/registry"
)

// EUDRExporter writes EUDR geolocation exports of the registry's plots (see package
// compliance/eudr): one read-only snapshot, one streamed query (a province's plots never sit in
// memory), PostGIS for the rare plot whose holes must be cut away or whose rounded rings must
// be snapped back into validity.
type EUDRExporter struct {
	db *DB
	// Screening, when set, sums up the exported plots' deforestation screening in the summary;
	// nil reports "not screened".
	Screening registry.EUDRScreener
	// Level is the zip's deflate level (0: the eudr package's default, the fastest).
	Level int
	now   func() time.Time
}

var _ registry.EUDRExporter = (*EUDRExporter)(nil)

// NewEUDRExporter returns an exporter on db, without screening.
func NewEUDRExporter(db *DB) *EUDRExporter { return &EUDRExporter{db: db, now: time.Now} }

// eudrSelection is an export's selection as SQL on plot p: its condition and arguments.
type eudrSelection struct {
	where string
	args  []any
	// consignment is set for a consignment's export.
	consignment *eudrConsignment
}

type eudrConsignment struct {
	id          int64
	code        string
	netKg       float64
	destination string
	// byHS is the net mass of each HS heading's lots, kg.
	byHS map[string]float64
}

func (s *eudrSelection) arg(v any) string {
	s.args = append(s.args, v)
	return "$" + strconv.Itoa(len(s.args))
}

// selection checks that what req selects exists and that the caller may see it, and returns it
// as SQL.
func (x *EUDRExporter) selection(ctx context.Context, q querier, req registry.EUDRExportRequest, a registry.Actor) (*eudrSelection, error) {
	s := &eudrSelection{}
	var conds []string
	exists := func(query string, args []any, what string) error {
		var ok bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (`+query+`)`, args...).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return registry.Errorf(registry.ENOTFOUND, "%s not found", what)
		}
		return nil
	}
	switch {
	case req.ProducerID != 0:
		p, err := findProducer(ctx, q, req.ProducerID)
		if err != nil {
			return nil, err
		}
		if registry.ProducerAccess(a, producerPlace(p)) == registry.AccessNone {
			return nil, registry.Errorf(registry.ENOTFOUND, "producer %d not found", req.ProducerID)
		}
		conds = append(conds, "p.producer_id = "+s.arg(req.ProducerID))
	case req.CooperativeID != 0:
		if err := exists(`SELECT 1 FROM producer WHERE id = $1 AND kind = 'cooperative' AND deleted_at IS NULL`, []any{req.CooperativeID},
			fmt.Sprintf("cooperative %d", req.CooperativeID)); err != nil {
			return nil, err
		}
		n := s.arg(req.CooperativeID)
		conds = append(conds, "p.producer_id IN (SELECT id FROM producer WHERE id = "+n+" OR cooperative_id = "+n+")")
	case req.GrowingAreaID != 0:
		if err := exists(`SELECT 1 FROM growing_area WHERE id = $1 AND deleted_at IS NULL`, []any{req.GrowingAreaID},
			fmt.Sprintf("growing area %d", req.GrowingAreaID)); err != nil {
			return nil, err
		}
		conds = append(conds, "p.id IN (SELECT plot_id FROM growing_area_plot WHERE growing_area_id = "+s.arg(req.GrowingAreaID)+" AND removed_at IS NULL)")
	case req.CommuneCode != "":
		if err := exists(`SELECT 1 FROM commune WHERE scheme = 2025 AND code = $1`, []any{req.CommuneCode},
			fmt.Sprintf("commune %s (of the 2025 list)", req.CommuneCode)); err != nil {
			return nil, err
		}
		conds = append(conds, "p.commune_code = "+s.arg(req.CommuneCode))
	case req.ProvinceCode != "":
		if err := exists(`SELECT 1 FROM province WHERE scheme = 2025 AND code = $1`, []any{req.ProvinceCode},
			fmt.Sprintf("province %s (of the 2025 list)", req.ProvinceCode)); err != nil {
			return nil, err
		}
		conds = append(conds, "p.province_code = "+s.arg(req.ProvinceCode))
	case req.Consignment != "":
		c, err := x.consignment(ctx, q, req.Consignment, a)
		if err != nil {
			return nil, err
		}
		s.consignment = c
		conds = append(conds, "p.id IN (SELECT hp.plot_id FROM consignment_lot cl JOIN harvest_lot_plot hp ON hp.lot_id = cl.lot_id WHERE cl.consignment_id = "+s.arg(c.id)+")")
	}
	// A consignment's plots are exported even if deleted since: the goods came from them.
	if s.consignment == nil {
		conds = append(conds, "p.deleted_at IS NULL")
	}
	if a.Role == registry.RoleFarmer {
		// A farmer's registry holds their own plots only.
		if a.ProducerID == nil {
			conds = append(conds, "false")
		} else {
			conds = append(conds, "p.producer_id = "+s.arg(*a.ProducerID))
		}
	}
	if req.Crop != "" {
		code, err := resolveCrop(ctx, q, req.Crop)
		if err != nil {
			return nil, &registry.Error{Code: registry.EINVALID, Message: registry.ErrorMessage(err), Details: []registry.Detail{{Field: "crop", Message: "unknown crop"}}}
		}
		conds = append(conds, "p.crop = "+s.arg(code))
	}
	s.where = strings.Join(conds, " AND ")
	return s, nil
}

// consignment finds a consignment the actor may see: admins any, officers those of their
// provinces, exporters their own, cooperatives those carrying lots they registered.
func (x *EUDRExporter) consignment(ctx context.Context, q querier, code string, a registry.Actor) (*eudrConsignment, error) {
	c := &eudrConsignment{code: code, byHS: map[string]float64{}}
	var province string
	var exporter *int64
	err := q.QueryRow(ctx, `SELECT id, net_kg::float8, coalesce(destination, ''), province_code, exporter_id FROM consignment WHERE public_code = $1`, code).
		Scan(&c.id, &c.netKg, &c.destination, &province, &exporter)
	notFound := registry.Errorf(registry.ENOTFOUND, "consignment %s not found", code)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	visible := false
	switch a.Role {
	case registry.RoleAdmin:
		visible = true
	case registry.RoleOfficer:
		visible = a.InJurisdiction(province, "")
	case registry.RoleExporter:
		visible = a.ProducerID != nil && exporter != nil && *a.ProducerID == *exporter
	case registry.RoleCooperative:
		if a.ProducerID != nil {
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM consignment_lot cl JOIN harvest_lot l ON l.id = cl.lot_id
				WHERE cl.consignment_id = $1 AND l.registrant_id = $2)`, c.id, *a.ProducerID).Scan(&visible); err != nil {
				return nil, err
			}
		}
	}
	if !visible {
		return nil, notFound
	}
	rows, err := q.Query(ctx, `SELECT coalesce(k.hs_heading, ''), sum(cl.quantity_kg)::float8 FROM consignment_lot cl
		JOIN harvest_lot l ON l.id = cl.lot_id JOIN crop k ON k.code = l.crop WHERE cl.consignment_id = $1 GROUP BY 1`, c.id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var hs string
		var kg float64
		if err := rows.Scan(&hs, &kg); err != nil {
			return nil, err
		}
		c.byHS[hs] = kg
	}
	return c, rows.Err()
}

// eudrCrop is what an export needs to know of a crop.
type eudrCrop struct {
	nameVI, nameEN, hs string
	eudr               bool
}

func loadEUDRCrops(ctx context.Context, q querier) (map[string]eudrCrop, error) {
	rows, err := q.Query(ctx, `SELECT code, name_vi, name_en, coalesce(hs_heading, ''), eudr FROM crop`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]eudrCrop{}
	for rows.Next() {
		var code string
		var c eudrCrop
		if err := rows.Scan(&code, &c.nameVI, &c.nameEN, &c.hs, &c.eudr); err != nil {
			return nil, err
		}
		out[code] = c
	}
	return out, rows.Err()
}

// eudrPlaces names communes and provinces: "Xã Krông Pắc, Tỉnh Đắk Lắk". Keys are the scheme's
// last digit (4 or 5), the commune code and the province code.
type eudrPlaces struct {
	communes  map[string]string // scheme digit + code -> name
	provinces map[string]string
	cache     map[string]string
	key       []byte
}

func loadEUDRPlaces(ctx context.Context, q querier) (*eudrPlaces, error) {
	p := &eudrPlaces{communes: map[string]string{}, provinces: map[string]string{}, cache: map[string]string{}}
	for _, t := range []struct {
		sql string
		m   map[string]string
	}{{`SELECT scheme, code, name FROM commune`, p.communes}, {`SELECT scheme, code, name FROM province`, p.provinces}} {
		rows, err := q.Query(ctx, t.sql)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var scheme int16
			var code, name string
			if err := rows.Scan(&scheme, &code, &name); err != nil {
				rows.Close()
				return nil, err
			}
			t.m[strconv.Itoa(int(scheme%10))+code] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// name returns the production place of a plot, from the bytes of its codes (allocating only the
// first time a place is met).
func (p *eudrPlaces) name(scheme int16, commune, province []byte) string {
	p.key = append(append(append(append(p.key[:0], byte('0'+scheme%10)), commune...), '|'), province...)
	if s, ok := p.cache[string(p.key)]; ok {
		return s
	}
	d := string(rune('0' + scheme%10))
	var parts []string
	if n, ok := p.communes[d+string(commune)]; ok {
		parts = append(parts, n)
	} else if len(commune) > 0 {
		parts = append(parts, "commune "+string(commune))
	}
	if n, ok := p.provinces[d+string(province)]; ok {
		parts = append(parts, n)
	} else if len(province) > 0 {
		parts = append(parts, "province "+string(province))
	}
	parts = append(parts, "Việt Nam")
	s := strings.Join(parts, ", ")
	p.cache[string(p.key)] = s
	return s
}

// eudrPlotColumns are the columns of the export query, read raw (binary) in this order.
const eudrPlotColumns = `p.id, ST_AsBinary(p.geom), p.area_ha, p.crop, p.admin_scheme, coalesce(p.commune_code, ''), coalesce(p.province_code, ''),
	coalesce(o.id, 0), coalesce(o.kind, ''), coalesce(o.name, ''), coalesce(o.province_code, ''), coalesce(o.commune_code, ''), o.cooperative_id,
	p.deleted_at IS NOT NULL`

// ExportEUDR implements registry.EUDRExporter.
func (x *EUDRExporter) ExportEUDR(ctx context.Context, req registry.EUDRExportRequest, w io.Writer, progress func(registry.EUDRExportProgress)) (*eudr.Summary, error) {
	start := time.Now()
	req.Normalize()
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(registry.EUDRExportProgress) {}
	}
	actor, _ := registry.ActorFromContext(ctx)
	progress(registry.EUDRExportProgress{Stage: "selecting"})
	// One snapshot for the counts and the plots; the export may take minutes on a province.
	tx, err := x.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, mapError(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// No statement timeout; and plots in the table's order, not from wherever the last scan of
	// the table stopped: the same selection of the same plots gives the same files.
	for _, set := range []string{`SET LOCAL statement_timeout = 0`, `SET LOCAL synchronize_seqscans = off`} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return nil, err
		}
	}
	sel, err := x.selection(ctx, tx, req, actor)
	if err != nil {
		return nil, err
	}
	crops, err := loadEUDRCrops(ctx, tx)
	if err != nil {
		return nil, err
	}
	places, err := loadEUDRPlaces(ctx, tx)
	if err != nil {
		return nil, err
	}
	// The plots of each crop, first: the total for progress, the commodities for the
	// statements, and a refusal of an empty selection before anything is written.
	rows, err := tx.Query(ctx, `SELECT p.crop, count(*) FROM plot p WHERE `+sel.where+` GROUP BY 1 ORDER BY 1`, sel.args...)
	if err != nil {
		return nil, err
	}
	total := 0
	var selectedCrops []string
	for rows.Next() {
		var crop string
		var n int
		if err := rows.Scan(&crop, &n); err != nil {
			rows.Close()
			return nil, err
		}
		total += n
		selectedCrops = append(selectedCrops, crop)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if total == 0 {
		return nil, &registry.Error{Code: registry.EINVALID, Message: "the selection holds no plots: there is nothing to export",
			Details: []registry.Detail{{Field: "selection", Message: "no plots"}}}
	}

	now := x.now()
	sum := &eudr.Summary{Regulation: eudr.Regulation, GeneratedAt: now.UTC().Truncate(time.Second), Selection: req.Selection(), Points: req.Points,
		MaxFileBytes: req.MaxFileBytes(), Problems: []eudr.Problem{}, Warnings: []string{}}
	tmpl := x.template(req, sel, crops, selectedCrops)
	ew := eudr.NewWriter(ctx, w, eudr.Options{MaxFileBytes: req.MaxFileBytes(), Statement: tmpl, Level: x.Level, Now: now})
	st := &exportState{x: x, ctx: ctx, actor: actor, req: req, sum: sum, crops: crops, places: places, w: ew,
		producers: map[int64]bool{}, withheld: map[int64]bool{}, byCrop: map[string]*eudr.CropSummary{}}
	if x.Screening != nil {
		st.ids = make([]int64, 0, total)
	}
	progress(registry.EUDRExportProgress{Stage: "writing", Total: total})
	if err := st.stream(tx, sel, total, progress); err != nil {
		ew.Abort()
		return nil, err
	}
	if err := st.finish(sel); err != nil {
		ew.Abort()
		return nil, err
	}
	sum.Elapsed = math.Round(time.Since(start).Seconds()*10) / 10
	if err := ew.Close(sum); err != nil {
		return nil, err
	}
	progress(registry.EUDRExportProgress{Stage: "done", Plots: sum.Plots, Total: total, Files: len(sum.Files)})
	return sum, nil
}

// template is what the export's statements say besides their producers.
func (x *EUDRExporter) template(req registry.EUDRExportRequest, sel *eudrSelection, crops map[string]eudrCrop, selected []string) *eudr.StatementTemplate {
	t := &eudr.StatementTemplate{OperatorType: "OPERATOR", ActivityType: req.Activity, Commodities: map[string]eudr.CommodityInfo{},
		InternalReference: strings.TrimSuffix(req.Filename(), ".zip")}
	names := map[string][]string{}
	for _, code := range selected {
		c := crops[code]
		names[c.hs] = append(names[c.hs], fmt.Sprintf("%s (%s)", c.nameEN, strings.ToLower(c.nameVI)))
	}
	for hs, n := range names {
		info := eudr.CommodityInfo{Description: strings.Join(n, ", ") + ", grown in Viet Nam"}
		if c := sel.consignment; c != nil {
			if kg, ok := c.byHS[hs]; ok {
				info.NetWeightKg = &kg
			}
		}
		t.Commodities[hs] = info
	}
	if c := sel.consignment; c != nil {
		t.InternalReference = c.code
		t.Comment = fmt.Sprintf("Consignment %s, %s kg net", c.code, strconv.FormatFloat(c.netKg, 'f', -1, 64))
		if len(c.destination) == 2 && strings.ToUpper(c.destination) == c.destination {
			t.CountryOfActivity = c.destination
		}
	}
	return t
}

// exportState is one export under way.
type exportState struct {
	x      *EUDRExporter
	ctx    context.Context
	actor  registry.Actor
	req    registry.EUDRExportRequest
	sum    *eudr.Summary
	crops  map[string]eudrCrop
	places *eudrPlaces
	w      *eudr.Writer

	producers, withheld map[int64]bool
	byCrop              map[string]*eudr.CropSummary
	ids                 []int64
	deleted             int
	plot                eudr.Plot
}

// rawColumns checks that every column of the export query comes back as stream decodes it: in
// binary (text is the same in both formats).
func rawColumns(rows pgx.Rows) error {
	for _, fd := range rows.FieldDescriptions() {
		if fd.Format != pgx.BinaryFormatCode && fd.DataTypeOID != pgtype.TextOID {
			return fmt.Errorf("eudr export: column %s comes back as text", fd.Name)
		}
	}
	return nil
}

// stream reads the selected plots in one query and writes them one by one.
func (st *exportState) stream(tx pgx.Tx, sel *eudrSelection, total int, progress func(registry.EUDRExportProgress)) error {
	ctx := st.ctx
	points := ""
	if st.req.Points {
		points = fmt.Sprintf(`, CASE WHEN p.area_ha <= %g THEN ST_AsBinary(ST_PointOnSurface(p.geom)) END`, eudr.MaxPointAreaHa)
	}
	rows, err := tx.Query(ctx, `SELECT `+eudrPlotColumns+points+` FROM plot p LEFT JOIN producer o ON o.id = p.producer_id WHERE `+sel.where, sel.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := rawColumns(rows); err != nil {
		return err
	}
	n := 0
	last := time.Now()
	for rows.Next() {
		if err := st.row(rows.RawValues()); err != nil {
			return err
		}
		n++
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if time.Since(last) > 200*time.Millisecond {
				last = time.Now()
				progress(registry.EUDRExportProgress{Stage: "writing", Plots: n, Total: total, Files: st.w.Files()})
			}
		}
	}
	return rows.Err()
}

var be = binary.BigEndian

func int64At(b []byte) int64 { return int64(be.Uint64(b)) }

// row writes one plot from the raw values of eudrPlotColumns (and the point, when asked).
func (st *exportState) row(v [][]byte) error {
	id := int64At(v[0])
	area := math.Float64frombits(be.Uint64(v[2]))
	crop := v[3]
	scheme := int16(be.Uint16(v[4]))
	p := &st.plot
	*p = eudr.Plot{ID: id, AreaHa: area, ProductionPlace: st.places.name(scheme, v[5], v[6])}
	c, ok := st.crops[string(crop)]
	if !ok {
		c = eudrCrop{nameEN: string(crop)}
	}
	p.HSHeading = c.hs
	if v[13][0] != 0 { // deleted since the harvest
		st.deleted++
	}
	if len(v) > 14 && v[14] != nil {
		g, err := wkb.Unmarshal(v[14])
		if pt, ok := g.(orb.Point); err == nil && ok {
			c := eudr.RoundCoord(pt)
			p.Point = &c
		}
	}
	if p.Point == nil {
		shape, problem, err := st.shape(id, v[1])
		if err != nil {
			return err
		}
		if problem != "" {
			st.sum.Problems = append(st.sum.Problems, eudr.Problem{Plot: id, Message: problem})
			return nil
		}
		p.Shape = shape
	}
	if producer := int64At(v[7]); producer != 0 {
		p.Producer = producer
		kind := v[8]
		if string(kind) == registry.ProducerHousehold && !st.mayName(producer, v[10], v[11], v[12]) {
			p.NameWithheld = true
			st.sum.WithheldPlots++
			st.withheld[producer] = true
		} else {
			p.ProducerName = string(v[9])
		}
		st.producers[producer] = true
	} else {
		st.sum.PlotsWithoutProducer++
	}
	if err := st.w.Add(p); err != nil {
		return err
	}
	st.sum.Plots++
	st.sum.Hectares += area
	cs := st.byCrop[string(crop)]
	if cs == nil {
		cs = &eudr.CropSummary{Crop: string(crop), HSHeading: c.hs, EUDR: c.eudr}
		st.byCrop[cs.Crop] = cs
	}
	cs.Plots++
	cs.Hectares += area
	if st.ids != nil {
		st.ids = append(st.ids, id)
	}
	return nil
}

// mayName reports whether the exporting actor may see a household's name (ProducerAccess at
// least AccessFull): a household's name is personal data.
func (st *exportState) mayName(producer int64, province, commune, coop []byte) bool {
	if st.actor.Role == registry.RoleAdmin {
		return true
	}
	place := registry.Place{ProvinceCode: string(province), CommuneCode: string(commune), OwnerID: &producer}
	if coop != nil {
		c := int64At(coop)
		place.OwnerCooperativeID = &c
	}
	return registry.ProducerAccess(st.actor, place) >= registry.AccessFull
}

// shape turns a plot's stored geometry into what the EU system takes: holes cut away (by
// PostGIS), rounded to six decimals, checked; a plot whose rounded rings break a rule is
// snapped to the grid by PostGIS (ST_ReducePrecision keeps validity) and checked again. It
// returns the problem that leaves the plot out, if any.
func (st *exportState) shape(id int64, raw []byte) (eudr.Shape, string, error) {
	g, err := wkb.Unmarshal(raw)
	if err != nil {
		return nil, "", fmt.Errorf("plot %d: decoding geometry: %w", id, err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		if poly, isPoly := g.(orb.Polygon); isPoly {
			mp = orb.MultiPolygon{poly}
		} else {
			return nil, fmt.Sprintf("the stored geometry is a %s", g.GeoJSONType()), nil
		}
	}
	gs := &st.sum.Geometry
	if hasHoles(mp) {
		if mp, err = st.x.splitHoles(st.ctx, mp); err != nil {
			return nil, "", fmt.Errorf("plot %d: cutting its holes away: %w", id, err)
		}
		gs.HolesRemoved++
	}
	shape, rs, err := eudr.Round(mp)
	if err == nil {
		if err = shape.Check(); err == nil {
			gs.VerticesDropped += rs.Vertices
			gs.PartsDropped += rs.Parts
			gs.MaxAreaChangePct = max(gs.MaxAreaChangePct, rs.AreaChange*100)
			return shape, "", nil
		}
	}
	first := err
	snapped, err := st.x.snapToGrid(st.ctx, mp)
	if err != nil {
		return nil, "", fmt.Errorf("plot %d: snapping to six decimals: %w", id, err)
	}
	if hasHoles(snapped) {
		if snapped, err = st.x.splitHoles(st.ctx, snapped); err != nil {
			return nil, "", fmt.Errorf("plot %d: cutting its holes away: %w", id, err)
		}
	}
	shape, rs, err = eudr.Round(snapped)
	if err == nil {
		err = shape.Check()
	}
	if err != nil {
		return nil, fmt.Sprintf("rounded to six decimals, its geometry breaks a rule that snapping could not mend: %v", first), nil
	}
	gs.VerticesDropped += rs.Vertices
	gs.PartsDropped += rs.Parts
	gs.MaxAreaChangePct = max(gs.MaxAreaChangePct, rs.AreaChange*100)
	gs.Repaired++
	return shape, "", nil
}

func hasHoles(mp orb.MultiPolygon) bool {
	for _, p := range mp {
		if len(p) > 1 {
			return true
		}
	}
	return false
}

// geometryOp runs one PostGIS function over a geometry, on a connection of its own (the
// export's holds its cursor).
func (x *EUDRExporter) geometryOp(ctx context.Context, sql string, mp orb.MultiPolygon) (orb.MultiPolygon, error) {
	in, err := wkb.Marshal(mp)
	if err != nil {
		return nil, err
	}
	var out []byte
	if err := x.db.Pool.QueryRow(ctx, sql, in).Scan(&out); err != nil {
		return nil, err
	}
	return decodeMultiPolygon(out)
}

// splitHoles cuts a geometry's holes away (eudr_split_holes, migration 0016).
func (x *EUDRExporter) splitHoles(ctx context.Context, mp orb.MultiPolygon) (orb.MultiPolygon, error) {
	return x.geometryOp(ctx, `SELECT ST_AsBinary(eudr_split_holes(ST_GeomFromWKB($1, 4326)))`, mp)
}

// snapToGrid snaps each polygon to the six-decimal grid, keeping it valid (GEOS's precision
// reduction), polygon by polygon so that parts sharing sides stay parts.
func (x *EUDRExporter) snapToGrid(ctx context.Context, mp orb.MultiPolygon) (orb.MultiPolygon, error) {
	return x.geometryOp(ctx, `SELECT ST_AsBinary(ST_Collect(r.geom)) FROM ST_Dump(ST_GeomFromWKB($1, 4326)) d,
		LATERAL ST_Dump(ST_ReducePrecision(d.geom, 0.000001)) r WHERE ST_Dimension(r.geom) = 2`, mp)
}

// finish fills in the summary once every plot is written.
func (st *exportState) finish(sel *eudrSelection) error {
	s := st.sum
	s.Hectares = math.Round(s.Hectares*1e4) / 1e4
	s.Geometry.MaxAreaChangePct = math.Round(s.Geometry.MaxAreaChangePct*1e4) / 1e4
	s.Producers, s.WithheldNames = len(st.producers), len(st.withheld)
	hs := map[string]bool{}
	for _, c := range st.byCrop {
		c.Hectares = math.Round(c.Hectares*1e4) / 1e4
		s.Crops = append(s.Crops, *c)
		if c.HSHeading != "" {
			hs[c.HSHeading] = true
		}
		if !c.EUDR {
			heading := ""
			if c.HSHeading != "" {
				heading = " (HS " + c.HSHeading + ")"
			}
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s%s is not a commodity of Regulation (EU) 2023/1115: its %d plots need no due diligence statement",
				st.crops[c.Crop].nameEN, heading, c.Plots))
		}
	}
	sort.Slice(s.Crops, func(i, j int) bool { return s.Crops[i].Crop < s.Crops[j].Crop })
	if c := sel.consignment; c != nil {
		net := c.netKg
		s.NetMassKg = &net
		for h := range c.byHS {
			if h != "" {
				hs[h] = true
			}
		}
	}
	s.HSHeadings = make([]string, 0, len(hs))
	for h := range hs {
		s.HSHeadings = append(s.HSHeadings, h)
	}
	slices.Sort(s.HSHeadings)
	if s.WithheldNames > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("the names of %d producers (%d plots) were withheld: a household's name is personal data your role may not see; their features say \"ProducerNameWithheld\": true",
			s.WithheldNames, s.WithheldPlots))
	}
	if st.deleted > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d plots of the consignment's lots have been deleted from the registry since; their last geometry is exported", st.deleted))
	}
	if len(s.Problems) > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d plots were left out: see problems", len(s.Problems)))
	}
	s.Screening = eudr.Screening{Outcome: eudr.NotScreened, Note: "no deforestation screening is configured on this registry"}
	if st.x.Screening != nil {
		sc, err := st.x.Screening.ScreenEUDRPlots(st.ctx, st.ids)
		if err != nil {
			return fmt.Errorf("screening summary: %w", err)
		}
		if sc != nil {
			s.Screening = *sc
		}
	}
	return nil
}

// Exports as jobs.

// eudrExportRetention is how long an ended export's job and zip are kept.
const eudrExportRetention = 24 * time.Hour

// eudrMaxZipBytes bounds an export's zip (a whole province's plots compress to far less).
const eudrMaxZipBytes = 16 << 30

// EUDRExports runs EUDR exports as River jobs: the zip is kept in the database (an upload of
// purpose "export") for a day, so any server can hand it out.
type EUDRExports struct {
	jobs     *Jobs
	exporter *EUDRExporter
}

var _ registry.EUDRExportService = (*EUDRExports)(nil)

// eudrExporters are the exporters that the jobs' workers use, by Jobs (NewEUDRExports sets
// them; a Jobs without one exports without screening).
var eudrExporters sync.Map

// NewEUDRExports returns the export jobs of jobs, run with x.
func NewEUDRExports(jobs *Jobs, x *EUDRExporter) *EUDRExports {
	eudrExporters.Store(jobs, x)
	return &EUDRExports{jobs: jobs, exporter: x}
}

type eudrExportArgs struct {
	ExportID string `json:"export_id"`
}

func (eudrExportArgs) Kind() string { return "eudr_export" }

type eudrCleanupArgs struct{}

func (eudrCleanupArgs) Kind() string { return "eudr_export_cleanup" }

func init() {
	extraWorkers = append(extraWorkers, func(w *river.Workers, j *Jobs) {
		river.AddWorker(w, &eudrExportWorker{jobs: j})
		river.AddWorker(w, &eudrCleanupWorker{jobs: j})
	})
	extraPeriodic = append(extraPeriodic, func() *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return eudrCleanupArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
	})
	addConstraintMessages(map[string]string{
		"upload_purpose_check":           "an upload is for an import, an attachment or an export",
		"eudr_export_id_check":           "an export's id is 18 hexadecimal digits",
		"eudr_export_owner_kind_check":   "an export is started by a user, a token or the system",
		"eudr_export_state_check":        "an export is queued, running, done or failed",
		"eudr_export_owner_user_id_fkey": "the account named does not exist",
		"eudr_export_upload_id_fkey":     "the upload named does not exist",
	})
}

// StartEUDRExport implements registry.EUDRExportService.
func (s *EUDRExports) StartEUDRExport(ctx context.Context, req registry.EUDRExportRequest) (*registry.EUDRExportJob, error) {
	a, _ := registry.ActorFromContext(ctx)
	if !registry.CanExportEUDR(a) {
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not export EUDR geolocation: exporters, cooperatives, officers and admins do", cmpOr(a.Role, "public"))
	}
	req.Normalize()
	if err := req.Validate(); err != nil {
		return nil, err
	}
	kind := a.Kind
	if kind != "user" && kind != "token" {
		kind = "system"
	}
	job := &registry.EUDRExportJob{ID: newImportID(), State: registry.ImportQueued, Request: req, Owner: a.String()}
	request, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	err = s.jobs.db.Transact(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO eudr_export (id, owner, owner_user_id, owner_kind, request_id, request)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6) RETURNING started_at`,
			job.ID, a.String(), nullID(a.UserID), kind, registry.RequestIDFromContext(ctx), request).Scan(&job.Started); err != nil {
			return mapError(err)
		}
		res, err := s.jobs.client.InsertTx(ctx, tx, eudrExportArgs{ExportID: job.ID}, &river.InsertOpts{MaxAttempts: 1})
		if err != nil {
			return fmt.Errorf("queueing the export: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE eudr_export SET river_job_id = $2 WHERE id = $1`, job.ID, res.Job.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return job, nil
}

const eudrExportColumns = `e.id, e.state, e.request, e.progress, e.summary, e.error, e.started_at, e.ended_at, e.owner, e.owner_user_id,
	e.upload_id, u.filename, u.size, u.sha256`

// FindEUDRExport implements registry.EUDRExportService.
func (s *EUDRExports) FindEUDRExport(ctx context.Context, id string) (*registry.EUDRExportJob, error) {
	job, _, err := s.find(ctx, id)
	return job, err
}

func (s *EUDRExports) find(ctx context.Context, id string) (*registry.EUDRExportJob, *int64, error) {
	var job registry.EUDRExportJob
	var request, progress, summary, jerr []byte
	var owner, upload *int64
	var filename *string
	var size *int64
	var sha []byte
	err := s.jobs.db.Pool.QueryRow(ctx, `SELECT `+eudrExportColumns+` FROM eudr_export e LEFT JOIN upload u ON u.id = e.upload_id WHERE e.id = $1`, id).
		Scan(&job.ID, &job.State, &request, &progress, &summary, &jerr, &job.Started, &job.Ended, &job.Owner, &owner, &upload, &filename, &size, &sha)
	a, _ := registry.ActorFromContext(ctx)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && a.Role != registry.RoleAdmin && (owner == nil || *owner != a.UserID || a.UserID == 0)) {
		return nil, nil, registry.Errorf(registry.ENOTFOUND, "no export %s of yours: exports are kept for a day after they end", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(request, &job.Request); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(progress, &job.Progress); err != nil {
		return nil, nil, err
	}
	if summary != nil {
		job.Summary = new(eudr.Summary)
		if err := json.Unmarshal(summary, job.Summary); err != nil {
			return nil, nil, err
		}
	}
	if jerr != nil {
		job.Error = new(registry.ImportJobError)
		if err := json.Unmarshal(jerr, job.Error); err != nil {
			return nil, nil, err
		}
	}
	if upload != nil && filename != nil && size != nil {
		job.File = &registry.EUDRExportFile{Name: *filename, Size: *size, SHA256: hex.EncodeToString(sha)}
	}
	return &job, upload, nil
}

// WriteEUDRExportFile implements registry.EUDRExportService.
func (s *EUDRExports) WriteEUDRExportFile(ctx context.Context, id string, w io.Writer) error {
	job, upload, err := s.find(ctx, id)
	if err != nil {
		return err
	}
	if job.State != registry.ImportDone || upload == nil {
		return registry.Errorf(registry.ECONFLICT, "export %s is %s: its file is ready once it is done", id, job.State)
	}
	return writeUpload(ctx, s.jobs.db.Pool, *upload, w)
}

type eudrExportWorker struct {
	river.WorkerDefaults[eudrExportArgs]
	jobs *Jobs
}

func (w *eudrExportWorker) Work(ctx context.Context, rj *river.Job[eudrExportArgs]) error {
	x := NewEUDRExporter(w.jobs.db)
	if v, ok := eudrExporters.Load(w.jobs); ok {
		x = v.(*EUDRExporter)
	}
	return runEUDRExport(ctx, w.jobs, x, rj.Args.ExportID)
}

// runEUDRExport runs export id as its owner: the zip streams into an upload while it is
// written. An export that fails is an ended export, not a failed job: it is not tried again.
func runEUDRExport(ctx context.Context, j *Jobs, x *EUDRExporter, id string) error {
	var ownerKind, owner, requestID string
	var ownerID *int64
	var request []byte
	err := j.db.Pool.QueryRow(ctx, `
		UPDATE eudr_export SET state = 'running', running_on = $2 WHERE id = $1 AND state = 'queued'
		RETURNING owner_kind, owner, owner_user_id, coalesce(request_id, ''), request`, id, j.host+":"+strconv.Itoa(os.Getpid())).
		Scan(&ownerKind, &owner, &ownerID, &requestID, &request)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // ended already (failed as interrupted, or forgotten)
	} else if err != nil {
		return err
	}
	var req registry.EUDRExportRequest
	if err := json.Unmarshal(request, &req); err != nil {
		return err
	}
	pw := &eudrProgressWriter{db: j.db, id: id, log: j.log}
	var sum *eudr.Summary
	var up *registry.Upload
	actor, err := j.actorOf(ctx, ownerKind, owner, ownerID)
	if err == nil {
		ectx := registry.NewContextWithRequestID(registry.NewContextWithActor(ctx, actor), requestID)
		sum, up, err = exportToUpload(ectx, j.db, x, req, pw.update)
	}
	return finishEUDRExport(context.WithoutCancel(ctx), j, id, sum, up, err, pw.last())
}

// exportToUpload writes the export straight into an upload, through a pipe: the zip is never
// whole in memory or on disk.
func exportToUpload(ctx context.Context, db *DB, x *EUDRExporter, req registry.EUDRExportRequest, progress func(registry.EUDRExportProgress)) (*eudr.Summary, *registry.Upload, error) {
	pr, pw := io.Pipe()
	var up *registry.Upload
	var upErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		up, upErr = NewUploadStore(db, "export").StoreUpload(ctx, req.Filename(), pr, eudrMaxZipBytes)
		pr.CloseWithError(cmpErr(upErr, io.ErrClosedPipe))
	}()
	sum, err := x.ExportEUDR(ctx, req, pw, progress)
	if err != nil {
		pw.CloseWithError(err)
	} else {
		pw.Close()
		progress(registry.EUDRExportProgress{Stage: "storing", Plots: sum.Plots, Total: sum.Plots, Files: len(sum.Files)})
	}
	<-done
	if err != nil {
		return nil, nil, err
	}
	if upErr != nil {
		return nil, nil, upErr
	}
	return sum, up, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// finishEUDRExport records how an export ended.
func finishEUDRExport(ctx context.Context, j *Jobs, id string, sum *eudr.Summary, up *registry.Upload, err error, progress registry.EUDRExportProgress) error {
	state := registry.ImportDone
	var jerr, summary []byte
	var upload *int64
	if err != nil {
		state = registry.ImportFailed
		e := jobError(err)
		if e.Code == registry.EINTERNAL {
			j.log.Error("EUDR export failed", "export", id, "err", err)
			e.Message = "the export failed on the server; the administrator can find export " + id + " in the log"
		}
		jerr, _ = json.Marshal(e)
	} else {
		summary, _ = json.Marshal(sum)
		upload = &up.ID
		progress = registry.EUDRExportProgress{Stage: "done", Plots: sum.Plots, Total: sum.Plots, Files: len(sum.Files)}
	}
	p, _ := json.Marshal(progress)
	_, dbErr := j.db.Pool.Exec(ctx, `UPDATE eudr_export SET state = $2, summary = $3, error = $4, progress = $5, upload_id = $6, ended_at = now() WHERE id = $1`,
		id, state, summary, jerr, p, upload)
	if dbErr != nil && up != nil {
		_, _ = j.db.Pool.Exec(ctx, `DELETE FROM upload WHERE id = $1`, up.ID)
	}
	return dbErr
}

// eudrProgressWriter writes an export's progress to its row at most a few times a second.
type eudrProgressWriter struct {
	db      *DB
	id      string
	log     interface{ Warn(string, ...any) }
	mu      sync.Mutex
	cur     registry.EUDRExportProgress
	written time.Time
}

func (p *eudrProgressWriter) update(pr registry.EUDRExportProgress) {
	p.mu.Lock()
	p.cur = pr
	due := time.Since(p.written) >= 250*time.Millisecond || pr.Stage != "writing"
	if due {
		p.written = time.Now()
	}
	p.mu.Unlock()
	if !due {
		return
	}
	b, _ := json.Marshal(pr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := p.db.Pool.Exec(ctx, `UPDATE eudr_export SET progress = $2 WHERE id = $1`, p.id, b); err != nil {
		p.log.Warn("recording an export's progress", "export", p.id, "err", err)
	}
}

func (p *eudrProgressWriter) last() registry.EUDRExportProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// eudrCleanupWorker forgets exports a day after they end, with their zips, and fails the ones
// whose job is gone or whose server stopped under them.
type eudrCleanupWorker struct {
	river.WorkerDefaults[eudrCleanupArgs]
	jobs *Jobs
}

func (w *eudrCleanupWorker) Work(ctx context.Context, _ *river.Job[eudrCleanupArgs]) error {
	return cleanupEUDRExports(ctx, w.jobs)
}

func cleanupEUDRExports(ctx context.Context, j *Jobs) error {
	e, _ := json.Marshal(jobError(registry.Errorf(registry.EUNAVAILABLE, "the export was interrupted: the server running it stopped; start it again")))
	// Exports a stopped process of this host was running.
	rows, err := j.db.Pool.Query(ctx, `SELECT id, running_on FROM eudr_export WHERE state = 'running' AND running_on LIKE $1 || ':%'`, j.host)
	if err != nil {
		return err
	}
	var gone []string
	for rows.Next() {
		var id, on string
		if err := rows.Scan(&id, &on); err != nil {
			rows.Close()
			return err
		}
		if pid, err := strconv.Atoi(on[strings.LastIndexByte(on, ':')+1:]); err == nil && !alive(pid) {
			gone = append(gone, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(gone) > 0 {
		if _, err := j.db.Pool.Exec(ctx, `UPDATE eudr_export SET state = 'failed', error = $2, ended_at = now() WHERE id = ANY($1) AND state = 'running'`, gone, e); err != nil {
			return err
		}
	}
	_, err = j.db.Pool.Exec(ctx, `
		WITH lost AS (
		  UPDATE eudr_export x SET state = 'failed', error = $2, ended_at = now()
		  WHERE x.state IN ('queued', 'running') AND x.started_at < now() - interval '1 minute'
		    AND NOT EXISTS (SELECT 1 FROM river_job r WHERE r.id = x.river_job_id AND r.state IN ('available', 'pending', 'running', 'retryable', 'scheduled'))
		  RETURNING upload_id),
		     old AS (DELETE FROM eudr_export WHERE ended_at < now() - $1::interval RETURNING upload_id)
		DELETE FROM upload u
		WHERE u.id IN (SELECT upload_id FROM lost UNION ALL SELECT upload_id FROM old)
		   OR (u.purpose = 'export' AND u.created_at < now() - $1::interval
		       AND NOT EXISTS (SELECT 1 FROM eudr_export x WHERE x.upload_id = u.id))`,
		eudrExportRetention, e)
	return err
}
