package postgres_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/registry/postgres/pgtest"
)

// Two plots over the same ground written at the same moment: one is stored, the other refused
// by the overlap rule, every time (neither may pass the rule before the other is there to see).
func TestConcurrentWritesCannotBothOverlap(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	for round := range 8 {
		dx := float64(round) * 0.01
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = svc.CreatePlot(testCtx(), &registry.Plot{Crop: "coffee", ProvinceCode: "66", Geometry: field(dx + 0.0004*float64(i))})
			}()
		}
		wg.Wait()
		stored, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				stored++
			case registry.ErrorCode(err) == registry.EINVALID && strings.Contains(registry.ErrorMessage(err), "the plot overlaps plot"):
				refused++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if stored != 1 || refused != 1 {
			t.Fatalf("round %d: %d stored and %d refused, want one of each", round, stored, refused)
		}
	}
}

// Snapping moves a vertex within the snap distance of a neighbour's vertex onto it exactly, and
// one within it of a neighbour's side onto the side; a vertex farther away stays where it was.
func TestSnapMovesVerticesOntoNeighbours(t *testing.T) {
	db := pgtest.New(t)
	svc := postgres.NewPlotService(db)
	ctx := testCtx()
	n := &registry.Plot{Crop: "coffee", ProvinceCode: "66", Geometry: orb.MultiPolygon{{{{108.05, 12.68}, {108.051, 12.68}, {108.051, 12.681}, {108.05, 12.681}, {108.05, 12.68}}}}}
	if err := svc.CreatePlot(ctx, n); err != nil {
		t.Fatal(err)
	}
	const mm = 1e-3 / 111320 // a millimetre north-south in degrees, a little less east-west
	tests := []struct {
		name        string
		drawn, want orb.Point // the first vertex of a triangle east of the neighbour
		others      [2]orb.Point
	}{
		{"5 mm from a corner", orb.Point{108.051 + 3*mm, 12.681 + 4*mm}, orb.Point{108.051, 12.681},
			[2]orb.Point{{108.0515, 12.6825}, {108.0525, 12.6818}}},
		{"5 mm inside, off the middle of a side", orb.Point{108.051 - 5*mm, 12.6805}, orb.Point{108.051, 12.6805},
			[2]orb.Point{{108.052, 12.6803}, {108.0523, 12.6812}}},
		{"2 cm from a side", orb.Point{108.051 + 20*mm, 12.6801}, orb.Point{108.051 + 20*mm, 12.6801},
			[2]orb.Point{{108.0518, 12.6795}, {108.0519, 12.68}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &registry.Plot{Crop: "coffee", ProvinceCode: "66", Geometry: orb.MultiPolygon{{{tt.drawn, tt.others[0], tt.others[1], tt.drawn}}}}
			if err := svc.CreatePlot(ctx, p); err != nil {
				t.Fatal(err)
			}
			ring := p.Geometry[0][0]
			if ring[0] != tt.want || ring[len(ring)-1] != tt.want {
				t.Errorf("vertex drawn at %v stored at %v, want %v", tt.drawn, ring[0], tt.want)
			}
		})
	}
}
