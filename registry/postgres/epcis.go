package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/compliance/epcis"
	"github.com/vungtrong/vungtrong/registry"
)

// EPCISService reads consignments' stories for their GS1 EPCIS export: the lots, their
// growing areas and codes, how many plots each came from, the packing houses and their codes,
// and the exporter's public name. It reads no person's name or number: an exporter recorded as
// a household is left out.
type EPCISService struct{ db *DB }

// NewEPCISService returns an EPCISService on db.
func NewEPCISService(db *DB) *EPCISService { return &EPCISService{db: db} }

const storyConsignment = `
	SELECT c.public_code, c.market, c.net_kg::float8, coalesce(c.container_no, ''), coalesce(c.declaration_no, ''),
	       coalesce(c.destination, ''), c.shipped_on, c.created_at, c.exporter_id, e.id, coalesce(e.name, ''),
	       h.id, h.name, h.province_code, coalesce(h.commune_code, ''), coalesce(m.code, ''), c.id
	FROM consignment c
	JOIN packing_house h ON h.id = c.packing_house_id
	LEFT JOIN market_code m ON m.id = c.packing_code_id
	-- Only an enterprise or a cooperative is named: a household's name is personal data.
	LEFT JOIN producer e ON e.id = c.exporter_id AND e.kind <> 'household'
	WHERE `

// storyLots are a consignment's lots, in harvest order. The code of the house that received a
// lot is its live code for the lot's market (one at most: market_code_house_market_key).
const storyLots = `
	SELECT l.public_code, l.crop, coalesce(cr.hs_heading, ''), l.season, l.harvested_from, l.harvested_to, l.quantity_kg::float8,
	       cl.quantity_kg::float8, m.code, l.market, g.id, g.name, l.province_code,
	       (SELECT count(*) FROM harvest_lot_plot p WHERE p.lot_id = l.id), l.created_at,
	       l.received_at, coalesce(l.received_kg, 0)::float8, rh.id, coalesce(rh.name, ''),
	       coalesce((SELECT rm.code FROM market_code rm WHERE rm.packing_house_id = rh.id AND rm.market = l.market AND rm.status <> 'revoked'), '')
	FROM consignment_lot cl
	JOIN harvest_lot l ON l.id = cl.lot_id
	JOIN market_code m ON m.id = l.market_code_id
	JOIN growing_area g ON g.id = l.growing_area_id
	JOIN crop cr ON cr.code = l.crop
	LEFT JOIN packing_house rh ON rh.id = l.packing_house_id
	WHERE cl.consignment_id = $1
	ORDER BY l.harvested_to, l.public_code`

// ConsignmentStory returns what the EPCIS events of a consignment (by id or public code) tell.
// Its exporter, the officers whose jurisdiction holds its packing house, and administrators
// may read it. Returns ENOTFOUND or EFORBIDDEN.
func (s *EPCISService) ConsignmentStory(ctx context.Context, ref string) (*epcis.Story, error) {
	q := s.db.reader(ctx)
	where, arg := refWhere("c", ref)
	st := &epcis.Story{}
	c := &st.Consignment
	var exporterID, partyID *int64
	var partyName, province, commune string
	var id int64
	err := q.QueryRow(ctx, storyConsignment+where, arg).Scan(&c.PublicCode, &c.Market, &c.NetKg, &c.ContainerNo, &c.DeclarationNo,
		&c.Destination, &c.ShippedOn, &c.CreatedAt, &exporterID, &partyID, &partyName,
		&c.PackingHouse.ID, &c.PackingHouse.Name, &province, &commune, &c.PackingHouse.Code, &id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "no consignment %s", ref)
	} else if err != nil {
		return nil, err
	}
	a, _ := registry.ActorFromContext(ctx)
	if !(a.Role == registry.RoleAdmin || (a.Role == registry.RoleOfficer && a.InJurisdiction(province, commune)) ||
		(a.Role == registry.RoleExporter && a.ProducerID != nil && exporterID != nil && *a.ProducerID == *exporterID)) {
		return nil, registry.Errorf(registry.EFORBIDDEN, "only its exporter, the officers of its packing house's province and administrators read consignment %s's events", c.PublicCode)
	}
	if partyID != nil {
		c.Exporter = &epcis.Party{ID: *partyID, Name: partyName}
	}
	rows, err := q.Query(ctx, storyLots, id)
	defer rows.Close()
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var l epcis.Lot
		var receivedAt *time.Time
		var receivedKg float64
		var houseID *int64
		var houseName, houseCode string
		if err := rows.Scan(&l.PublicCode, &l.Crop, &l.HSHeading, &l.Season, &l.HarvestedFrom, &l.HarvestedTo, &l.QuantityKg,
			&l.ShippedKg, &l.Code, &l.Market, &l.GrowingAreaID, &l.GrowingAreaName, &l.ProvinceCode,
			&l.Plots, &l.CreatedAt, &receivedAt, &receivedKg, &houseID, &houseName, &houseCode); err != nil {
			return nil, err
		}
		if receivedAt != nil && houseID != nil {
			l.Received = &epcis.Receipt{At: *receivedAt, Kg: receivedKg, House: epcis.House{ID: *houseID, Name: houseName, Code: houseCode}}
		}
		st.Lots = append(st.Lots, l)
	}
	return st, rows.Err()
}
