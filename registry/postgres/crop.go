package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// CropService reads the crop list.
type CropService struct{ db *DB }

var _ registry.CropService = (*CropService)(nil)

// NewCropService returns a CropService on db.
func NewCropService(db *DB) *CropService { return &CropService{db: db} }

// ListCrops returns every crop, by Vietnamese name.
func (s *CropService) ListCrops(ctx context.Context) ([]registry.Crop, error) {
	return listCrops(ctx, s.db.reader(ctx))
}

func listCrops(ctx context.Context, q querier) ([]registry.Crop, error) {
	rows, err := q.Query(ctx, `SELECT `+cropColumns+` FROM crop ORDER BY name_vi`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return pgx.CollectRows(rows, scanCrop)
}

const cropColumns = `code, name_vi, name_en, perennial, yield_cap_t_ha::float8, harvest_months::int[], coalesce(hs_heading, ''), eudr, min_area_ha`

func scanCrop(row pgx.CollectableRow) (registry.Crop, error) {
	var c registry.Crop
	err := row.Scan(&c.Code, &c.NameVI, &c.NameEN, &c.Perennial, &c.YieldCapTHa, &c.HarvestMonths, &c.HSHeading, &c.EUDR, &c.MinAreaHa)
	return c, err
}

// SetCropRules changes a crop's yield cap or harvest months (the crop named by code or name),
// recorded in the audit log. Months must be 1-12, each once; a cap must be at most 1,000 t/ha.
func (s *CropService) SetCropRules(ctx context.Context, crop string, r registry.CropRules) (*registry.Crop, error) {
	var details []registry.Detail
	if r.YieldCapTHa != nil && (*r.YieldCapTHa < 0 || *r.YieldCapTHa > 1000 || *r.YieldCapTHa != *r.YieldCapTHa) {
		details = append(details, registry.Detail{Field: "yield_cap_t_ha", Message: fmt.Sprintf("%v t/ha: give a yield cap in tonnes a hectare a season, above 0 and at most 1000 (0 removes the cap)", *r.YieldCapTHa)})
	}
	if r.MinAreaHa != nil && (*r.MinAreaHa < 0 || *r.MinAreaHa > 10000 || *r.MinAreaHa != *r.MinAreaHa) {
		details = append(details, registry.Detail{Field: "min_area_ha", Message: fmt.Sprintf("%v ha: give the smallest growing area in hectares, from 0 to 10000", *r.MinAreaHa)})
	}
	seen := map[int]bool{}
	for _, m := range r.HarvestMonths {
		if m < 1 || m > 12 || seen[m] {
			details = append(details, registry.Detail{Field: "harvest_months", Message: fmt.Sprintf("month %d: give each month of the harvest once, 1 to 12", m)})
		}
		seen[m] = true
	}
	if len(details) > 0 {
		return nil, &registry.Error{Code: registry.EINVALID, Message: "the crop's rules are not valid: " + details[0].Message, Details: details}
	}
	var out *registry.Crop
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		code, err := resolveCrop(ctx, tx, crop)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+cropColumns+` FROM crop WHERE code = $1 FOR UPDATE`, code)
		if err != nil {
			return err
		}
		before, err := pgx.CollectExactlyOneRow(rows, scanCrop)
		if err != nil {
			return err
		}
		var capTHa *float64
		if r.YieldCapTHa != nil && *r.YieldCapTHa > 0 {
			capTHa = r.YieldCapTHa
		}
		var months []int16
		for _, m := range r.HarvestMonths {
			months = append(months, int16(m))
		}
		rows, err = tx.Query(ctx, `UPDATE crop SET
			    yield_cap_t_ha = CASE WHEN $2 THEN $3::numeric ELSE yield_cap_t_ha END,
			    harvest_months = CASE WHEN $4 THEN coalesce($5::smallint[], '{}') ELSE harvest_months END,
			    min_area_ha = coalesce($6::float8, min_area_ha)
			WHERE code = $1 RETURNING `+cropColumns,
			code, r.YieldCapTHa != nil, capTHa, r.HarvestMonths != nil, months, r.MinAreaHa)
		if err != nil {
			return err
		}
		after, err := pgx.CollectExactlyOneRow(rows, scanCrop)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(before)
		a, _ := json.Marshal(after)
		out = &after
		return audit(ctx, tx, auditEntry{Action: "crop.update", ObjectType: "crop", Before: b, After: a})
	})
	return out, err
}

// resolveCrop returns the code of the crop named by input: its code, its Vietnamese or English
// name, in any case, with or without diacritics. Returns EINVALID naming the known crops.
func resolveCrop(ctx context.Context, q querier, input string) (string, error) {
	var code string
	err := q.QueryRow(ctx, `SELECT code FROM crop WHERE code = lower($1) OR fold_key = $2 OR lower(name_en) = lower($1) LIMIT 1`,
		input, vntext.Fold(input)).Scan(&code)
	if errors.Is(err, pgx.ErrNoRows) {
		crops, lerr := listCrops(ctx, q)
		if lerr != nil {
			return "", lerr
		}
		names := make([]string, len(crops))
		for i, c := range crops {
			names[i] = c.NameVI + " (" + c.Code + ")"
		}
		return "", &registry.Error{Code: registry.EINVALID,
			Message: fmt.Sprintf("unknown crop %q: use one of %s", input, strings.Join(names, ", ")),
			Details: []registry.Detail{{Field: "properties.crop", Message: "unknown crop"}}}
	}
	return code, err
}
