package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// TraceService records harvest lots and consignments and runs the code-borrowing checks.
type TraceService struct {
	db *DB
	// YieldTolerance is how far above area × yield cap (and above a season's expected output)
	// a season's lots may weigh before they are flagged (0.1 = 10%).
	YieldTolerance float64
	// Risky, when set, returns the plots of a list that screening found at high risk of
	// deforestation after 2020, with a word on each (for the checks' flags).
	Risky func(ctx context.Context, plotIDs []int64) (map[int64]string, error)
}

var _ registry.TraceService = (*TraceService)(nil)

// NewTraceService returns a TraceService with a 10% tolerance on yields.
func NewTraceService(db *DB) *TraceService { return &TraceService{db: db, YieldTolerance: 0.1} }

// publicCode returns a lot's or consignment's public code: the prefix and 8 random letters and
// digits, without the ones people misread (0/O, 1/I/L).
func publicCode(prefix string) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	b := make([]byte, 8)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return prefix + "-" + string(b)
}

// flag builds a Flag with its arguments as text.
func flag(rule, msg string, args ...string) registry.Flag {
	f := registry.Flag{Rule: rule, Message: msg, Args: map[string]string{}}
	for i := 0; i+1 < len(args); i += 2 {
		f.Args[args[i]] = args[i+1]
	}
	return f
}

func kg(v float64) string { return vntext.FormatInt(int64(math.Round(v))) }

func dateOf(t time.Time) string { return t.Format(time.DateOnly) }

// areaOf is what the checks need of a growing area.
type areaOf struct {
	id                int64
	name              string
	province, commune string
	registrant        *int64
	crops             []string
}

func loadArea(ctx context.Context, q querier, id int64) (*areaOf, error) {
	a := &areaOf{id: id}
	err := q.QueryRow(ctx, `SELECT name, province_code, coalesce(commune_code, ''), registrant_id, crops FROM growing_area WHERE id = $1 AND deleted_at IS NULL`, id).
		Scan(&a.name, &a.province, &a.commune, &a.registrant, &a.crops)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "growing area %d not found", id)
	}
	return a, err
}

// codeHistory reads a code's statuses over time.
func codeHistory(ctx context.Context, q querier, codeID int64) (registry.CodeHistory, error) {
	var h registry.CodeHistory
	if err := q.QueryRow(ctx, `SELECT code, status, valid_from, valid_to FROM market_code WHERE id = $1`, codeID).Scan(&h.Code, &h.Current, &h.ValidFrom, &h.ValidTo); err != nil {
		return h, err
	}
	rows, err := q.Query(ctx, `SELECT at, coalesce(from_status, ''), to_status, coalesce(reason, '') FROM market_code_event WHERE market_code_id = $1 ORDER BY at, id`, codeID)
	if err != nil {
		return h, err
	}
	defer rows.Close()
	for rows.Next() {
		var e registry.CodeEvent
		if err := rows.Scan(&e.At, &e.From, &e.To, &e.Reason); err != nil {
			return h, err
		}
		h.Events = append(h.Events, e)
	}
	return h, rows.Err()
}

// inactiveFlag says, when the code was not active during the days from..to, why.
func inactiveFlag(h registry.CodeHistory, market string, from, to time.Time) *registry.Flag {
	status, since, reason, ok := h.InactiveDuring(from, to)
	if ok {
		return nil
	}
	msg := fmt.Sprintf("code %s (%s) was %s during the harvest %s to %s", h.Code, market, strings.ReplaceAll(status, "_", " "), dateOf(from), dateOf(to))
	if !since.IsZero() {
		msg += fmt.Sprintf(", since %s", dateOf(since))
	}
	if reason != "" {
		msg += " (" + strings.ReplaceAll(reason, "_", " ") + ")"
	}
	f := flag(registry.RuleCodeNotActive, msg, "code", h.Code, "market", market, "status", status, "from", dateOf(from), "to", dateOf(to), "reason", reason)
	if !since.IsZero() {
		f.Args["since"] = dateOf(since)
	}
	return &f
}

// mayRecordLot: admins; officers where the area is; the area's registrant.
func mayRecordLot(a registry.Actor, area *areaOf) bool {
	switch a.Role {
	case registry.RoleAdmin:
		return true
	case registry.RoleOfficer:
		return a.InJurisdiction(area.province, area.commune)
	case registry.RoleCooperative, registry.RoleExporter:
		return a.ProducerID != nil && area.registrant != nil && *a.ProducerID == *area.registrant
	}
	return false
}

