package postgres

import (
	"context"
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
	rows, err := q.Query(ctx, `SELECT code, name_vi, name_en, perennial FROM crop ORDER BY name_vi`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registry.Crop
	for rows.Next() {
		var c registry.Crop
		if err := rows.Scan(&c.Code, &c.NameVI, &c.NameEN, &c.Perennial); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
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
