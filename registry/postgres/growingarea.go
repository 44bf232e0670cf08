package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// GrowingAreaService forms growing areas.
type GrowingAreaService struct{ db *DB }

var _ registry.GrowingAreaService = (*GrowingAreaService)(nil)

// NewGrowingAreaService returns a GrowingAreaService on db.
func NewGrowingAreaService(db *DB) *GrowingAreaService { return &GrowingAreaService{db: db} }

func init() {
	addConstraintMessages(map[string]string{
		"crop_min_area_ha_check": "a crop's smallest growing area cannot be negative",
	})
}

// maxAreaPlots bounds the plots of one request: a province's largest areas have hundreds.
const maxAreaPlots = 5000

// CreateGrowingArea implements registry.GrowingAreaService.
func (s *GrowingAreaService) CreateGrowingArea(ctx context.Context, req registry.GrowingAreaRequest) (int64, error) {
	return s.saveArea(ctx, req, 0)
}

// SetAreaPlots gives growing area id the plots, under the rules an area is formed by: plots
// it no longer holds leave it (their membership ends), new ones join.
func (s *GrowingAreaService) SetAreaPlots(ctx context.Context, id int64, plots []int64) error {
	var name string
	var registrant *int64
	err := s.db.Pool.QueryRow(ctx, `SELECT name, registrant_id FROM growing_area WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&name, &registrant)
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Errorf(registry.ENOTFOUND, "growing area %d not found", id)
	} else if err != nil {
		return err
	}
	if registrant == nil {
		return registry.Invalid([]registry.Detail{{Field: "registrant_id", Message: fmt.Sprintf("growing area %d has no registrant: an officer names one first", id)}})
	}
	if a, _ := registry.ActorFromContext(ctx); a.Role == registry.RoleCooperative && (a.ProducerID == nil || *a.ProducerID != *registrant) {
		return registry.Errorf(registry.EFORBIDDEN, "growing area %d (%s) is another registrant's: a cooperative changes its own areas", id, name)
	}
	_, err = s.saveArea(ctx, registry.GrowingAreaRequest{Name: name, RegistrantID: registrant, PlotIDs: plots}, id)
	return err
}

// saveArea forms a growing area (editing 0) or gives area editing its plots.
func (s *GrowingAreaService) saveArea(ctx context.Context, req registry.GrowingAreaRequest, editing int64) (int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	req.Name = vntext.Clean(req.Name)
	var details []registry.Detail
	bad := func(field, format string, args ...any) {
		details = append(details, registry.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch a.Role {
	case registry.RoleCooperative:
		if editing == 0 && req.RegistrantID != nil && (a.ProducerID == nil || *req.RegistrantID != *a.ProducerID) {
			return 0, registry.Errorf(registry.EFORBIDDEN, "a cooperative registers its own growing areas: leave registrant_id out")
		}
		req.RegistrantID = a.ProducerID
	case registry.RoleOfficer, registry.RoleAdmin:
		if req.RegistrantID == nil {
			bad("registrant_id", "name the cooperative or enterprise that registers the area (registrant_id)")
		}
	default:
		return 0, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not form growing areas: cooperatives, officers and admins do", cmpOr(a.Role, "public"))
	}
	if req.Name == "" {
		bad("name", "name is required, e.g. \"Vùng trồng sầu riêng Krông Pắc 3\"")
	}
	ids := slices.Clone(req.PlotIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		bad("plots", "a growing area needs its plots: give their ids")
	} else if len(ids) > maxAreaPlots {
		bad("plots", "%d plots in one request: at most %d", len(ids), maxAreaPlots)
	}
	if len(details) > 0 {
		return 0, registry.Invalid(details)
	}
	var id int64
	var denied error
	var province string
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var kind, registrant string
		err := tx.QueryRow(ctx, `SELECT kind, name FROM producer WHERE id = $1 AND deleted_at IS NULL`, *req.RegistrantID).Scan(&kind, &registrant)
		if err == pgx.ErrNoRows || (err == nil && kind == registry.ProducerHousehold) {
			return registry.Invalid([]registry.Detail{{Field: "registrant_id", Message: fmt.Sprintf("producer %d is not a cooperative or enterprise: a growing area is registered by one", *req.RegistrantID)}})
		} else if err != nil {
			return err
		}
		// The plots, locked against a concurrent area taking them.
		type member struct {
			id                int64
			owner, coop       *int64
			province, commune string
			crop              string
			areaHa, minAreaHa float64
			inArea            *int64
			inAreaName        string
		}
		rows, err := tx.Query(ctx, `
			SELECT p.id, p.producer_id, o.cooperative_id, COALESCE(p.province_code, ''), COALESCE(p.commune_code, ''), p.crop, p.area_ha, c.min_area_ha,
			       m.growing_area_id, COALESCE(g.name, '')
			FROM plot p JOIN crop c ON c.code = p.crop LEFT JOIN producer o ON o.id = p.producer_id
			LEFT JOIN growing_area_plot m ON m.plot_id = p.id AND m.removed_at IS NULL
			LEFT JOIN growing_area g ON g.id = m.growing_area_id
			WHERE p.id = ANY ($1) AND p.deleted_at IS NULL
			ORDER BY p.id FOR UPDATE OF p`, ids)
		if err != nil {
			return err
		}
		found := map[int64]member{}
		for rows.Next() {
			var m member
			if err := rows.Scan(&m.id, &m.owner, &m.coop, &m.province, &m.commune, &m.crop, &m.areaHa, &m.minAreaHa, &m.inArea, &m.inAreaName); err != nil {
				rows.Close()
				return err
			}
			found[m.id] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var problems []registry.Detail
		problem := func(format string, args ...any) {
			problems = append(problems, registry.Detail{Field: "plots", Message: fmt.Sprintf(format, args...)})
		}
		provinces := map[string][]int64{}
		keptIDs := []int64{}
		crops := map[string]float64{}
		communeHa := map[string]float64{}
		total := 0.0
		for _, pid := range ids {
			m, ok := found[pid]
			if !ok {
				problem("plot %d does not exist (or was deleted)", pid)
				continue
			}
			if m.inArea != nil && *m.inArea != editing {
				problem("plot %d is already in growing area %d (%s): a plot belongs to one growing area at a time", pid, *m.inArea, m.inAreaName)
			}
			member := (m.owner != nil && *m.owner == *req.RegistrantID) || (m.coop != nil && *m.coop == *req.RegistrantID)
			// Editing an area, a plot it already holds stays (an officer registered it).
			kept := editing != 0 && m.inArea != nil && *m.inArea == editing
			if kept {
				keptIDs = append(keptIDs, pid)
			}
			if !member && !kept {
				problem("plot %d is not a plot of %s or of one of its members", pid, registrant)
			}
			provinces[m.province] = append(provinces[m.province], pid)
			crops[m.crop] = max(crops[m.crop], m.minAreaHa)
			communeHa[m.commune] += m.areaHa
			total += m.areaHa
		}
		if len(provinces) > 1 {
			var parts []string
			for p, in := range provinces {
				parts = append(parts, fmt.Sprintf("province %s: plots %s", cmpOr(p, "(none)"), joinIDs(in)))
			}
			slices.Sort(parts)
			problem("a growing area lies in one province; these plots lie in %d (%s)", len(provinces), strings.Join(parts, "; "))
		}
		for p := range provinces {
			province = p
		}
		// Member plots that overlap one another (interiors; a shared edge is fine).
		orows, err := tx.Query(ctx, `
			SELECT a.id, b.id, ST_Area(ST_Intersection(a.geom, b.geom)::geography)
			FROM plot a JOIN plot b ON b.id > a.id AND b.id = ANY ($1) AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
			WHERE a.id = ANY ($1) AND a.deleted_at IS NULL AND b.deleted_at IS NULL AND NOT (a.id = ANY ($2) AND b.id = ANY ($2)) ORDER BY 1, 2`, ids, keptIDs)
		if err != nil {
			return err
		}
		for orows.Next() {
			var x, y int64
			var m2 float64
			if err := orows.Scan(&x, &y, &m2); err != nil {
				orows.Close()
				return err
			}
			problem("plots %d and %d overlap by %.1f m²: the plots of a growing area may not overlap", x, y, m2)
		}
		orows.Close()
		if err := orows.Err(); err != nil {
			return err
		}
		need, needCrop := 0.0, ""
		for c, min := range crops {
			if min > need || (min == need && c < needCrop) {
				need, needCrop = min, c
			}
		}
		if len(found) == len(ids) && total < need {
			problem("the plots total %s ha; a growing area of %s needs at least %s ha", ftoa(round(total, 4)), needCrop, ftoa(need))
		}
		if len(problems) > 0 {
			return registry.Invalid(problems)
		}
		if a.Role == registry.RoleOfficer && !a.InJurisdiction(province, "") {
			denied = registry.Errorf(registry.EFORBIDDEN, "you may not form a growing area in province %s: it is outside your jurisdiction (%s)", province, jurisdictionOf(a))
			return denied
		}
		// The commune holding most of its area names where it is.
		commune, most := "", -1.0
		for c, ha := range communeHa {
			if ha > most || (ha == most && c < commune) {
				commune, most = c, ha
			}
		}
		cropList := make([]string, 0, len(crops))
		for c := range crops {
			cropList = append(cropList, c)
		}
		slices.Sort(cropList)
		actor := a.String()
		action := "growing_area.create"
		var before []byte
		if editing == 0 {
			if err := tx.QueryRow(ctx, `
				INSERT INTO growing_area (name, registrant_id, crops, province_code, commune_code, created_by, updated_by)
				VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $6) RETURNING id`,
				req.Name, *req.RegistrantID, cropList, province, commune, actor).Scan(&id); err != nil {
				return mapError(err)
			}
		} else {
			id, action = editing, "growing_area.plots"
			var was string
			if err := tx.QueryRow(ctx, `SELECT province_code FROM growing_area WHERE id = $1 FOR UPDATE`, id).Scan(&was); err != nil {
				return err
			}
			if was != province {
				return registry.Invalid([]registry.Detail{{Field: "plots", Message: fmt.Sprintf("the area lies in province %s; these plots lie in %s: a growing area stays in its province", was, province)}})
			}
			var err error
			if before, err = rowJSON(ctx, tx, "growing_area", id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE growing_area SET crops = $2, commune_code = NULLIF($3, ''), version = version + 1, updated_at = now(), updated_by = $4 WHERE id = $1`,
				id, cropList, commune, actor); err != nil {
				return mapError(err)
			}
			if _, err := tx.Exec(ctx, `UPDATE growing_area_plot SET removed_at = now() WHERE growing_area_id = $1 AND removed_at IS NULL AND NOT plot_id = ANY ($2)`, id, ids); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO growing_area_plot (growing_area_id, plot_id, province_code)
			SELECT $1, p, $3 FROM unnest($2::bigint[]) p
			WHERE NOT EXISTS (SELECT 1 FROM growing_area_plot m WHERE m.growing_area_id = $1 AND m.plot_id = p AND m.removed_at IS NULL)`, id, ids, province); err != nil {
			return mapError(err)
		}
		after, err := rowJSON(ctx, tx, "growing_area", id)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, auditEntry{Action: action, ObjectType: "growing_area", ObjectID: id, Province: province, Commune: commune,
			Reason: "plots " + joinIDs(ids), Before: before, After: after}); err != nil {
			return err
		}
		return codeChanged(ctx, s.db, tx, &id, nil)
	})
	if denied != nil {
		s.db.auditRefusal(ctx, auditEntry{Action: "growing_area.create", Outcome: "denied", ObjectType: "growing_area", Province: province, Reason: registry.ErrorMessage(denied)})
	}
	return id, err
}