// RecordLot implements registry.TraceService.
func (s *TraceService) RecordLot(ctx context.Context, l *registry.HarvestLot) error {
	var details []registry.Detail
	bad := func(field, msg string) { details = append(details, registry.Detail{Field: field, Message: msg}) }
	l.Code, l.Crop = strings.TrimSpace(l.Code), strings.TrimSpace(l.Crop)
	if l.GrowingAreaID <= 0 {
		bad("growing_area_id", "name the growing area the lot was harvested from")
	}
	if l.Code == "" {
		bad("code", "name the area's code the lot is declared under, e.g. VN-DLOR-0321")
	}
	if l.Crop == "" {
		bad("crop", "name the crop, e.g. sầu riêng")
	}
	if l.QuantityKg <= 0 || math.IsNaN(l.QuantityKg) || math.IsInf(l.QuantityKg, 0) || l.QuantityKg > 1e9 {
		bad("quantity_kg", fmt.Sprintf("the quantity must be a number of kilograms above 0, not %v", l.QuantityKg))
	}
	if l.HarvestedFrom.IsZero() || l.HarvestedTo.IsZero() {
		bad("harvested_from", "give the harvest's first and last days (YYYY-MM-DD)")
	} else if l.HarvestedTo.Before(l.HarvestedFrom) {
		bad("harvested_to", "the harvest's last day is before its first")
	} else if l.HarvestedFrom.After(s.db.now().AddDate(0, 0, 1)) {
		bad("harvested_from", "a lot is recorded once harvested: the first day is in the future")
	}
	if len(l.PlotIDs) == 0 {
		bad("plot_ids", "name the plots the lot was harvested from")
	}
	if len(details) > 0 {
		return registry.Invalid(details)
	}
	slices.Sort(l.PlotIDs)
	l.PlotIDs = slices.Compact(l.PlotIDs)
	var refused *registry.Error
	var province, commune string
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		area, err := loadArea(ctx, tx, l.GrowingAreaID)
		if err != nil {
			return err
		}
		province, commune = area.province, area.commune
		a, _ := registry.ActorFromContext(ctx)
		if !mayRecordLot(a, area) {
			return registry.Errorf(registry.EFORBIDDEN, "you may not record lots of growing area %d: its registrant, the officers of its province and administrators do", area.id)
		}
		var codeID int64
		var codeArea *int64
		err = tx.QueryRow(ctx, `SELECT id, code, market, growing_area_id FROM market_code WHERE code_key = $1`, codeKey(l.Code)).Scan(&codeID, &l.Code, &l.Market, &codeArea)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && (codeArea == nil || *codeArea != area.id)) {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("%s is not a code of growing area %s", l.Code, area.name),
				Details: []registry.Detail{{Field: "code", Message: "not a code of this growing area"}}}
		} else if err != nil {
			return err
		}
		if l.Crop, err = resolveCrop(ctx, tx, l.Crop); err != nil {
			return err
		}
		if !slices.Contains(area.crops, l.Crop) {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("growing area %s grows %s, not %s", area.name, strings.Join(area.crops, ", "), l.Crop),
				Details: []registry.Detail{{Field: "crop", Message: "not a crop of this growing area"}}}
		}
		// Every plot a current member of the area.
		var outside []int64
		rows, err := tx.Query(ctx, `SELECT p FROM unnest($2::bigint[]) p
			WHERE NOT EXISTS (SELECT 1 FROM growing_area_plot m WHERE m.growing_area_id = $1 AND m.plot_id = p AND m.removed_at IS NULL) ORDER BY p`,
			area.id, l.PlotIDs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			outside = append(outside, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(outside) > 0 {
			list := make([]string, len(outside))
			for i, id := range outside {
				list[i] = strconv.FormatInt(id, 10)
			}
			f := flag(registry.RulePlotNotMember, fmt.Sprintf("plots %s are not members of growing area %s", strings.Join(list, ", "), area.name), "plots", strings.Join(list, ","), "area", area.name)
			refused = &registry.Error{Code: registry.EINVALID, Message: f.Message, Details: []registry.Detail{{Field: "plot_ids", Message: f.Message, Code: f.Rule, Args: f.Args}}}
			return refused
		}
		// A lot harvested while its code was not active cannot be declared under it.
		h, err := codeHistory(ctx, tx, codeID)
		if err != nil {
			return err
		}
		if f := inactiveFlag(h, l.Market, l.HarvestedFrom, l.HarvestedTo); f != nil {
			refused = &registry.Error{Code: registry.EINVALID, Message: f.Message + ": a lot harvested then cannot be declared under it",
				Details: []registry.Detail{{Field: "harvested_from", Message: f.Message, Code: f.Rule, Args: f.Args}}}
			return refused
		}
		var months []int
		if err := tx.QueryRow(ctx, `SELECT harvest_months::int[] FROM crop WHERE code = $1`, l.Crop).Scan(&months); err != nil {
			return err
		}
		l.Season = registry.SeasonOf(months, l.HarvestedFrom)
		l.RegistrantID, l.ProvinceCode = area.registrant, area.province
		l.PublicCode = publicCode("L")
		l.Flags = nil
		if !registry.InSeason(months, l.HarvestedFrom, l.HarvestedTo) {
			l.Flags = append(l.Flags, flag(registry.RuleOutOfSeason, fmt.Sprintf("the harvest %s to %s falls outside the %s season (months %s)",
				dateOf(l.HarvestedFrom), dateOf(l.HarvestedTo), l.Crop, monthList(months)), "from", dateOf(l.HarvestedFrom), "to", dateOf(l.HarvestedTo), "crop", l.Crop, "months", monthList(months)))
		}
		actor := a.String()
		flags, _ := json.Marshal(l.Flags)
		if err := tx.QueryRow(ctx, `
			INSERT INTO harvest_lot (public_code, growing_area_id, market_code_id, market, crop, season, harvested_from, harvested_to, quantity_kg,
			                         registrant_id, flags, province_code, created_by, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id, created_at, version`,
			l.PublicCode, area.id, codeID, l.Market, l.Crop, l.Season, l.HarvestedFrom, l.HarvestedTo, l.QuantityKg, area.registrant, flags, area.province, actor).
			Scan(&l.ID, &l.CreatedAt, &l.Version); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO harvest_lot_plot (lot_id, plot_id, province_code) SELECT $1, p, $3 FROM unnest($2::bigint[]) p`, l.ID, l.PlotIDs, area.province); err != nil {
			return mapError(err)
		}
		// The season's lots against the area's yield, with this one.
		yf, err := s.yieldFlags(ctx, tx, area, l.Crop, l.Season, l.Market)
		if err != nil {
			return err
		}
		rf, err := s.riskFlags(ctx, l.PlotIDs)
		if err != nil {
			return err
		}
		l.Flags = mergeFlags(l.Flags, append(yf, rf...)...)
		if len(l.Flags) > 0 {
			flags, _ := json.Marshal(l.Flags)
			if _, err := tx.Exec(ctx, `UPDATE harvest_lot SET flags = $2 WHERE id = $1`, l.ID, flags); err != nil {
				return err
			}
		}
		after, err := rowJSON(ctx, tx, "harvest_lot", l.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "lot.record", ObjectType: "harvest_lot", ObjectID: l.ID, Province: area.province, Commune: area.commune, After: after})
	})
	switch {
	case refused != nil:
		attempt, _ := json.Marshal(map[string]any{"growing_area_id": l.GrowingAreaID, "code": l.Code, "crop": l.Crop, "harvested_from": dateOf(l.HarvestedFrom),
			"harvested_to": dateOf(l.HarvestedTo), "quantity_kg": l.QuantityKg, "plot_ids": l.PlotIDs, "flag": refused.Details[0]})
		s.db.auditRefusal(ctx, auditEntry{Action: "lot.record", Outcome: "rejected", ObjectType: "harvest_lot", Province: province, Commune: commune,
			Reason: refused.Message, After: attempt})
	case registry.ErrorCode(err) == registry.EFORBIDDEN:
		s.db.auditRefusal(ctx, auditEntry{Action: "lot.record", Outcome: "denied", ObjectType: "harvest_lot", Province: province, Commune: commune, Reason: registry.ErrorMessage(err)})
	}
	return err
}

func monthList(months []int) string {
	s := make([]string, len(months))
	for i, m := range months {
		s[i] = strconv.Itoa(m)
	}
	return strings.Join(s, ",")
}

// yieldFlags checks the season's lots of an area and crop against the area's hectares × the
// crop's yield cap, and against the season's expected output when a seasonal report gives one.
func (s *TraceService) yieldFlags(ctx context.Context, q querier, area *areaOf, crop string, season int, market string) ([]registry.Flag, error) {
	var total, ha float64
	var capTHa, expectedT *float64
	err := q.QueryRow(ctx, `
		SELECT (SELECT coalesce(sum(quantity_kg), 0)::float8 FROM harvest_lot WHERE growing_area_id = $1 AND crop = $2 AND season = $3),
		       (SELECT coalesce(sum(p.area_ha) FILTER (WHERE p.crop = $2), 0) FROM growing_area_plot m JOIN plot p ON p.id = m.plot_id AND p.deleted_at IS NULL
		        WHERE m.growing_area_id = $1 AND m.removed_at IS NULL),
		       (SELECT yield_cap_t_ha::float8 FROM crop WHERE code = $2),
		       (SELECT max(expected_output_t)::float8 FROM seasonal_report WHERE growing_area_id = $1 AND crop = $2 AND season = $3::text
		                                                          AND (market IS NULL OR market = $4))`,
		area.id, crop, season, market).Scan(&total, &ha, &capTHa, &expectedT)
	if err != nil {
		return nil, err
	}
	var out []registry.Flag
	tol := s.YieldTolerance
	if capTHa != nil && ha > 0 {
		limit := ha * *capTHa * 1000
		if total > limit*(1+tol) {
			out = append(out, flag(registry.RuleYieldCap, fmt.Sprintf("the %d season's %s lots of %s weigh %s kg, more than its %s ha × %s t/ha = %s kg (+%d%% tolerance)",
				season, crop, area.name, kg(total), strconv.FormatFloat(round(ha, 2), 'f', -1, 64), strconv.FormatFloat(*capTHa, 'f', -1, 64), kg(limit), int(math.Round(tol*100))),
				"total_kg", kg(total), "area_ha", strconv.FormatFloat(round(ha, 2), 'f', -1, 64), "cap_t_ha", strconv.FormatFloat(*capTHa, 'f', -1, 64),
				"limit_kg", kg(limit), "season", strconv.Itoa(season), "area", area.name))
		}
	}
	if expectedT != nil && *expectedT > 0 && total > *expectedT*1000*(1+tol) {
		out = append(out, flag(registry.RuleSeasonalOutput, fmt.Sprintf("the %d season's %s lots of %s weigh %s kg, more than the %s kg its seasonal report expects",
			season, crop, area.name, kg(total), kg(*expectedT*1000)), "total_kg", kg(total), "expected_kg", kg(*expectedT*1000), "season", strconv.Itoa(season), "area", area.name))
	}
	return out, nil
}

// riskFlags flags the plots screening found at high risk of deforestation (when screening is
// wired).
func (s *TraceService) riskFlags(ctx context.Context, plotIDs []int64) ([]registry.Flag, error) {
	if s.Risky == nil || len(plotIDs) == 0 {
		return nil, nil
	}
	risky, err := s.Risky(ctx, plotIDs)
	if err != nil || len(risky) == 0 {
		return nil, err
	}
	ids := make([]int64, 0, len(risky))
	for id := range risky {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []registry.Flag
	for _, id := range ids {
		out = append(out, flag(registry.RuleDeforestation, fmt.Sprintf("plot %d: %s", id, risky[id]), "plot", strconv.FormatInt(id, 10), "why", risky[id]))
	}
	return out, nil
}

const lotColumns = `l.id, l.public_code, l.growing_area_id, m.code, l.market, l.crop, l.season, l.harvested_from, l.harvested_to, l.quantity_kg::float8,
	l.registrant_id, l.packing_house_id, l.received_at, coalesce(l.received_kg, 0)::float8, l.flags, l.province_code, l.created_at, l.version,
	coalesce((SELECT array_agg(plot_id ORDER BY plot_id) FROM harvest_lot_plot WHERE lot_id = l.id), '{}')`

const lotFrom = ` FROM harvest_lot l JOIN market_code m ON m.id = l.market_code_id`

func scanLot(row scanner) (*registry.HarvestLot, error) {
	var l registry.HarvestLot
	var flags []byte
	if err := row.Scan(&l.ID, &l.PublicCode, &l.GrowingAreaID, &l.Code, &l.Market, &l.Crop, &l.Season, &l.HarvestedFrom, &l.HarvestedTo, &l.QuantityKg,
		&l.RegistrantID, &l.PackingHouseID, &l.ReceivedAt, &l.ReceivedKg, &flags, &l.ProvinceCode, &l.CreatedAt, &l.Version, &l.PlotIDs); err != nil {
		return nil, err
	}
	l.Flags = []registry.Flag{}
	if err := json.Unmarshal(flags, &l.Flags); err != nil {
		return nil, err
	}
	return &l, nil
}

// refWhere is the condition naming a lot or consignment by id or public code.
func refWhere(alias, ref string) (string, any) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return alias + ".id = $1", id
	}
	return alias + ".public_code = upper($1)", strings.TrimSpace(ref)
}

func findLot(ctx context.Context, q querier, ref string, lock bool) (*registry.HarvestLot, error) {
	where, arg := refWhere("l", ref)
	sql := `SELECT ` + lotColumns + lotFrom + ` WHERE ` + where
	if lock {
		sql += ` FOR UPDATE OF l`
	}
	l, err := scanLot(q.QueryRow(ctx, sql, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "no lot %s", ref)
	}
	return l, err
}

// FindLot implements registry.TraceService. Lots are public: they name no person.
func (s *TraceService) FindLot(ctx context.Context, ref string) (*registry.HarvestLot, error) {
	return findLot(ctx, s.db.reader(ctx), ref, false)
}

// houseOf is what the checks need of a packing house.
type houseOf struct {
	id                int64
	name              string
	province, commune string
	operator          *int64
}

func loadHouse(ctx context.Context, q querier, id int64) (*houseOf, error) {
	h := &houseOf{id: id}
	err := q.QueryRow(ctx, `SELECT name, province_code, coalesce(commune_code, ''), operator_id FROM packing_house WHERE id = $1 AND deleted_at IS NULL`, id).
		Scan(&h.name, &h.province, &h.commune, &h.operator)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "packing house %d not found", id)
	}
	return h, err
}

// mayActForHouse: admins; officers where the house is; its operator.
func mayActForHouse(a registry.Actor, h *houseOf) bool {
	switch a.Role {
	case registry.RoleAdmin:
		return true
	case registry.RoleOfficer:
		return a.InJurisdiction(h.province, h.commune)
	case registry.RoleExporter, registry.RoleCooperative:
		return a.ProducerID != nil && h.operator != nil && *a.ProducerID == *h.operator
	}
	return false
}

// houseFlags checks a packing house for a lot: its code for the market, its link to the area.
func houseFlags(ctx context.Context, q querier, h *houseOf, market string, on time.Time, lot *registry.HarvestLot) ([]registry.Flag, string, error) {
	var out []registry.Flag
	var codeID int64
	var code string
	err := q.QueryRow(ctx, `SELECT id, code FROM market_code WHERE packing_house_id = $1 AND market = $2 AND status <> 'revoked'`, h.id, market).Scan(&codeID, &code)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		out = append(out, flag(registry.RulePackingCode, fmt.Sprintf("packing house %s has no code for %s", h.name, market), "house", h.name, "market", market))
	case err != nil:
		return nil, "", err
	default:
		hist, err := codeHistory(ctx, q, codeID)
		if err != nil {
			return nil, "", err
		}
		if f := inactiveFlag(hist, market, on, on); f != nil {
			f.Rule = registry.RulePackingCode
			f.Args["house"] = h.name
			f.Message = "packing house " + h.name + ": " + f.Message
			out = append(out, *f)
		}
	}
	if lot != nil {
		var linked bool
		var areaName string
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM packing_house_growing_area WHERE packing_house_id = $1 AND growing_area_id = $2
			                  AND (valid_from IS NULL OR valid_from <= $4) AND (valid_to IS NULL OR valid_to >= $3)),
			(SELECT name FROM growing_area WHERE id = $2)`, h.id, lot.GrowingAreaID, lot.HarvestedFrom, lot.HarvestedTo).Scan(&linked, &areaName); err != nil {
			return nil, "", err
		}
		if !linked {
			f := flag(registry.RuleNotLinked, fmt.Sprintf("packing house %s is not linked to growing area %s, where lot %s was harvested, for the days of its harvest", h.name, areaName, lot.PublicCode),
				"house", h.name, "area", areaName, "lot", lot.PublicCode)
			f.Lot = lot.PublicCode
			out = append(out, f)
		}
	}
	return out, code, nil
}

