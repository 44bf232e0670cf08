package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/registry"
)

// DatasetLoader loads a dataset of objects that refer to each other by external id, in one
// transaction: every object is checked as the API checks it, every problem is reported at once,
// and on any problem nothing is stored. Objects already loaded (same source and external id)
// are left as they are, so loading twice changes nothing.
type DatasetLoader struct {
	db    *DB
	plots *PlotService
}

var _ registry.DatasetLoader = (*DatasetLoader)(nil)

// NewDatasetLoader returns a loader that checks plots with plots' limits.
func NewDatasetLoader(db *DB, plots *PlotService) *DatasetLoader {
	return &DatasetLoader{db: db, plots: plots}
}

// loadRun is the state of one load.
type loadRun struct {
	ctx      context.Context
	tx       pgx.Tx
	source   string
	stats    registry.LoadStats
	problems []registry.Detail
	ids      map[string]map[string]int64 // kind -> external id -> id
}

func (r *loadRun) problem(kind string, n int, ref, format string, args ...any) {
	r.problems = append(r.problems, registry.Detail{Feature: n, Field: kind + " " + ref, Message: fmt.Sprintf(format, args...)})
}

func (r *loadRun) count(kind string, added bool) {
	if added {
		r.stats.Added[kind]++
	} else {
		r.stats.Existing[kind]++
	}
}

// ref resolves an external id of an object loaded earlier in this dataset (or before).
func (r *loadRun) ref(kind, ext string) (*int64, bool) {
	if ext == "" {
		return nil, true
	}
	id, ok := r.ids[kind][ext]
	if !ok {
		return nil, false
	}
	return &id, true
}

