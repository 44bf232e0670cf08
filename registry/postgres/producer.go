package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// ProducerService stores producers.
type ProducerService struct {
	db *DB
	// MaxPageSize caps FindProducers pages.
	MaxPageSize int
}

var _ registry.ProducerService = (*ProducerService)(nil)

// NewProducerService returns a ProducerService on db.
func NewProducerService(db *DB) *ProducerService {
	return &ProducerService{db: db, MaxPageSize: 1000}
}

const producerColumns = `id, kind, name, COALESCE(citizen_id, ''), COALESCE(tax_code, ''), COALESCE(phone, ''),
	COALESCE(address, ''), cooperative_id, COALESCE(province_code, ''), COALESCE(commune_code, ''),
	source, COALESCE(external_id, ''), version, created_at, updated_at, created_by, updated_by`

func scanProducer(row scanner) (*registry.Producer, error) {
	var p registry.Producer
	err := row.Scan(&p.ID, &p.Kind, &p.Name, &p.CitizenID, &p.TaxCode, &p.Phone, &p.Address, &p.CooperativeID,
		&p.ProvinceCode, &p.CommuneCode, &p.Source, &p.ExternalID, &p.Version, &p.CreatedAt, &p.UpdatedAt,
		&p.CreatedBy, &p.UpdatedBy)
	return &p, err
}

// producerPlace is where a producer is and whom it belongs to (itself), for authorization.
func producerPlace(p *registry.Producer) registry.Place {
	id := p.ID
	return registry.Place{ProvinceCode: p.ProvinceCode, CommuneCode: p.CommuneCode, OwnerID: &id, OwnerCooperativeID: p.CooperativeID}
}