// mergeFlags adds to flags those of more that it does not hold yet (same rule and message). It
// never returns nil: no flags is an empty list in JSON.
func mergeFlags(flags []registry.Flag, more ...registry.Flag) []registry.Flag {
	if flags == nil {
		flags = []registry.Flag{}
	}
	for _, f := range more {
		if !slices.ContainsFunc(flags, func(g registry.Flag) bool { return g.Rule == f.Rule && g.Message == f.Message }) {
			flags = append(flags, f)
		}
	}
	return flags
}

// ReceiveLot implements registry.TraceService.
func (s *TraceService) ReceiveLot(ctx context.Context, lotID, houseID int64, kgIn float64) (*registry.HarvestLot, error) {
	if kgIn <= 0 || math.IsNaN(kgIn) || math.IsInf(kgIn, 0) {
		return nil, registry.Invalid([]registry.Detail{{Field: "quantity_kg", Message: "the quantity received must be a number of kilograms above 0"}})
	}
	var out *registry.HarvestLot
	var province, commune string
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		l, err := findLot(ctx, tx, strconv.FormatInt(lotID, 10), true)
		if err != nil {
			return err
		}
		h, err := loadHouse(ctx, tx, houseID)
		if err != nil {
			return err
		}
		province, commune = h.province, h.commune
		a, _ := registry.ActorFromContext(ctx)
		if !mayActForHouse(a, h) {
			return registry.Errorf(registry.EFORBIDDEN, "you may not record what packing house %s received: its operator, the officers of its province and administrators do", h.name)
		}
		if l.PackingHouseID != nil && *l.PackingHouseID != houseID {
			return registry.Errorf(registry.ECONFLICT, "lot %s was received by another packing house (%d)", l.PublicCode, *l.PackingHouseID)
		}
		before, err := rowJSON(ctx, tx, "harvest_lot", l.ID)
		if err != nil {
			return err
		}
		hf, _, err := houseFlags(ctx, tx, h, l.Market, s.db.now(), l)
		if err != nil {
			return err
		}
		l.Flags = mergeFlags(l.Flags, hf...)
		if kgIn > l.QuantityKg*(1+s.YieldTolerance) {
			l.Flags = mergeFlags(l.Flags, flag(registry.RuleOverShipped, fmt.Sprintf("packing house %s received %s kg of lot %s, which was harvested as %s kg",
				h.name, kg(kgIn), l.PublicCode, kg(l.QuantityKg)), "received_kg", kg(kgIn), "lot_kg", kg(l.QuantityKg), "lot", l.PublicCode))
		}
		flags, _ := json.Marshal(l.Flags)
		if _, err := tx.Exec(ctx, `UPDATE harvest_lot SET packing_house_id = $2, received_at = now(), received_kg = $3, flags = $4, version = version + 1,
			updated_at = now(), updated_by = $5 WHERE id = $1`, l.ID, houseID, kgIn, flags, a.String()); err != nil {
			return mapError(err)
		}
		after, err := rowJSON(ctx, tx, "harvest_lot", l.ID)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, auditEntry{Action: "lot.receive", ObjectType: "harvest_lot", ObjectID: l.ID, Province: l.ProvinceCode, Before: before, After: after}); err != nil {
			return err
		}
		out, err = findLot(ctx, tx, strconv.FormatInt(l.ID, 10), false)
		return err
	})
	if registry.ErrorCode(err) == registry.EFORBIDDEN {
		s.db.auditRefusal(ctx, auditEntry{Action: "lot.receive", Outcome: "denied", ObjectType: "harvest_lot", ObjectID: lotID, Province: province, Commune: commune, Reason: registry.ErrorMessage(err)})
	}
	return out, err
}

