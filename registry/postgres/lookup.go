package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// LookupService answers public lookups: plot context, growing areas, packing houses, codes,
// search.
type LookupService struct{ db *DB }

var _ registry.LookupService = (*LookupService)(nil)

// NewLookupService returns a LookupService on db.
func NewLookupService(db *DB) *LookupService { return &LookupService{db: db} }

// codeColumns read a code; its status is today's (an active code past its valid_to reads
// expired before the expiry job has written it so).
const codeColumns = `m.id, m.code, m.market, code_status(m.status, m.valid_to), COALESCE(m.status_reason, ''), m.valid_from, m.valid_to,
	COALESCE(m.approving_document, ''), COALESCE(m.approving_authority, '')`

func scanCode(row scanner) (registry.CodeRef, error) {
	var c registry.CodeRef
	err := row.Scan(&c.ID, &c.Code, &c.Market, &c.Status, &c.StatusReason, &c.ValidFrom, &c.ValidTo, &c.Document, &c.Authority)
	return c, err
}

// codesOf returns the live codes of a growing area or packing house (column is a constant).
func codesOf(ctx context.Context, q querier, column string, id int64) ([]registry.CodeRef, error) {
	rows, err := q.Query(ctx, `SELECT `+codeColumns+` FROM market_code m WHERE m.`+column+` = $1 AND m.status <> 'revoked' ORDER BY m.market, m.code`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []registry.CodeRef{}
	for rows.Next() {
		c, err := scanCode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// areaRefs returns the (id, name) rows a query gives for id.
func areaRefs(ctx context.Context, q querier, sql string, id int64) ([]registry.AreaRef, error) {
	rows, err := q.Query(ctx, sql, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (registry.AreaRef, error) {
		var a registry.AreaRef
		return a, r.Scan(&a.ID, &a.Name)
	})
}

// placeNames fills in the names of a province and commune.
func placeNames(ctx context.Context, q querier, province, commune string) registry.PlaceNames {
	p := registry.PlaceNames{ProvinceCode: province, CommuneCode: commune}
	_ = q.QueryRow(ctx, `SELECT COALESCE((SELECT name FROM province WHERE scheme = 2025 AND code = $1), ''),
	                            COALESCE((SELECT name FROM commune WHERE scheme = 2025 AND code = $2), '')`, province, commune).
		Scan(&p.ProvinceName, &p.CommuneName)
	return p
}

// PlotContext returns a plot's growing area, codes and unit names, for any plot the caller may
// see (the caller checks that first).
func (s *LookupService) PlotContext(ctx context.Context, plotID int64) (*registry.PlotContext, error) {
	var province, commune string
	err := s.db.reader(ctx).QueryRow(ctx, `SELECT COALESCE(province_code, ''), COALESCE(commune_code, '') FROM plot WHERE id = $1 AND deleted_at IS NULL`, plotID).Scan(&province, &commune)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "plot %d not found", plotID)
	} else if err != nil {
		return nil, err
	}
	pc := &registry.PlotContext{PlaceNames: placeNames(ctx, s.db.reader(ctx), province, commune)}
	var area registry.AreaRef
	err = s.db.reader(ctx).QueryRow(ctx, `
		SELECT g.id, g.name FROM growing_area_plot m JOIN growing_area g ON g.id = m.growing_area_id AND g.deleted_at IS NULL
		WHERE m.plot_id = $1 AND m.removed_at IS NULL`, plotID).Scan(&area.ID, &area.Name)
	if err == nil {
		if area.Codes, err = codesOf(ctx, s.db.reader(ctx), "growing_area_id", area.ID); err != nil {
			return nil, err
		}
		pc.GrowingArea = &area
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	return pc, nil
}

// FindGrowingArea returns a growing area's public view.
func (s *LookupService) FindGrowingArea(ctx context.Context, id int64) (*registry.GrowingAreaView, error) {
	g := &registry.GrowingAreaView{ID: id}
	var province, commune string
	var minX, minY, maxX, maxY *float64
	err := s.db.reader(ctx).QueryRow(ctx, `
		SELECT g.name, g.crops, g.province_code, COALESCE(g.commune_code, ''), g.area_ha, g.plot_count, g.household_count,
		       COALESCE((SELECT r.name FROM producer r WHERE r.id = g.registrant_id AND r.kind <> 'household'), ''),
		       (SELECT max(i.inspected_on)::timestamptz FROM inspection i WHERE i.growing_area_id = g.id),
		       ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM growing_area g, LATERAL (SELECT ST_Transform(g.footprint_3857, 4326) AS e) b
		WHERE g.id = $1 AND g.deleted_at IS NULL`, id).
		Scan(&g.Name, &g.Crops, &province, &commune, &g.AreaHa, &g.Plots, &g.Households, &g.Registrant, &g.LastInspected, &minX, &minY, &maxX, &maxY)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "growing area %d not found", id)
	} else if err != nil {
		return nil, err
	}
	g.PlaceNames = placeNames(ctx, s.db.reader(ctx), province, commune)
	if minX != nil {
		g.BBox = &orb.Bound{Min: orb.Point{*minX, *minY}, Max: orb.Point{*maxX, *maxY}}
	}
	if g.Codes, err = codesOf(ctx, s.db.reader(ctx), "growing_area_id", id); err != nil {
		return nil, err
	}
	g.PackingHouses, err = areaRefs(ctx, s.db.reader(ctx), `SELECT h.id, h.name FROM packing_house_growing_area l JOIN packing_house h ON h.id = l.packing_house_id AND h.deleted_at IS NULL
		WHERE l.growing_area_id = $1 AND `+linkHoldsToday+` ORDER BY h.name`, id)
	if err != nil {
		return nil, err
	}
	for i := range g.PackingHouses {
		if g.PackingHouses[i].Codes, err = codesOf(ctx, s.db.reader(ctx), "packing_house_id", g.PackingHouses[i].ID); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// FindPackingHouse returns a packing house's public view.
func (s *LookupService) FindPackingHouse(ctx context.Context, id int64) (*registry.PackingHouseView, error) {
	h := &registry.PackingHouseView{ID: id}
	var province, commune string
	err := s.db.reader(ctx).QueryRow(ctx, `
		SELECT h.name, h.province_code, COALESCE(h.commune_code, ''), ST_X(h.location), ST_Y(h.location),
		       COALESCE((SELECT o.name FROM producer o WHERE o.id = h.operator_id AND o.kind <> 'household'), ''),
		       CASE WHEN EXISTS (SELECT 1 FROM producer o WHERE o.id = h.operator_id AND o.kind = 'household') THEN '' ELSE COALESCE(h.address, '') END,
		       h.capacity_tpd::float8
		FROM packing_house h WHERE h.id = $1 AND h.deleted_at IS NULL`, id).
		Scan(&h.Name, &province, &commune, &h.Location[0], &h.Location[1], &h.Operator, &h.Address, &h.CapacityTPD)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "packing house %d not found", id)
	} else if err != nil {
		return nil, err
	}
	h.PlaceNames = placeNames(ctx, s.db.reader(ctx), province, commune)
	b := orb.Bound{Min: h.Location, Max: h.Location}
	h.BBox = &b
	if h.Codes, err = codesOf(ctx, s.db.reader(ctx), "packing_house_id", id); err != nil {
		return nil, err
	}
	// Its links with their days: those that hold today, and those still to come.
	rows, err := s.db.reader(ctx).Query(ctx, `SELECT g.id, g.name, l.valid_from, l.valid_to FROM packing_house_growing_area l
		JOIN growing_area g ON g.id = l.growing_area_id AND g.deleted_at IS NULL
		WHERE l.packing_house_id = $1 AND (l.valid_to IS NULL OR l.valid_to >= vn_today()) ORDER BY g.name`, id)
	if err != nil {
		return nil, err
	}
	h.GrowingAreas, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (registry.AreaRef, error) {
		var a registry.AreaRef
		return a, r.Scan(&a.ID, &a.Name, &a.ValidFrom, &a.ValidTo)
	})
	return h, err
}