// findProducer reads a live producer without authorization.
func findProducer(ctx context.Context, q querier, id int64) (*registry.Producer, error) {
	p, err := scanProducer(q.QueryRow(ctx, `SELECT `+producerColumns+` FROM producer WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "producer %d not found", id)
	}
	return p, err
}

// visibleProducer applies the read rule: ENOTFOUND, the public view, or all of it.
func visibleProducer(ctx context.Context, p *registry.Producer) (*registry.Producer, error) {
	actor, _ := registry.ActorFromContext(ctx)
	switch registry.ProducerAccess(actor, producerPlace(p)) {
	case registry.AccessNone:
		return nil, registry.Errorf(registry.ENOTFOUND, "producer %d not found", p.ID)
	case registry.AccessPublic:
		return p.Public(), nil
	}
	return p, nil
}

// FindProducerByID returns a live producer as the caller may see it: ENOTFOUND when it may not
// see it at all, the public view without personal data when it may not see those.
func (s *ProducerService) FindProducerByID(ctx context.Context, id int64) (*registry.Producer, error) {
	p, err := findProducer(ctx, s.db.reader(ctx), id)
	if err != nil {
		return nil, err
	}
	return visibleProducer(ctx, p)
}

// FindProducers returns one page of live producers in id order.
func (s *ProducerService) FindProducers(ctx context.Context, f registry.ProducerFilter) (*registry.ProducerPage, error) {
	limit := pageLimit(f.Limit, s.MaxPageSize)
	where := []string{"deleted_at IS NULL", "id > $1"}
	args := []any{f.After}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if actor, _ := registry.ActorFromContext(ctx); actor.Role == registry.RoleFarmer {
		if actor.ProducerID == nil {
			where = append(where, "false")
		} else {
			where = append(where, "id = "+arg(*actor.ProducerID))
		}
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.ProvinceCode != "" {
		where = append(where, "province_code = "+arg(f.ProvinceCode))
	}
	if f.CommuneCode != "" {
		where = append(where, "commune_code = "+arg(f.CommuneCode))
	}
	if f.CooperativeID != 0 {
		where = append(where, "cooperative_id = "+arg(f.CooperativeID))
	}
	var search *producerSearch
	if strings.TrimSpace(f.Q) != "" {
		search = newProducerSearch(f.Q)
		actor, _ := registry.ActorFromContext(ctx)
		where = append(where, search.where(actor, arg))
	}
	rows, err := s.db.reader(ctx).Query(ctx, `SELECT `+producerColumns+` FROM producer WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT `+arg(limit+1), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &registry.ProducerPage{}
	for rows.Next() {
		p, err := scanProducer(rows)
		if err != nil {
			return nil, err
		}
		// A search must not find a producer through what the caller may not see: the SQL
		// matches personal data only where the caller sees it, and this says so again in the
		// words of the access rule itself.
		if search != nil && !search.matchesVisible(ctx, p) {
			continue
		}
		if p, err = visibleProducer(ctx, p); err == nil {
			page.Producers = append(page.Producers, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Producers) > limit {
		page.Producers = page.Producers[:limit]
		page.Next = page.Producers[limit-1].ID
	}
	return page, nil
}

// CreateProducer validates and stores p with its audit record.
func (s *ProducerService) CreateProducer(ctx context.Context, p *registry.Producer) error {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return err
	}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		if err := checkProducerRefs(ctx, tx, p); err != nil {
			return err
		}
		if err := mayWriteProducer(ctx, producerPlace(p), "register this producer"); err != nil {
			return err
		}
		return insertProducer(ctx, tx, p)
	})
	if registry.ErrorCode(err) == registry.EFORBIDDEN {
		s.db.auditRefusal(ctx, auditEntry{Action: "producer.create", Outcome: "denied", ObjectType: "producer", Province: p.ProvinceCode, Commune: p.CommuneCode, Reason: registry.ErrorMessage(err)})
	}
	return err
}

// mayWriteProducer returns EFORBIDDEN, saying why, unless the caller may change a producer at
// place.
func mayWriteProducer(ctx context.Context, place registry.Place, what string) error {
	return mayWrite(ctx, registry.ProducerAccess, place, what, "it is not your cooperative or one of its members")
}

// authorizeProducerWrite is the check of versionedWrite for producers.
func authorizeProducerWrite(ctx context.Context, id int64, what string) func(tx pgx.Tx) error {
	return func(tx pgx.Tx) error {
		b, err := findProducer(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := visibleProducer(ctx, b); err != nil {
			return err
		}
		return mayWriteProducer(ctx, producerPlace(b), what)
	}
}

// insertProducer stores a checked producer and its audit record in tx.
func insertProducer(ctx context.Context, tx pgx.Tx, p *registry.Producer) error {
	actor := actorName(ctx)
	err := tx.QueryRow(ctx, `
		INSERT INTO producer (kind, name, citizen_id, tax_code, phone, address, cooperative_id,
		                      province_code, commune_code, source, external_id, created_by, updated_by)
		VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), $7,
		        NULLIF($8, ''), NULLIF($9, ''), $10, NULLIF($11, ''), $12, $12)
		RETURNING id, version, created_at, updated_at`,
		p.Kind, p.Name, p.CitizenID, p.TaxCode, p.Phone, p.Address, p.CooperativeID, p.ProvinceCode,
		p.CommuneCode, p.Source, p.ExternalID, actor).Scan(&p.ID, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return mapProducerError(err)
	}
	p.CreatedBy, p.UpdatedBy = actor, actor
	after, err := rowJSON(ctx, tx, "producer", p.ID)
	if err != nil {
		return err
	}
	return audit(ctx, tx, auditEntry{Action: "producer.create", ObjectType: "producer", ObjectID: p.ID, Province: p.ProvinceCode, After: after})
}

// UpdateProducer replaces producer p.ID if its version is still ifVersion.
func (s *ProducerService) UpdateProducer(ctx context.Context, p *registry.Producer, ifVersion int) error {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return err
	}
	actor := actorName(ctx)
	return s.db.versionedWrite(ctx, "producer", "producer.update", p.ID, ifVersion, authorizeProducerWrite(ctx, p.ID, "change this producer"), func(tx pgx.Tx) (string, error) {
		if p.CooperativeID != nil && *p.CooperativeID == p.ID {
			return "", registry.Errorf(registry.EINVALID, "a producer cannot be its own cooperative")
		}
		if err := checkProducerRefs(ctx, tx, p); err != nil {
			return "", err
		}
		if err := mayWriteProducer(ctx, producerPlace(p), "move this producer there"); err != nil {
			return "", err
		}
		err := tx.QueryRow(ctx, `
			UPDATE producer SET kind = $2, name = $3, citizen_id = NULLIF($4, ''), tax_code = NULLIF($5, ''),
			       phone = NULLIF($6, ''), address = NULLIF($7, ''), cooperative_id = $8,
			       province_code = NULLIF($9, ''), commune_code = NULLIF($10, ''), source = $11,
			       external_id = NULLIF($12, ''), version = version + 1, updated_at = now(), updated_by = $13
			WHERE id = $1
			RETURNING version, created_at, updated_at, created_by`,
			p.ID, p.Kind, p.Name, p.CitizenID, p.TaxCode, p.Phone, p.Address, p.CooperativeID, p.ProvinceCode,
			p.CommuneCode, p.Source, p.ExternalID, actor).Scan(&p.Version, &p.CreatedAt, &p.UpdatedAt, &p.CreatedBy)
		if err != nil {
			return "", mapProducerError(err)
		}
		p.UpdatedBy = actor
		return p.ProvinceCode, nil
	})
}

// DeleteProducer marks producer id deleted if its version is still ifVersion and it has no
// live plots or members.
func (s *ProducerService) DeleteProducer(ctx context.Context, id int64, ifVersion int) error {
	return s.db.versionedWrite(ctx, "producer", "producer.delete", id, ifVersion, authorizeProducerWrite(ctx, id, "delete this producer"), func(tx pgx.Tx) (string, error) {
		var plots, members int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM plot WHERE producer_id = $1 AND deleted_at IS NULL),
		                                   (SELECT count(*) FROM producer WHERE cooperative_id = $1 AND deleted_at IS NULL)`, id).Scan(&plots, &members); err != nil {
			return "", err
		}
		if plots > 0 || members > 0 {
			return "", registry.Errorf(registry.ECONFLICT, "producer %d still has %d plots and %d members: move or delete them first", id, plots, members)
		}
		_, err := tx.Exec(ctx, `UPDATE producer SET deleted_at = now(), version = version + 1, updated_at = now(), updated_by = $2 WHERE id = $1`, id, actorName(ctx))
		return "", err
	})
}