// consignmentLots loads a consignment's lots for checking.
func consignmentLots(ctx context.Context, q querier, lots []registry.ConsignmentLot) ([]*registry.HarvestLot, error) {
	out := make([]*registry.HarvestLot, len(lots))
	for i, cl := range lots {
		ref := cl.PublicCode
		if cl.LotID != 0 {
			ref = strconv.FormatInt(cl.LotID, 10)
		}
		l, err := findLot(ctx, q, ref, false)
		if err != nil {
			return nil, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("lot %s does not exist", ref),
				Details: []registry.Detail{{Field: fmt.Sprintf("lots[%d]", i), Message: "no such lot"}}}
		}
		out[i] = l
	}
	return out, nil
}

// consignmentFlags runs the checks of a consignment over its lots, as things stand: the
// packing house's code and links, each lot's code over its harvest, each area's season against
// its yield, how much of each lot has been shipped, and the net weight.
func (s *TraceService) consignmentFlags(ctx context.Context, q querier, c *registry.Consignment, h *houseOf, lots []*registry.HarvestLot) ([]registry.Flag, error) {
	on := s.db.now()
	if c.ShippedOn != nil {
		on = *c.ShippedOn
	}
	flags, code, err := houseFlags(ctx, q, h, c.Market, on, nil)
	if err != nil {
		return nil, err
	}
	c.PackingCode = code
	var sum float64
	for i, l := range lots {
		onLot := func(fs ...registry.Flag) {
			for _, f := range fs {
				f.Lot = l.PublicCode
				flags = mergeFlags(flags, f)
			}
		}
		lf, _, err := houseFlags(ctx, q, h, c.Market, on, l)
		if err != nil {
			return nil, err
		}
		for _, f := range lf {
			if f.Rule == registry.RuleNotLinked {
				onLot(f)
			}
		}
		var codeID int64
		if err := q.QueryRow(ctx, `SELECT market_code_id FROM harvest_lot WHERE id = $1`, l.ID).Scan(&codeID); err != nil {
			return nil, err
		}
		hist, err := codeHistory(ctx, q, codeID)
		if err != nil {
			return nil, err
		}
		if f := inactiveFlag(hist, l.Market, l.HarvestedFrom, l.HarvestedTo); f != nil {
			f.Message = "lot " + l.PublicCode + ": " + f.Message
			onLot(*f)
		}
		area, err := loadArea(ctx, q, l.GrowingAreaID)
		if err != nil {
			return nil, err
		}
		yf, err := s.yieldFlags(ctx, q, area, l.Crop, l.Season, l.Market)
		if err != nil {
			return nil, err
		}
		onLot(yf...)
		for _, f := range l.Flags {
			if f.Rule == registry.RuleOutOfSeason || f.Rule == registry.RuleDeforestation {
				onLot(f)
			}
		}
		// How much of the lot all consignments carry, this one included.
		var shipped float64
		if err := q.QueryRow(ctx, `SELECT coalesce(sum(quantity_kg), 0)::float8 FROM consignment_lot WHERE lot_id = $1 AND consignment_id <> $2`, l.ID, c.ID).Scan(&shipped); err != nil {
			return nil, err
		}
		shipped += c.Lots[i].QuantityKg
		have := l.QuantityKg
		if l.ReceivedKg > 0 {
			have = l.ReceivedKg
		}
		if shipped > have*(1+s.YieldTolerance) {
			onLot(flag(registry.RuleOverShipped, fmt.Sprintf("consignments carry %s kg of lot %s, which has %s kg", kg(shipped), l.PublicCode, kg(have)),
				"shipped_kg", kg(shipped), "lot_kg", kg(have), "lot", l.PublicCode))
		}
		sum += c.Lots[i].QuantityKg
	}
	flags = mergeFlags(flags)
	if c.NetKg > sum*(1+s.YieldTolerance) {
		flags = mergeFlags(flags, flag(registry.RuleOverShipped, fmt.Sprintf("the consignment's net weight %s kg is more than the %s kg of its lots", kg(c.NetKg), kg(sum)),
			"net_kg", kg(c.NetKg), "lots_kg", kg(sum)))
	}
	return flags, nil
}

