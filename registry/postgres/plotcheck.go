package postgres

import (
	"context"

	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
)

// CheckPlot finds what CreatePlot (editing 0) or UpdatePlot (editing the plot's id) would find
// for p, without writing anything: the same snap onto the neighbours, so the same geometry and
// area; every problem instead of the first; where the plot lies and whether the caller may write
// there; the overlaps with the live neighbours and, when one blocks, the plot without them. A
// missing crop is no problem here: the editor checks a boundary before its form is filled in.
func (s *PlotService) CheckPlot(ctx context.Context, p *registry.Plot, editing int64) (*registry.PlotCheck, error) {
	switch a, _ := registry.ActorFromContext(ctx); a.Role {
	case registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative:
	default:
		return nil, registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not check plots: checking is for those who draw them", cmpOr(a.Role, "public"))
	}
	p.Normalize()
	if len(p.Geometry) == 0 {
		return nil, registry.Invalid([]registry.Detail{{Field: "geometry", Message: "geometry is missing: a plot needs a Polygon or MultiPolygon geometry"}})
	}
	// The writer's view (never a replica behind it), on one connection for the whole check:
	// a dozen statements, each of which would otherwise go back to the pool and out again.
	conn, err := s.db.Pool.Acquire(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	defer conn.Release()
	q := conn
	c := &registry.PlotCheck{Problems: []registry.Detail{}, Overlaps: []registry.PlotOverlap{}, MayWrite: true}
	problem := func(err error) error {
		if registry.ErrorCode(err) != registry.EINVALID {
			return err
		}
		d := registry.Detail{Message: registry.ErrorMessage(err)}
		if ds := registry.ErrorDetails(err); len(ds) > 0 {
			d.Field, d.Location, d.Code, d.Args = ds[0].Field, ds[0].Location, ds[0].Code, ds[0].Args
		}
		c.Problems = append(c.Problems, d)
		return nil
	}
	var before *registry.Plot
	var beforePlace registry.Place
	var skip []int64
	if editing != 0 {
		b, place, err := findPlot(ctx, q, editing)
		if err != nil {
			return nil, err
		}
		if err := visible(ctx, b, place); err != nil {
			return nil, err
		}
		before, beforePlace, skip = b, place, []int64{editing}
	}

	// The geometry: the rules of package geo, the snap a write makes, validity and area.
	inVietnam := true
	for _, pr := range geo.CheckMultiPolygon(p.Geometry, s.Limits, true) {
		d := registry.Detail{Field: "geometry", Message: pr.Message, Code: pr.Code, Args: pr.Args}
		if pr.Path != "" {
			d.Field = "geometry." + pr.Path
		}
		if pr.Location != nil {
			d.Location = []float64{pr.Location[0], pr.Location[1]}
		}
		c.Problems = append(c.Problems, d)
		inVietnam = false
	}
	moved := before == nil || !before.Geometry.Equal(p.Geometry)
	if moved && inVietnam {
		snapped, err := snapPlot(ctx, q, p.Geometry, s.Neighbours, skip)
		if err != nil {
			return nil, err
		}
		p.Geometry = snapped
	}
	c.Geometry = p.Geometry
	gc, err := checkGeometry(ctx, q, p.Geometry, s.Limits, true)
	if err != nil {
		return nil, err
	}
	c.AreaHa = gc.areaHa
	for _, pr := range gc.problems {
		d := pr.detail
		d.Message = pr.message
		c.Problems = append(c.Problems, d)
	}
	c.Valid = len(c.Problems) == 0

	// The properties a write resolves: crop, producer, place.
	if p.Crop != "" {
		code, err := resolveCrop(ctx, q, p.Crop)
		if err := problem(err); err != nil {
			return nil, err
		}
		p.Crop = cmpOr(code, p.Crop)
	}
	coop, err := producerCooperative(ctx, q, p)
	if err := problem(err); err != nil {
		return nil, err
	}
	if np := p.NewProducer; np != nil {
		// A household registered with the plot: a member of the writing cooperative, as
		// insertNewHousehold makes it.
		coop = np.CooperativeID
		if a, _ := registry.ActorFromContext(ctx); a.Role == registry.RoleCooperative && coop == nil {
			coop = a.ProducerID
		}
	}
	fallback := ""
	if before != nil {
		fallback = editFallback(before, p, moved)
	}
	var names unitNames
	if fallback != keepPlace && gc.valid && inVietnam {
		if names, err = s.placePlot(ctx, q, p, fallback); problem(err) != nil {
			return nil, err
		}
	}
	place := plotPlace(p, coop)
	if before != nil {
		keepCommune(before, p, fallback, &place)
	}
	c.ProvinceCode, c.CommuneCode = p.ProvinceCode, p.CommuneCode
	if (names.province == "" && c.ProvinceCode != "") || (names.commune == "" && c.CommuneCode != "") {
		if err := q.QueryRow(ctx, `SELECT COALESCE((SELECT name FROM province WHERE scheme = 2025 AND code = $1), ''),
		                                  COALESCE((SELECT name FROM commune WHERE scheme = 2025 AND code = $2), '')`,
			c.ProvinceCode, c.CommuneCode).Scan(&names.province, &names.commune); err != nil {
			return nil, err
		}
	}
	c.ProvinceName, c.CommuneName = names.province, names.commune

	// Jurisdiction, in the words of the write's refusal: where the plot is, then where it goes.
	refuse := func(err error) error {
		if registry.ErrorCode(err) != registry.EFORBIDDEN {
			return err
		}
		if c.MayWrite {
			c.MayWrite, c.Refusal = false, registry.ErrorMessage(err)
		}
		return nil
	}
	if before != nil {
		if err := refuse(mayWritePlot(ctx, beforePlace, "change this plot")); err != nil {
			return nil, err
		}
		if err := refuse(mayWritePlot(ctx, place, "move or give the plot")); err != nil {
			return nil, err
		}
	} else if err := refuse(mayWritePlot(ctx, place, "register a plot")); err != nil {
		return nil, err
	}

	// Overlaps with the live neighbours (of a geometry valid enough to intersect), and the plot
	// without them when one blocks.
	blocks := false
	if c.Valid {
		if c.Overlaps, err = plotOverlaps(ctx, q, p.Geometry, c.AreaHa, s.Neighbours.OverlapTolerance, skip); err != nil {
			return nil, err
		}
		for _, o := range c.Overlaps {
			blocks = blocks || (o.Blocks && moved)
		}
	}
	if blocks {
		if c.Suggested, c.SuggestedAreaHa, err = suggestPlot(ctx, q, p.Geometry, overlapIDs(c.Overlaps), s.Neighbours, s.Limits); err != nil {
			return nil, err
		}
	}
	kept := blocks && p.OverlapReason != "" && mayKeepOverlaps(ctx, p.OverlapReason) == nil
	c.Blocked = len(c.Problems) > 0 || !c.MayWrite || (blocks && !kept)
	return c, nil
}