// linkHoldsToday is the condition on l (packing_house_growing_area) of a link that holds today.
const linkHoldsToday = `(l.valid_from IS NULL OR l.valid_from <= vn_today()) AND (l.valid_to IS NULL OR l.valid_to >= vn_today())`

// codeKey is how codes are compared: letters and digits only, upper case.
// likeEscape escapes LIKE's wildcards (and its escape character) in s, so that a search for
// "50%" looks for "50%", not for anything that starts with "50".
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

func codeKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// LookupCode finds a code however it is written.
func (s *LookupService) LookupCode(ctx context.Context, code string) (*registry.CodeLookup, error) {
	var area, house *int64
	var c registry.CodeRef
	err := s.db.reader(ctx).QueryRow(ctx, `SELECT `+codeColumns+`, m.growing_area_id, m.packing_house_id FROM market_code m WHERE m.code_key = $1`, codeKey(code)).
		Scan(&c.ID, &c.Code, &c.Market, &c.Status, &c.StatusReason, &c.ValidFrom, &c.ValidTo, &c.Document, &c.Authority, &area, &house)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "no code %q is registered: check it letter by letter (a code looks like VN-DLOR-0017)", code)
	} else if err != nil {
		return nil, err
	}
	out := &registry.CodeLookup{Code: c}
	if area != nil {
		out.GrowingArea, err = s.FindGrowingArea(ctx, *area)
	} else if house != nil {
		out.PackingHouse, err = s.FindPackingHouse(ctx, *house)
	}
	return out, err
}