// RecordConsignment implements registry.TraceService.
func (s *TraceService) RecordConsignment(ctx context.Context, c *registry.Consignment) error {
	var details []registry.Detail
	bad := func(field, msg string) { details = append(details, registry.Detail{Field: field, Message: msg}) }
	c.Market = strings.ToUpper(strings.TrimSpace(c.Market))
	c.ContainerNo, c.DeclarationNo, c.Destination = vntext.Clean(c.ContainerNo), vntext.Clean(c.DeclarationNo), vntext.Clean(c.Destination)
	if len(c.Market) != 2 || strings.Trim(c.Market, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		bad("market", "the market is a 2-letter code: CN, US, EU, JP, KR…")
	}
	if c.PackingHouseID <= 0 {
		bad("packing_house_id", "name the packing house that packs the consignment")
	}
	if c.NetKg <= 0 || math.IsNaN(c.NetKg) || math.IsInf(c.NetKg, 0) || c.NetKg > 1e9 {
		bad("net_kg", "the net weight must be a number of kilograms above 0")
	}
	if len(c.Lots) == 0 {
		bad("lots", "name the lots the consignment carries")
	}
	for i, l := range c.Lots {
		if l.QuantityKg <= 0 || math.IsNaN(l.QuantityKg) || math.IsInf(l.QuantityKg, 0) {
			bad(fmt.Sprintf("lots[%d].quantity_kg", i), "the quantity of a lot must be a number of kilograms above 0")
		}
	}
	for _, f := range []struct{ name, v string }{{"container_no", c.ContainerNo}, {"declaration_no", c.DeclarationNo}, {"destination", c.Destination}} {
		if len([]rune(f.v)) > 100 {
			bad(f.name, "at most 100 characters")
		}
	}
	if len(details) > 0 {
		return registry.Invalid(details)
	}
	var province, commune string
	var refused *registry.Error
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		h, err := loadHouse(ctx, tx, c.PackingHouseID)
		if err != nil {
			return &registry.Error{Code: registry.EINVALID, Message: registry.ErrorMessage(err), Details: []registry.Detail{{Field: "packing_house_id", Message: "no such packing house"}}}
		}
		province, commune = h.province, h.commune
		a, _ := registry.ActorFromContext(ctx)
		switch a.Role {
		case registry.RoleAdmin:
		case registry.RoleOfficer:
			if !a.InJurisdiction(h.province, h.commune) {
				return registry.Errorf(registry.EFORBIDDEN, "you may not record consignments of packing house %s: it is outside your jurisdiction", h.name)
			}
		case registry.RoleExporter:
			if a.ProducerID == nil {
				return registry.Errorf(registry.EFORBIDDEN, "your account speaks for no enterprise: ask an administrator")
			}
			c.ExporterID = a.ProducerID
		default:
			return registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not record consignments: exporters do", cmpOr(a.Role, "public"))
		}
		lots, err := consignmentLots(ctx, tx, c.Lots)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for i, l := range lots {
			if seen[l.ID] {
				return registry.Invalid([]registry.Detail{{Field: fmt.Sprintf("lots[%d]", i), Message: "lot " + l.PublicCode + " is named twice"}})
			}
			seen[l.ID] = true
			c.Lots[i].LotID, c.Lots[i].PublicCode = l.ID, l.PublicCode
			if l.Market != c.Market {
				f := flag(registry.RuleMarket, fmt.Sprintf("lot %s is declared under %s, a code for %s: it does not cover %s", l.PublicCode, l.Code, l.Market, c.Market),
					"lot", l.PublicCode, "code", l.Code, "code_market", l.Market, "market", c.Market)
				refused = &registry.Error{Code: registry.EINVALID, Message: f.Message,
					Details: []registry.Detail{{Field: fmt.Sprintf("lots[%d]", i), Message: f.Message, Code: f.Rule, Args: f.Args}}}
				return refused
			}
		}
		c.ID = 0
		if c.Flags, err = s.consignmentFlags(ctx, tx, c, h, lots); err != nil {
			return err
		}
		var ids []int64
		for _, l := range lots {
			ids = append(ids, l.PlotIDs...)
		}
		rf, err := s.riskFlags(ctx, ids)
		if err != nil {
			return err
		}
		c.Flags = mergeFlags(c.Flags, rf...)
		c.PublicCode, c.ProvinceCode = publicCode("C"), h.province
		flags, _ := json.Marshal(c.Flags)
		if err := tx.QueryRow(ctx, `
			INSERT INTO consignment (public_code, exporter_id, market, packing_house_id, packing_code_id, net_kg, container_no, declaration_no, destination,
			                         shipped_on, flags, province_code, created_by, updated_by)
			VALUES ($1, $2, $3, $4, (SELECT id FROM market_code WHERE packing_house_id = $4 AND market = $3 AND status <> 'revoked'), $5,
			        NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, ''), $9, $10, $11, $12, $12) RETURNING id, created_at, version`,
			c.PublicCode, c.ExporterID, c.Market, c.PackingHouseID, c.NetKg, c.ContainerNo, c.DeclarationNo, c.Destination, c.ShippedOn, flags, h.province, a.String()).
			Scan(&c.ID, &c.CreatedAt, &c.Version); err != nil {
			return mapError(err)
		}
		for _, l := range c.Lots {
			if _, err := tx.Exec(ctx, `INSERT INTO consignment_lot (consignment_id, lot_id, quantity_kg, province_code) VALUES ($1, $2, $3, $4)`,
				c.ID, l.LotID, l.QuantityKg, h.province); err != nil {
				return mapError(err)
			}
		}
		after, err := rowJSON(ctx, tx, "consignment", c.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "consignment.record", ObjectType: "consignment", ObjectID: c.ID, Province: h.province, Commune: h.commune, After: after})
	})
	switch {
	case refused != nil:
		attempt, _ := json.Marshal(map[string]any{"market": c.Market, "packing_house_id": c.PackingHouseID, "lots": c.Lots, "flag": refused.Details[0]})
		s.db.auditRefusal(ctx, auditEntry{Action: "consignment.record", Outcome: "rejected", ObjectType: "consignment", Province: province, Commune: commune,
			Reason: refused.Message, After: attempt})
	case registry.ErrorCode(err) == registry.EFORBIDDEN:
		s.db.auditRefusal(ctx, auditEntry{Action: "consignment.record", Outcome: "denied", ObjectType: "consignment", Province: province, Commune: commune, Reason: registry.ErrorMessage(err)})
	}
	return err
}

