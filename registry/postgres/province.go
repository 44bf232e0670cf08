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

// ProvinceRef is a province named by a user, with the provinces of the 2004 list it was formed
// from (itself, for a province of the 2004 list): what VN-2000 zones are chosen by.
type ProvinceRef struct {
	// Code and Name are of the 2025 list; empty when the name is of a 2004 province only.
	Code, Name string
	// OldCodes are the 2004-list provinces it covers.
	OldCodes []string
}

// ResolveProvince finds a province by its GSO code or name, of the 2025 list first, else of
// the 2004 list (whose province it now lies in is then looked up too).
func (db *DB) ResolveProvince(ctx context.Context, q string) (ProvinceRef, error) {
	q = vntext.Clean(q)
	folded := vntext.Fold(q)
	for _, prefix := range []string{"tinh ", "thanh pho "} {
		folded = strings.TrimPrefix(folded, prefix)
	}
	var ref ProvinceRef
	err := db.Pool.QueryRow(ctx, `
		SELECT code, name FROM province
		WHERE scheme = 2025 AND (code = $1 OR regexp_replace(fold(name), '^(tinh|thanh pho) ', '') = $2)`, q, folded).Scan(&ref.Code, &ref.Name)
	switch {
	case err == nil:
		rows, err := db.Pool.Query(ctx, `SELECT old_code FROM admin_unit_merge WHERE level = 'province' AND new_code = $1 ORDER BY old_code`, ref.Code)
		if err != nil {
			return ref, err
		}
		ref.OldCodes, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return ref, err
		}
		if len(ref.OldCodes) == 0 {
			ref.OldCodes = []string{ref.Code}
		}
		return ref, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return ref, err
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT DISTINCT m.old_code, m.new_code, p.name FROM admin_unit_merge m JOIN province p ON p.scheme = 2025 AND p.code = m.new_code
		WHERE m.level = 'province' AND (m.old_code = $1 OR regexp_replace(fold(m.old_name), '^(tinh|thanh pho) ', '') = $2)`, q, folded)
	if err != nil {
		return ref, err
	}
	defer rows.Close()
	for rows.Next() {
		var old, code, name string
		if err := rows.Scan(&old, &code, &name); err != nil {
			return ref, err
		}
		ref.OldCodes = []string{old}
		ref.Code, ref.Name = code, name
	}
	if err := rows.Err(); err != nil {
		return ref, err
	}
	if len(ref.OldCodes) == 0 {
		return ref, registry.Errorf(registry.EINVALID, "no province has the code or name %q: use a GSO code such as 66 (Đắk Lắk) or the name", q)
	}
	return ref, nil
}

// String describes the reference.
func (p ProvinceRef) String() string {
	return fmt.Sprintf("%s %s", p.Code, p.Name)
}

// RegisterProj4 returns the SRID of a coordinate system given as a PROJ string, registering it
// in spatial_ref_sys (SRIDs 980000-989999) when no registered one has the same text.
func (db *DB) RegisterProj4(ctx context.Context, proj4 string) (int, error) {
	var srid int
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('vungtrong.spatial_ref_sys'))`); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT srid FROM spatial_ref_sys WHERE trim(proj4text) = trim($1) ORDER BY srid LIMIT 1`, proj4).Scan(&srid)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(srid) + 1, 980000) FROM spatial_ref_sys WHERE srid BETWEEN 980000 AND 989999`).Scan(&srid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO spatial_ref_sys (srid, proj4text) VALUES ($1, $2)`, srid, proj4); err != nil {
			return err
		}
		// A PROJ string PROJ cannot read is refused here, not in the middle of an import.
		if _, err := tx.Exec(ctx, `SELECT ST_Transform(ST_SetSRID(ST_MakePoint(0, 0), $1), 4326)`, srid); err != nil {
			return registry.Errorf(registry.EINVALID, "--srs: PROJ cannot use %q: %s", proj4, pgMessage(err))
		}
		return nil
	})
	return srid, err
}