// existing returns the id of the live object with this source and external id, if any.
func (r *loadRun) existing(table, ext string) (int64, bool, error) {
	var id int64
	err := r.tx.QueryRow(r.ctx, `SELECT id FROM `+pgx.Identifier{table}.Sanitize()+` WHERE source = $1 AND external_id = $2`, r.source, ext).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// LoadDataset validates and stores ds in one transaction.
func (l *DatasetLoader) LoadDataset(ctx context.Context, ds *registry.Dataset) (registry.LoadStats, error) {
	var stats registry.LoadStats
	err := l.db.Transact(ctx, func(tx pgx.Tx) error {
		r := &loadRun{ctx: ctx, tx: tx, source: ds.Source,
			stats: registry.LoadStats{Added: map[string]int{}, Existing: map[string]int{}}, ids: map[string]map[string]int64{}}
		for _, k := range []string{"producer", "plot", "growing_area", "packing_house"} {
			r.ids[k] = map[string]int64{}
		}
		steps := []func(*loadRun, *registry.Dataset) error{
			l.loadCommunes, l.loadProducers, l.loadPlots, l.loadGrowingAreas, l.loadPackingHouses, l.loadLivestock, l.loadFeedMills, l.loadUsers,
		}
		for _, step := range steps {
			if err := step(r, ds); err != nil {
				return err
			}
		}
		stats = r.stats
		added := 0
		for _, n := range r.stats.Added {
			added += n
		}
		if len(r.problems) == 0 && added > 0 {
			if err := l.changedByLoad(r); err != nil {
				return err
			}
		}
		if len(r.problems) > 0 {
			return &registry.Error{Code: registry.EINVALID,
				Message: fmt.Sprintf("dataset %s has %d problems, nothing was loaded; first: %s: %s", ds.Source, len(r.problems), r.problems[0].Field, r.problems[0].Message),
				Details: r.problems}
		}
		return nil
	})
	return stats, err
}

func (l *DatasetLoader) loadCommunes(r *loadRun, ds *registry.Dataset) error {
	for i, c := range ds.Communes {
		geom, err := wkb.Marshal(c.Boundary)
		if err != nil {
			return err
		}
		var id string
		err = r.tx.QueryRow(r.ctx, `
			UPDATE commune SET boundary = ST_Multi(ST_GeomFromWKB($2, 4326))
			WHERE scheme = 2025 AND code = $1 AND boundary IS DISTINCT FROM ST_Multi(ST_GeomFromWKB($2, 4326))
			RETURNING code`, c.Code, geom).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			var known bool
			if err := r.tx.QueryRow(r.ctx, `SELECT EXISTS (SELECT 1 FROM commune WHERE scheme = 2025 AND code = $1)`, c.Code).Scan(&known); err != nil {
				return err
			}
			if !known {
				r.problem("commune", i+1, c.Code, "not a commune of the 2025 list")
			}
			r.count("commune", false)
		case err != nil:
			return err
		default:
			r.count("commune", true)
			if err := audit(r.ctx, r.tx, auditEntry{Action: "commune.boundary", ObjectType: "commune", Reason: "boundary " + c.Code + " from dataset " + r.source}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *DatasetLoader) loadProducers(r *loadRun, ds *registry.Dataset) error {
	// Cooperatives first: households refer to them.
	for pass := range 2 {
		for i := range ds.Producers {
			dp := &ds.Producers[i]
			isCoop := dp.Kind != registry.ProducerHousehold
			if (pass == 0) != isCoop {
				continue
			}
			p := dp.Producer
			p.Source = r.source
			if id, ok, err := r.existing("producer", p.ExternalID); err != nil {
				return err
			} else if ok {
				r.ids["producer"][p.ExternalID] = id
				r.count("producer", false)
				continue
			}
			coop, ok := r.ref("producer", dp.CooperativeRef)
			if !ok {
				r.problem("producer", i+1, p.ExternalID, "cooperative %q is not in the dataset", dp.CooperativeRef)
				continue
			}
			p.CooperativeID = coop
			p.Normalize()
			if err := p.Validate(); err != nil {
				r.problem("producer", i+1, p.ExternalID, "%s", registry.ErrorMessage(err))
				continue
			}
			if err := checkProducerRefs(r.ctx, r.tx, &p); err != nil {
				if registry.ErrorCode(err) == registry.EINVALID {
					r.problem("producer", i+1, p.ExternalID, "%s", registry.ErrorMessage(err))
					continue
				}
				return err
			}
			if err := insertProducer(r.ctx, r.tx, &p); err != nil {
				return fmt.Errorf("producer %s: %w", p.ExternalID, err)
			}
			r.ids["producer"][p.ExternalID] = p.ID
			r.count("producer", true)
		}
	}
	return nil
}

func (l *DatasetLoader) loadPlots(r *loadRun, ds *registry.Dataset) error {
	for i := range ds.Plots {
		dp := &ds.Plots[i]
		p := dp.Plot
		p.Source = r.source
		if id, ok, err := r.existing("plot", p.ExternalID); err != nil {
			return err
		} else if ok {
			r.ids["plot"][p.ExternalID] = id
			r.count("plot", false)
			continue
		}
		owner, ok := r.ref("producer", dp.ProducerRef)
		if !ok {
			r.problem("plot", i+1, p.ExternalID, "producer %q is not in the dataset", dp.ProducerRef)
			continue
		}
		p.ProducerID = owner
		p.Normalize()
		if err := p.Validate(l.db.now()); err != nil {
			r.problem("plot", i+1, p.ExternalID, "%s", registry.ErrorMessage(err))
			continue
		}
		if _, err := l.plots.prepare(r.ctx, r.tx, &p, ""); err != nil {
			if registry.ErrorCode(err) == registry.EINVALID {
				r.problem("plot", i+1, p.ExternalID, "%s", registry.ErrorMessage(err))
				continue
			}
			return err
		}
		if err := l.db.insertPlot(r.ctx, r.tx, &p, ""); err != nil {
			return fmt.Errorf("plot %s: %w", p.ExternalID, err)
		}
		r.ids["plot"][p.ExternalID] = p.ID
		r.count("plot", true)
	}
	return nil
}

// insertCodes stores the market codes of a growing area or packing house, skipping codes that
// exist already.
func (r *loadRun) insertCodes(kind string, n int, owner string, codes []registry.MarketCode, areaID, houseID *int64, province string) error {
	for _, c := range codes {
		c.GrowingAreaID, c.PackingHouseID, c.ProvinceCode = areaID, houseID, province
		if !validStatus(c.Status) {
			r.problem(kind, n, owner, "code %s: status %q is not one of draft, submitted, inspected, active, suspended, revoked", c.Code, c.Status)
			continue
		}
		if country, prov, k, seq, ok := registry.ParseExportCode(c.Code); ok {
			c.CodeCountry, c.CodeProvince, c.CodeKind, c.CodeSequence = country, prov, k, seq
		}
		actor := actorName(r.ctx)
		var id int64
		err := r.tx.QueryRow(r.ctx, `
			INSERT INTO market_code (code, growing_area_id, packing_house_id, market, code_country, code_province,
			       code_kind, code_sequence, status, status_reason, valid_from, valid_to, approving_document,
			       approving_authority, province_code, created_by, updated_by)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, 0), $9, NULLIF($10, ''),
			        $11, $12, NULLIF($13, ''), NULLIF($14, ''), $15, $16, $16)
			ON CONFLICT (code_key) DO NOTHING
			RETURNING id`,
			c.Code, c.GrowingAreaID, c.PackingHouseID, c.Market, c.CodeCountry, c.CodeProvince, c.CodeKind, c.CodeSequence,
			c.Status, c.StatusReason, c.ValidFrom, c.ValidTo, c.ApprovingDocument, c.ApprovingAuthority, province, actor).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			r.count("market_code", false)
			continue
		}
		if err != nil {
			return fmt.Errorf("code %s: %w", c.Code, mapError(err))
		}
		if _, err := r.tx.Exec(r.ctx, `INSERT INTO market_code_event (market_code_id, to_status, reason, document, actor, province_code) VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), $5, $6)`,
			id, c.Status, c.StatusReason, c.ApprovingDocument, actor, province); err != nil {
			return err
		}
		if err := r.auditInsert("market_code", id, province); err != nil {
			return err
		}
		r.count("market_code", true)
	}
	return nil
}

func validStatus(s string) bool {
	switch s {
	case registry.CodeDraft, registry.CodeSubmitted, registry.CodeInspected, registry.CodeActive, registry.CodeSuspended, registry.CodeRevoked:
		return true
	}
	return false
}

func (r *loadRun) auditInsert(table string, id int64, province string) error {
	after, err := rowJSON(r.ctx, r.tx, table, id)
	if err != nil {
		return err
	}
	return audit(r.ctx, r.tx, auditEntry{Action: table + ".create", ObjectType: table, ObjectID: id, Province: province, After: after})
}

// provinceOf returns the province of a 2025 commune, recording a problem when it is unknown.
func (r *loadRun) provinceOf(kind string, n int, ref, commune string) (string, bool, error) {
	var province string
	err := r.tx.QueryRow(r.ctx, `SELECT province_code FROM commune WHERE scheme = 2025 AND code = $1`, commune).Scan(&province)
	if errors.Is(err, pgx.ErrNoRows) {
		r.problem(kind, n, ref, "commune %q is not a commune of the 2025 list", commune)
		return "", false, nil
	}
	return province, err == nil, err
}

func (l *DatasetLoader) loadGrowingAreas(r *loadRun, ds *registry.Dataset) error {
	for i := range ds.GrowingAreas {
		ga := &ds.GrowingAreas[i]
		n := i + 1
		id, ok, err := r.existing("growing_area", ga.ExternalID)
		if err != nil {
			return err
		}
		province, okp, err := r.provinceOf("growing area", n, ga.ExternalID, ga.CommuneCode)
		if err != nil || !okp {
			continue
		}
		if !ok {
			registrant, okr := r.ref("producer", ga.RegistrantRef)
			if !okr {
				r.problem("growing area", n, ga.ExternalID, "registrant %q is not in the dataset", ga.RegistrantRef)
				continue
			}
			var crops []string
			for _, c := range ga.Crops {
				code, err := resolveCrop(r.ctx, r.tx, c)
				if err != nil {
					r.problem("growing area", n, ga.ExternalID, "%s", registry.ErrorMessage(err))
					continue
				}
				crops = append(crops, code)
			}
			if len(crops) == 0 {
				r.problem("growing area", n, ga.ExternalID, "a growing area needs at least one crop")
				continue
			}
			err := r.tx.QueryRow(r.ctx, `
				INSERT INTO growing_area (name, registrant_id, crops, province_code, commune_code, source, external_id, created_by, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
				strings.TrimSpace(ga.Name), registrant, crops, province, ga.CommuneCode, r.source, ga.ExternalID, actorName(r.ctx)).Scan(&id)
			if err != nil {
				return fmt.Errorf("growing area %s: %w", ga.ExternalID, mapError(err))
			}
			for _, ref := range ga.PlotRefs {
				plot, okp := r.ref("plot", ref)
				if !okp {
					r.problem("growing area", n, ga.ExternalID, "plot %q is not in the dataset", ref)
					continue
				}
				if _, err := r.tx.Exec(r.ctx, `INSERT INTO growing_area_plot (growing_area_id, plot_id, province_code) VALUES ($1, $2, $3)`, id, *plot, province); err != nil {
					return fmt.Errorf("growing area %s, plot %s: %w", ga.ExternalID, ref, mapError(err))
				}
			}
			if err := r.auditInsert("growing_area", id, province); err != nil {
				return err
			}
			r.count("growing_area", true)
		} else {
			r.count("growing_area", false)
		}
		r.ids["growing_area"][ga.ExternalID] = id
		if err := r.insertCodes("growing area", n, ga.ExternalID, ga.Codes, &id, nil, province); err != nil {
			return err
		}
	}
	return nil
}

func (l *DatasetLoader) loadPackingHouses(r *loadRun, ds *registry.Dataset) error {
	for i := range ds.PackingHouses {
		ph := &ds.PackingHouses[i]
		n := i + 1
		id, ok, err := r.existing("packing_house", ph.ExternalID)
		if err != nil {
			return err
		}
		province, okp, err := r.provinceOf("packing house", n, ph.ExternalID, ph.CommuneCode)
		if err != nil || !okp {
			continue
		}
		if !ok {
			operator, oko := r.ref("producer", ph.OperatorRef)
			if !oko {
				r.problem("packing house", n, ph.ExternalID, "operator %q is not in the dataset", ph.OperatorRef)
				continue
			}
			err := r.tx.QueryRow(r.ctx, `
				INSERT INTO packing_house (name, operator_id, address, province_code, commune_code, location, capacity_tpd, source, external_id, created_by, updated_by)
				VALUES ($1, $2, NULLIF($3, ''), $4, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), NULLIF($8, 0), $9, $10, $11, $11) RETURNING id`,
				ph.Name, operator, ph.Address, province, ph.CommuneCode, ph.Location[0], ph.Location[1], ph.CapacityTPD, r.source, ph.ExternalID, actorName(r.ctx)).Scan(&id)
			if err != nil {
				return fmt.Errorf("packing house %s: %w", ph.ExternalID, mapError(err))
			}
			for _, ref := range ph.GrowingAreaRefs {
				area, oka := r.ref("growing_area", ref)
				if !oka {
					r.problem("packing house", n, ph.ExternalID, "growing area %q is not in the dataset", ref)
					continue
				}
				if _, err := r.tx.Exec(r.ctx, `INSERT INTO packing_house_growing_area (packing_house_id, growing_area_id, province_code) VALUES ($1, $2, $3)`, id, *area, province); err != nil {
					return mapError(err)
				}
			}
			if err := r.auditInsert("packing_house", id, province); err != nil {
				return err
			}
			r.count("packing_house", true)
		} else {
			r.count("packing_house", false)
		}
		r.ids["packing_house"][ph.ExternalID] = id
		if err := r.insertCodes("packing house", n, ph.ExternalID, ph.Codes, nil, &id, province); err != nil {
			return err
		}
	}
	return nil
}

func (l *DatasetLoader) loadLivestock(r *loadRun, ds *registry.Dataset) error {
	for i := range ds.Livestock {
		f := &ds.Livestock[i]
		n := i + 1
		if _, ok, err := r.existing("livestock_facility", f.ExternalID); err != nil {
			return err
		} else if ok {
			r.count("livestock_facility", false)
			continue
		}
		province, okp, err := r.provinceOf("livestock facility", n, f.ExternalID, f.CommuneCode)
		if err != nil || !okp {
			continue
		}
		operator, oko := r.ref("producer", f.OperatorRef)
		if !oko {
			r.problem("livestock facility", n, f.ExternalID, "operator %q is not in the dataset", f.OperatorRef)
			continue
		}
		var id int64
		err = r.tx.QueryRow(r.ctx, `
			INSERT INTO livestock_facility (facility_code, name, operator_id, address, province_code, commune_code, location,
			       biosecurity, certificates, source, external_id, created_by, updated_by)
			VALUES (NULLIF($1, ''), $2, $3, NULLIF($4, ''), $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), NULLIF($9, ''), $10, $11, $12, $13, $13)
			RETURNING id`,
			f.FacilityCode, f.Name, operator, f.Address, province, f.CommuneCode, f.Location[0], f.Location[1],
			f.Biosecurity, nonNil(f.Certificates), r.source, f.ExternalID, actorName(r.ctx)).Scan(&id)
		if err != nil {
			return fmt.Errorf("livestock facility %s: %w", f.ExternalID, mapError(err))
		}
		for species, heads := range f.HeadCounts {
			tag, err := r.tx.Exec(r.ctx, `
				INSERT INTO livestock_head_count (facility_id, species, heads, animal_units, province_code)
				SELECT $1, code, $3::integer, round($3::integer * live_weight_kg / 500, 2), $4 FROM livestock_species WHERE code = $2`,
				id, species, heads, province)
			if err != nil {
				return mapError(err)
			}
			if tag.RowsAffected() == 0 {
				r.problem("livestock facility", n, f.ExternalID, "unknown species %q", species)
			}
		}
		var units float64
		if err := r.tx.QueryRow(r.ctx, `SELECT COALESCE(sum(animal_units), 0)::float8 FROM livestock_head_count WHERE facility_id = $1`, id).Scan(&units); err != nil {
			return err
		}
		if _, err := r.tx.Exec(r.ctx, `UPDATE livestock_facility SET animal_units = $2, scale_class = $3 WHERE id = $1`, id, units, registry.ScaleClass(units)); err != nil {
			return err
		}
		if err := r.auditInsert("livestock_facility", id, province); err != nil {
			return err
		}
		r.count("livestock_facility", true)
	}
	return nil
}

func (l *DatasetLoader) loadFeedMills(r *loadRun, ds *registry.Dataset) error {
	for i := range ds.FeedMills {
		f := &ds.FeedMills[i]
		n := i + 1
		if _, ok, err := r.existing("feed_facility", f.ExternalID); err != nil {
			return err
		} else if ok {
			r.count("feed_facility", false)
			continue
		}
		province, okp, err := r.provinceOf("feed mill", n, f.ExternalID, f.CommuneCode)
		if err != nil || !okp {
			continue
		}
		operator, oko := r.ref("producer", f.OperatorRef)
		if !oko {
			r.problem("feed mill", n, f.ExternalID, "operator %q is not in the dataset", f.OperatorRef)
			continue
		}
		var issued any
		if f.CertificateIssuedOn != "" {
			issued = f.CertificateIssuedOn
		}
		var id int64
		err = r.tx.QueryRow(r.ctx, `
			INSERT INTO feed_facility (name, operator_id, address, province_code, commune_code, location, design_capacity_tpy,
			       products, certificate_no, certificate_issuer, certificate_issued_on, source, external_id, created_by, updated_by)
			VALUES ($1, $2, NULLIF($3, ''), $4, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), NULLIF($8, 0), $9, NULLIF($10, ''),
			        NULLIF($11, ''), $12::date, $13, $14, $15, $15)
			RETURNING id`,
			f.Name, operator, f.Address, province, f.CommuneCode, f.Location[0], f.Location[1], f.DesignCapacityTPY,
			nonNil(f.Products), f.CertificateNo, f.CertificateIssuer, issued, r.source, f.ExternalID, actorName(r.ctx)).Scan(&id)
		if err != nil {
			return fmt.Errorf("feed mill %s: %w", f.ExternalID, mapError(err))
		}
		if err := r.auditInsert("feed_facility", id, province); err != nil {
			return err
		}
		r.count("feed_facility", true)
	}
	return nil
}

// nonNil is s, or an empty slice for nil (which pgx would send as NULL, not as an empty array).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (l *DatasetLoader) loadUsers(r *loadRun, ds *registry.Dataset) error {
	for i := range ds.Users {
		du := &ds.Users[i]
		u := du.User
		u.Normalize()
		var exists bool
		if err := r.tx.QueryRow(r.ctx, `SELECT EXISTS (SELECT 1 FROM app_user WHERE username = NULLIF($1, '') OR phone = NULLIF($2, ''))`, u.Username, u.Phone).Scan(&exists); err != nil {
			return err
		}
		if exists {
			r.count("user", false)
			continue
		}
		producer, ok := r.ref("producer", du.ProducerRef)
		if !ok {
			r.problem("user", i+1, cmpOr(u.Username, u.Phone), "producer %q is not in the dataset", du.ProducerRef)
			continue
		}
		u.ProducerID = producer
		if err := u.Validate(); err != nil {
			r.problem("user", i+1, cmpOr(u.Username, u.Phone), "%s", registry.ErrorMessage(err))
			continue
		}
		if err := registry.CheckPassword(du.Password); err != nil {
			r.problem("user", i+1, cmpOr(u.Username, u.Phone), "%s", registry.ErrorMessage(err))
			continue
		}
		err := r.tx.QueryRow(r.ctx, `
			INSERT INTO app_user (username, phone, display_name, role, password_hash, producer_id, created_by, updated_by)
			VALUES (NULLIF($1, ''), NULLIF($2, ''), $3, $4, $5, $6, $7, $7) RETURNING id`,
			u.Username, u.Phone, u.DisplayName, u.Role, registry.HashPassword(du.Password), u.ProducerID, actorName(r.ctx)).Scan(&u.ID)
		if err != nil {
			return fmt.Errorf("user %s: %w", cmpOr(u.Username, u.Phone), mapError(err))
		}
		for j := range u.Jurisdictions {
			if err := checkJurisdiction(r.ctx, r.tx, &u.Jurisdictions[j]); err != nil {
				r.problem("user", i+1, u.Username, "%s", registry.ErrorMessage(err))
				continue
			}
			if _, err := r.tx.Exec(r.ctx, `INSERT INTO user_jurisdiction (user_id, province_code, commune_code) VALUES ($1, $2, $3)`,
				u.ID, u.Jurisdictions[j].ProvinceCode, u.Jurisdictions[j].CommuneCode); err != nil {
				return err
			}
		}
		if err := audit(r.ctx, r.tx, auditEntry{Action: "user.create", ObjectType: "app_user", ObjectID: u.ID, After: userJSON(&u)}); err != nil {
			return err
		}
		r.count("user", true)
	}
	return nil
}

// changedByLoad notes where the load changed growing areas, facilities and boundaries (plots
// are noted one by one as they are stored).
func (l *DatasetLoader) changedByLoad(r *loadRun) error {
	const q = `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(%s) AS e FROM %s WHERE %s) s WHERE e IS NOT NULL`
	for _, c := range []struct{ kind, geom, table, where string }{
		{registry.ChangeGrowingArea, "ST_Transform(footprint_3857, 4326)", "growing_area", "source = $1"},
		{registry.ChangePackingHouse, "location", "packing_house", "source = $1"},
		{registry.ChangeLivestock, "location", "livestock_facility", "source = $1"},
		{registry.ChangeFeedMill, "location", "feed_facility", "source = $1"},
		{registry.ChangeCommune, "boundary", "commune", "boundary IS NOT NULL AND $1 <> ''"},
	} {
		var b orb.Bound
		err := r.tx.QueryRow(r.ctx, fmt.Sprintf(q, c.geom, c.table, c.where), r.source).Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		} else if err != nil {
			return err
		}
		if err := l.db.changed(r.ctx, r.tx, c.kind, b); err != nil {
			return err
		}
	}
	return nil
}