// checkProducerRefs checks the producer's cooperative and commune, with messages that name them.
func checkProducerRefs(ctx context.Context, tx pgx.Tx, p *registry.Producer) error {
	if p.CooperativeID != nil {
		var kind string
		err := tx.QueryRow(ctx, `SELECT kind FROM producer WHERE id = $1 AND deleted_at IS NULL`, *p.CooperativeID).Scan(&kind)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && kind != registry.ProducerCooperative) {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("cooperative_id %d is not a cooperative", *p.CooperativeID),
				Details: []registry.Detail{{Field: "cooperative_id", Message: "no such cooperative"}}}
		} else if err != nil {
			return err
		}
	}
	if p.CommuneCode != "" {
		var province string
		err := tx.QueryRow(ctx, `SELECT province_code FROM commune WHERE scheme = 2025 AND code = $1`, p.CommuneCode).Scan(&province)
		if errors.Is(err, pgx.ErrNoRows) {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("commune %s is not a commune of the 2025 list", p.CommuneCode),
				Details: []registry.Detail{{Field: "commune_code", Message: "unknown commune code"}}}
		} else if err != nil {
			return err
		}
		if p.ProvinceCode != "" && p.ProvinceCode != province {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("commune %s is in province %s, not %s", p.CommuneCode, province, p.ProvinceCode),
				Details: []registry.Detail{{Field: "province_code", Message: "does not match the commune"}}}
		}
		p.ProvinceCode = province
	} else if p.ProvinceCode != "" {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM province WHERE scheme = 2025 AND code = $1)`, p.ProvinceCode).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("province %s is not a province of the 2025 list", p.ProvinceCode),
				Details: []registry.Detail{{Field: "province_code", Message: "unknown province code"}}}
		}
	}
	return nil
}

func mapProducerError(err error) error {
	err = mapError(err)
	var re *registry.Error
	if errors.As(err, &re) && re.Code == registry.ECONFLICT {
		// Never echo the citizen ID back: it is personal data.
		return registry.Errorf(registry.ECONFLICT, "a producer with this citizen ID or external id is already registered")
	}
	return err
}

// producerSearch is a producer search (ProducerFilter.Q): the text folded for names, and the
// digits of a citizen ID or phone number.
type producerSearch struct {
	key string // vntext.SearchKey of the text: what fold(name) is compared with
	// digits are the text's digits when it is a number (the start of a citizen ID), phone the
	// national digits of a phone number in it; both "" for text.
	digits, phone string
}

// newProducerSearch reads a search text.
func newProducerSearch(q string) *producerSearch {
	s := &producerSearch{key: vntext.SearchKey(q)}
	var digits strings.Builder
	number := true
	for _, r := range strings.TrimSpace(q) {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' || r == ' ' || r == '.' || r == '-':
		default:
			number = false
		}
	}
	if number && digits.Len() >= 4 {
		// A phone number is stored +84..., typed 09... or 84...: its national digits.
		s.digits = digits.String()
		s.phone = s.digits
		if strings.HasPrefix(s.phone, "84") && len(s.phone) >= 11 {
			s.phone = s.phone[2:]
		}
		s.phone = strings.TrimPrefix(s.phone, "0")
	}
	return s
}

// where is the search's SQL condition on producer: a cooperative's or enterprise's name for
// everyone; a household's name, and anyone's citizen ID or phone, only among the producers
// whose personal data the actor sees in full (ProducerAccess at AccessFull or more, written
// out in SQL so that the page is filled by the database). arg adds a parameter.
func (s *producerSearch) where(a registry.Actor, arg func(any) string) string {
	if s.key == "" && s.digits == "" {
		return "false" // nothing searchable, such as "%" or "_"
	}
	public := "false"
	if s.key != "" {
		public = "(kind <> 'household' AND fold(name) LIKE " + arg("%"+likeEscape(s.key)+"%") + ")"
	}
	var sees string
	switch a.Role {
	case registry.RoleAdmin:
		sees = "true"
	case registry.RoleOfficer:
		provinces, communes := make([]string, len(a.Jurisdictions)), make([]string, len(a.Jurisdictions))
		for i, j := range a.Jurisdictions {
			provinces[i], communes[i] = j.ProvinceCode, j.CommuneCode
		}
		sees = "EXISTS (SELECT 1 FROM unnest(" + arg(provinces) + "::text[], " + arg(communes) + "::text[]) j(p, c) WHERE province_code = j.p AND (j.c = '' OR commune_code = j.c))"
	case registry.RoleCooperative:
		if a.ProducerID != nil {
			sees = "(id = " + arg(*a.ProducerID) + " OR cooperative_id = " + arg(*a.ProducerID) + ")"
		}
	case registry.RoleFarmer, registry.RoleExporter:
		if a.ProducerID != nil {
			sees = "id = " + arg(*a.ProducerID)
		}
	}
	var personal []string
	if sees != "" && s.key != "" {
		personal = append(personal, "fold(name) LIKE "+arg("%"+likeEscape(s.key)+"%"))
	}
	if sees != "" && s.digits != "" {
		personal = append(personal, "citizen_id LIKE "+arg(likeEscape(s.digits)+"%"), "phone LIKE "+arg("%"+likeEscape(s.phone)+"%"))
	}
	if len(personal) == 0 {
		return public
	}
	return "(" + public + " OR (" + sees + " AND (" + strings.Join(personal, " OR ") + ")))"
}

// matchesVisible reports whether p, found by the search, matches it in what the caller sees of
// it: everything, or the public view (a cooperative's or enterprise's name).
func (s *producerSearch) matchesVisible(ctx context.Context, p *registry.Producer) bool {
	actor, _ := registry.ActorFromContext(ctx)
	if registry.ProducerAccess(actor, producerPlace(p)) >= registry.AccessFull {
		return true
	}
	return p.Kind != registry.ProducerHousehold && s.key != "" && strings.Contains(vntext.SearchKey(p.Name), s.key)
}