const consignmentColumns = `c.id, c.public_code, c.exporter_id, c.market, c.packing_house_id, coalesce(m.code, ''), c.net_kg::float8, coalesce(c.container_no, ''),
	coalesce(c.declaration_no, ''), coalesce(c.destination, ''), c.shipped_on, c.flags, c.province_code, c.created_at, c.version,
	coalesce((SELECT json_agg(json_build_object('lot_id', cl.lot_id, 'public_code', l.public_code, 'quantity_kg', cl.quantity_kg) ORDER BY l.public_code)
	          FROM consignment_lot cl JOIN harvest_lot l ON l.id = cl.lot_id WHERE cl.consignment_id = c.id), '[]')`

const consignmentFrom = ` FROM consignment c LEFT JOIN market_code m ON m.id = c.packing_code_id`

func scanConsignment(row scanner) (*registry.Consignment, error) {
	var c registry.Consignment
	var flags, lots []byte
	if err := row.Scan(&c.ID, &c.PublicCode, &c.ExporterID, &c.Market, &c.PackingHouseID, &c.PackingCode, &c.NetKg, &c.ContainerNo, &c.DeclarationNo,
		&c.Destination, &c.ShippedOn, &flags, &c.ProvinceCode, &c.CreatedAt, &c.Version, &lots); err != nil {
		return nil, err
	}
	c.Flags = []registry.Flag{}
	if err := json.Unmarshal(flags, &c.Flags); err != nil {
		return nil, err
	}
	return &c, json.Unmarshal(lots, &c.Lots)
}