// Search finds codes, growing areas, communes and provinces.
func (s *LookupService) Search(ctx context.Context, q string, limit int) ([]registry.SearchResult, error) {
	q = vntext.Clean(q)
	if len([]rune(q)) < 2 {
		return nil, registry.Errorf(registry.EINVALID, "type at least 2 letters to search")
	}
	limit = max(1, min(limit, 50))
	var out []registry.SearchResult
	add := func(sql string, args ...any) error {
		rows, err := s.db.reader(ctx).Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r registry.SearchResult
			var minX, minY, maxX, maxY *float64
			if err := rows.Scan(&r.Type, &r.ID, &r.Label, &r.Detail, &minX, &minY, &maxX, &maxY); err != nil {
				return err
			}
			if minX != nil {
				r.BBox = &orb.Bound{Min: orb.Point{*minX, *minY}, Max: orb.Point{*maxX, *maxY}}
			}
			out = append(out, r)
		}
		return rows.Err()
	}
	if key := codeKey(q); len(key) >= 2 {
		err := add(`
			SELECT 'code', m.code, m.code, m.market || ' · ' || code_status(m.status, m.valid_to) || ' · ' || COALESCE(g.name, h.name, ''),
			       ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
			FROM market_code m
			LEFT JOIN growing_area g ON g.id = m.growing_area_id
			LEFT JOIN packing_house h ON h.id = m.packing_house_id,
			LATERAL (SELECT COALESCE(ST_Transform(g.footprint_3857, 4326), h.location) AS e) b
			WHERE m.code_key LIKE $1 || '%' ORDER BY m.code LIMIT $2`, key, limit)
		if err != nil {
			return nil, err
		}
	}
	key := vntext.SearchKey(q)
	if key == "" {
		// Nothing searchable (only punctuation, such as "%" or "_"): no name matches it.
		return out, nil
	}
	pattern := "%" + likeEscape(key) + "%"
	for _, sql := range []string{
		`SELECT 'growing_area', g.id::text, g.name, array_to_string(g.crops, ', '), ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		 FROM growing_area g, LATERAL (SELECT ST_Transform(g.footprint_3857, 4326) AS e) b
		 WHERE g.deleted_at IS NULL AND fold(g.name) LIKE $1 ORDER BY g.name LIMIT $2`,
		`SELECT 'commune', c.code, c.name, p.name, ST_XMin(c.boundary), ST_YMin(c.boundary), ST_XMax(c.boundary), ST_YMax(c.boundary)
		 FROM commune c JOIN province p ON p.scheme = c.scheme AND p.code = c.province_code
		 WHERE c.scheme = 2025 AND fold(c.name) LIKE $1 ORDER BY c.boundary IS NULL, c.name LIMIT $2`,
		`SELECT 'province', p.code, p.name, '', ST_XMin(p.boundary), ST_YMin(p.boundary), ST_XMax(p.boundary), ST_YMax(p.boundary)
		 FROM province p WHERE p.scheme = 2025 AND fold(p.name) LIKE $1 ORDER BY p.name LIMIT $2`,
	} {
		if err := add(sql, pattern, limit); err != nil {
			return nil, err
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CodeService changes codes.
type CodeService struct{ db *DB }

var _ registry.CodeService = (*CodeService)(nil)

// NewCodeService returns a CodeService on db.
func NewCodeService(db *DB) *CodeService { return &CodeService{db: db} }

var suspensionReasons = map[string]bool{registry.ReasonQuarantinePest: true, registry.ReasonResidueViolation: true,
	registry.ReasonCodeBorrowing: true, registry.ReasonMissedSupervision: true, registry.ReasonOther: true}

// ChangeCodeStatus moves a code to another status, in one transaction with its event, its
// audit record and the change of its area on the map.
func (s *CodeService) ChangeCodeStatus(ctx context.Context, id int64, c registry.CodeStatusChange) (*registry.CodeRef, error) {
	c.Reason, c.Note, c.Document = strings.TrimSpace(c.Reason), vntext.Clean(c.Note), vntext.Clean(c.Document)
	var out registry.CodeRef
	var denied error
	var province, commune string // the code's place, for the audit record of a refusal
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = changeCodeStatus(ctx, s.db, tx, id, c, &denied, &province, &commune)
		return err
	})
	if denied != nil {
		s.db.auditRefusal(ctx, auditEntry{Action: "market_code.status", Outcome: "denied", ObjectType: "market_code", ObjectID: id, Province: province, Commune: commune, Reason: registry.ErrorMessage(denied)})
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// changeCodeStatus moves code id to another status inside tx (see ChangeCodeStatus); a refusal
// for want of rights is also left in *denied, and the code's place in *province and *commune.
func changeCodeStatus(ctx context.Context, db *DB, tx pgx.Tx, id int64, c registry.CodeStatusChange, denied *error, province, commune *string) (registry.CodeRef, error) {
	var out registry.CodeRef
	err := func() error {
		var from string
		var area, house *int64
		var validFrom, validTo *time.Time
		err := tx.QueryRow(ctx, `
			SELECT code_status(m.status, m.valid_to), m.valid_from, m.valid_to, m.growing_area_id, m.packing_house_id,
			       COALESCE(g.province_code, h.province_code, m.province_code), COALESCE(g.commune_code, h.commune_code, '')
			FROM market_code m LEFT JOIN growing_area g ON g.id = m.growing_area_id LEFT JOIN packing_house h ON h.id = m.packing_house_id
			WHERE m.id = $1 FOR UPDATE OF m`, id).Scan(&from, &validFrom, &validTo, &area, &house, province, commune)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "code %d not found", id)
		} else if err != nil {
			return err
		}
		a, _ := registry.ActorFromContext(ctx)
		if a.Role != registry.RoleAdmin && !(a.Role == registry.RoleOfficer && a.InJurisdiction(*province, *commune)) {
			*denied = registry.Errorf(registry.EFORBIDDEN, "only an officer of province %s (or an administrator) may change this code", *province)
			return *denied
		}
		if !registry.CanTransition(from, c.To) {
			next := registry.AllowedTransitions(from)
			may := "it can no longer change"
			if len(next) > 0 {
				may = "it may become " + strings.Join(next, " or ")
			}
			return registry.Invalid([]registry.Detail{{Field: "status", Message: fmt.Sprintf("a %s code cannot become %s: %s", from, c.To, may)}})
		}
		if err := c.SettleValidity(from, validFrom, validTo, db.now().In(vietnamTime)); err != nil {
			return err
		}
		if c.To == registry.CodeSuspended && !suspensionReasons[c.Reason] {
			return registry.Invalid([]registry.Detail{{Field: "reason", Message: "a suspension needs its reason: quarantine_pest, residue_violation, code_borrowing, missed_supervision or other"}})
		}
		if c.To != registry.CodeSuspended {
			c.Reason = ""
		}
		before, err := rowJSON(ctx, tx, "market_code", id)
		if err != nil {
			return err
		}
		// The approving document is the decision's: an issue or a renewal names it; a
		// suspension's, a reinstatement's or a revocation's document stays on its event.
		approving := ""
		if c.To == registry.CodeActive && (from == registry.CodeInspected || from == registry.CodeExpired) {
			approving = c.Document
		}
		if _, err := tx.Exec(ctx, `
			UPDATE market_code SET status = $2, status_reason = NULLIF($3, ''), status_note = NULLIF($4, ''), status_changed_at = now(),
			       approving_document = COALESCE(NULLIF($5, ''), approving_document),
			       valid_from = $6, valid_to = $7,
			       version = version + 1, updated_at = now(), updated_by = $8
			WHERE id = $1`, id, c.To, c.Reason, c.Note, approving, c.ValidFrom, c.ValidTo, a.String()); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO market_code_event (market_code_id, from_status, to_status, reason, note, document, actor, province_code)
			VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), $7, $8)`, id, from, c.To, c.Reason, c.Note, c.Document, a.String(), *province); err != nil {
			return err
		}
		after, err := rowJSON(ctx, tx, "market_code", id)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, auditEntry{Action: "market_code.status", ObjectType: "market_code", ObjectID: id, Province: *province, Commune: *commune,
			Reason: from + " -> " + c.To, Before: before, After: after}); err != nil {
			return err
		}
		if out, err = scanCode(tx.QueryRow(ctx, `SELECT `+codeColumns+` FROM market_code m WHERE m.id = $1`, id)); err != nil {
			return err
		}
		// The area's (or house's) colour on the map changes.
		return codeChanged(ctx, db, tx, area, house)
	}()
	return out, err
}

// CodePage implements registry.LookupService.
func (s *LookupService) CodePage(ctx context.Context, code string) (*registry.CodePage, error) {
	l, err := s.LookupCode(ctx, code)
	if err != nil {
		return nil, err
	}
	p := &registry.CodePage{CodeLookup: l, History: map[int64][]registry.CodeEventView{}}
	var codes []registry.CodeRef
	q := s.db.reader(ctx)
	if l.GrowingArea != nil {
		codes = l.GrowingArea.Codes
		// The area's outline, simplified to about a hundredth of its size.
		var path *string
		var minX, minY, maxX, maxY *float64
		err := q.QueryRow(ctx, `
			SELECT ST_AsSVG(ST_SimplifyPreserveTopology(f, greatest(ST_XMax(f) - ST_XMin(f), ST_YMax(f) - ST_YMin(f)) / 200), 0, 1),
			       ST_XMin(f), ST_YMin(f), ST_XMax(f), ST_YMax(f)
			FROM (SELECT footprint_3857 AS f FROM growing_area WHERE id = $1) g WHERE f IS NOT NULL`, l.GrowingArea.ID).Scan(&path, &minX, &minY, &maxX, &maxY)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		if path != nil && minX != nil {
			w, h := *maxX-*minX, *maxY-*minY
			pad := max(w, h) * 0.05
			p.Outline = &registry.Outline{Path: *path, ViewBox: [4]float64{*minX - pad, -*maxY - pad, w + 2*pad, h + 2*pad}}
		}
	} else if l.PackingHouse != nil {
		codes = l.PackingHouse.Codes
	}
	if len(codes) == 0 {
		codes = []registry.CodeRef{l.Code}
	}
	for _, c := range codes {
		rows, err := q.Query(ctx, `SELECT at, coalesce(from_status, ''), to_status, coalesce(reason, ''), coalesce(document, '')
			FROM market_code_event WHERE market_code_id = $1 ORDER BY at DESC, id DESC LIMIT 50`, c.ID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var e registry.CodeEventView
			if err := rows.Scan(&e.At, &e.From, &e.To, &e.Reason, &e.Document); err != nil {
				rows.Close()
				return nil, err
			}
			p.History[c.ID] = append(p.History[c.ID], e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// vietnamTime is the time of the calendar codes are valid on (UTC+7, no daylight saving).
var vietnamTime = time.FixedZone("ICT", 7*3600)