func findConsignment(ctx context.Context, q querier, ref string) (*registry.Consignment, error) {
	where, arg := refWhere("c", ref)
	c, err := scanConsignment(q.QueryRow(ctx, `SELECT `+consignmentColumns+consignmentFrom+` WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "no consignment %s", ref)
	}
	return c, err
}

// FindConsignment implements registry.TraceService. A consignment's public view names its
// exporter (an enterprise, not a person).
func (s *TraceService) FindConsignment(ctx context.Context, ref string) (*registry.Consignment, error) {
	return findConsignment(ctx, s.db.reader(ctx), ref)
}

// CheckConsignment implements registry.TraceService: the checks again, as things stand today
// (a code suspended since, lots recorded since in the same season).
func (s *TraceService) CheckConsignment(ctx context.Context, ref string) (*registry.Consignment, error) {
	c, err := findConsignment(ctx, s.db.Pool, ref)
	if err != nil {
		return nil, err
	}
	a, _ := registry.ActorFromContext(ctx)
	h, err := loadHouse(ctx, s.db.Pool, c.PackingHouseID)
	if err != nil {
		return nil, err
	}
	if !(a.Role == registry.RoleAdmin || (a.Role == registry.RoleOfficer && a.InJurisdiction(h.province, h.commune)) ||
		(a.Role == registry.RoleExporter && a.ProducerID != nil && c.ExporterID != nil && *a.ProducerID == *c.ExporterID)) {
		return nil, registry.Errorf(registry.EFORBIDDEN, "only its exporter, the officers of the packing house's province and administrators check a consignment")
	}
	return s.recheck(ctx, c, h)
}

// PublicFlags implements registry.TraceService: a consignment's checks as things stand, for its
// public page (the flags name rules, codes, areas and lots: nothing personal).
func (s *TraceService) PublicFlags(ctx context.Context, ref string) (*registry.Consignment, error) {
	c, err := findConsignment(ctx, s.db.Pool, ref)
	if err != nil {
		return nil, err
	}
	h, err := loadHouse(ctx, s.db.Pool, c.PackingHouseID)
	if err != nil {
		return nil, err
	}
	return s.recheck(ctx, c, h)
}

// recheck runs a stored consignment's checks again.
func (s *TraceService) recheck(ctx context.Context, c *registry.Consignment, h *houseOf) (*registry.Consignment, error) {
	lots, err := consignmentLots(ctx, s.db.Pool, c.Lots)
	if err != nil {
		return nil, err
	}
	flags, err := s.consignmentFlags(ctx, s.db.Pool, c, h, lots)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, l := range lots {
		ids = append(ids, l.PlotIDs...)
	}
	rf, err := s.riskFlags(ctx, ids)
	if err != nil {
		return nil, err
	}
	c.Flags = mergeFlags(flags, rf...)
	return c, nil
}

// scopeWhere restricts a report to what the caller may see: an officer's provinces, an
// exporter's own consignments (column exporter), a cooperative's own lots (column registrant).
func scopeWhere(a registry.Actor, alias, owner string, arg func(any) string) (string, error) {
	switch a.Role {
	case registry.RoleAdmin:
		return "true", nil
	case registry.RoleOfficer:
		return jurisdictionSQL(a, alias+".province_code", "NULL", arg), nil
	case registry.RoleExporter, registry.RoleCooperative:
		if a.ProducerID == nil || owner == "" {
			return "false", nil
		}
		return alias + "." + owner + " = " + arg(*a.ProducerID), nil
	}
	return "", registry.Errorf(registry.EFORBIDDEN, "sign in to see lots and consignments")
}

// FindConsignments implements registry.TraceService, with each consignment's checks as things
// stand today.
func (s *TraceService) FindConsignments(ctx context.Context, f registry.TraceFilter) ([]*registry.Consignment, error) {
	a, _ := registry.ActorFromContext(ctx)
	args := []any{}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	scope, err := scopeWhere(a, "c", "exporter_id", arg)
	if err != nil {
		return nil, err
	}
	where := []string{scope}
	if f.ProvinceCode != "" {
		where = append(where, "c.province_code = "+arg(f.ProvinceCode))
	}
	if f.Market != "" {
		where = append(where, "c.market = "+arg(strings.ToUpper(f.Market)))
	}
	if f.Since != nil {
		where = append(where, "c.created_at >= "+arg(*f.Since))
	}
	if f.Until != nil {
		where = append(where, "c.created_at < "+arg(*f.Until))
	}
	limit := pageLimit(f.Limit, 200)
	rows, err := s.db.Pool.Query(ctx, `SELECT `+consignmentColumns+consignmentFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY c.created_at DESC LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, err
	}
	var out []*registry.Consignment
	for rows.Next() {
		c, err := scanConsignment(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, c := range out {
		h, err := loadHouse(ctx, s.db.Pool, c.PackingHouseID)
		if err != nil {
			return nil, err
		}
		lots, err := consignmentLots(ctx, s.db.Pool, c.Lots)
		if err != nil {
			return nil, err
		}
		if c.Flags, err = s.consignmentFlags(ctx, s.db.Pool, c, h, lots); err != nil {
			return nil, err
		}
		if (f.FlaggedOnly && len(c.Flags) == 0) || (f.Rule != "" && !registry.HasRule(c.Flags, f.Rule)) {
			continue
		}
		kept = append(kept, c)
	}
	return kept, nil
}

// FindLots implements registry.TraceService, with each lot's code and yield checked again.
func (s *TraceService) FindLots(ctx context.Context, f registry.TraceFilter) ([]*registry.HarvestLot, error) {
	a, _ := registry.ActorFromContext(ctx)
	args := []any{}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	scope, err := scopeWhere(a, "l", "registrant_id", arg)
	if err != nil {
		return nil, err
	}
	where := []string{scope}
	if f.ProvinceCode != "" {
		where = append(where, "l.province_code = "+arg(f.ProvinceCode))
	}
	if f.Market != "" {
		where = append(where, "l.market = "+arg(strings.ToUpper(f.Market)))
	}
	if f.Since != nil {
		where = append(where, "l.created_at >= "+arg(*f.Since))
	}
	if f.Until != nil {
		where = append(where, "l.created_at < "+arg(*f.Until))
	}
	limit := pageLimit(f.Limit, 200)
	rows, err := s.db.Pool.Query(ctx, `SELECT `+lotColumns+lotFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY l.created_at DESC LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, err
	}
	var out []*registry.HarvestLot
	for rows.Next() {
		l, err := scanLot(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, l := range out {
		var codeID int64
		if err := s.db.Pool.QueryRow(ctx, `SELECT market_code_id FROM harvest_lot WHERE id = $1`, l.ID).Scan(&codeID); err != nil {
			return nil, err
		}
		hist, err := codeHistory(ctx, s.db.Pool, codeID)
		if err != nil {
			return nil, err
		}
		if fl := inactiveFlag(hist, l.Market, l.HarvestedFrom, l.HarvestedTo); fl != nil {
			l.Flags = mergeFlags(l.Flags, *fl)
		}
		area, err := loadArea(ctx, s.db.Pool, l.GrowingAreaID)
		if err != nil {
			return nil, err
		}
		yf, err := s.yieldFlags(ctx, s.db.Pool, area, l.Crop, l.Season, l.Market)
		if err != nil {
			return nil, err
		}
		l.Flags = mergeFlags(l.Flags, yf...)
		if (f.FlaggedOnly && len(l.Flags) == 0) || (f.Rule != "" && !registry.HasRule(l.Flags, f.Rule)) {
			continue
		}
		kept = append(kept, l)
	}
	return kept, nil
}

// CheckCodes implements registry.TraceService: each line of a pasted list, valid for the market
// today or not, and why.
func (s *TraceService) CheckCodes(ctx context.Context, market string, codes []string) ([]registry.CodeCheck, error) {
	market = strings.ToUpper(strings.TrimSpace(market))
	if len(codes) > 500 {
		return nil, registry.Invalid([]registry.Detail{{Field: "codes", Message: "at most 500 codes at once"}})
	}
	today := s.db.now()
	out := make([]registry.CodeCheck, 0, len(codes))
	q := s.db.reader(ctx)
	for i, in := range codes {
		in = strings.TrimSpace(in)
		if in == "" {
			continue
		}
		cc := registry.CodeCheck{Line: i + 1, Input: in, Flags: []registry.Flag{}}
		var id int64
		var areaID, houseID *int64
		err := q.QueryRow(ctx, `SELECT id, code, market, growing_area_id, packing_house_id FROM market_code WHERE code_key = $1`, codeKey(in)).Scan(&id, &cc.Code, &cc.Market, &areaID, &houseID)
		if errors.Is(err, pgx.ErrNoRows) {
			cc.Flags = append(cc.Flags, flag("unknown_code", fmt.Sprintf("line %d: %q is not a registered code", i+1, in), "input", in))
			out = append(out, cc)
			continue
		} else if err != nil {
			return nil, err
		}
		if market != "" && cc.Market != market {
			cc.Flags = append(cc.Flags, flag(registry.RuleMarket, fmt.Sprintf("%s is a code for %s, not %s", cc.Code, cc.Market, market), "code", cc.Code, "code_market", cc.Market, "market", market))
		}
		hist, err := codeHistory(ctx, q, id)
		if err != nil {
			return nil, err
		}
		if f := inactiveFlag(hist, cc.Market, today, today); f != nil {
			f.Message = strings.Replace(f.Message, "during the harvest "+dateOf(today)+" to "+dateOf(today), "today", 1)
			cc.Flags = append(cc.Flags, *f)
		}
		cc.Pass = len(cc.Flags) == 0
		out = append(out, cc)
	}
	return out, nil
}
