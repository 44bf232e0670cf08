package tiles

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
)

func TestParse(t *testing.T) {
	good := []struct {
		z, x, y string
		want    ID
	}{{"0", "0", "0", ID{}}, {"14", "13104", "7634", ID{14, 13104, 7634}}, {"22", "4194303", "0", ID{22, 4194303, 0}}}
	for _, g := range good {
		got, err := Parse(g.z, g.x, g.y)
		if err != nil || got != g.want {
			t.Errorf("Parse(%s/%s/%s) = %v, %v", g.z, g.x, g.y, got, err)
		}
	}
	bad := []struct{ z, x, y, msg string }{
		{"23", "0", "0", "zoom 23 is outside 0 to 22"},
		{"-1", "0", "0", "outside"},
		{"a", "0", "0", `zoom "a" is not a whole number`},
		{"3", "8", "0", "x and y run from 0 to 7"},
		{"3", "0", "-1", "outside"},
		{"3", "0", "1.5", "not a whole number"},
	}
	for _, b := range bad {
		_, err := Parse(b.z, b.x, b.y)
		if !errors.Is(err, ErrBadTile) || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("Parse(%s/%s/%s) = %v, want %q", b.z, b.x, b.y, err, b.msg)
		}
	}
}

func TestGeometry(t *testing.T) {
	bmt := orb.Point{108.05, 12.68} // Buôn Ma Thuột
	tile := At(bmt, 14)
	if tile != (ID{14, 13109, 7610}) { // x = (lon+180)/360·2^z, y from the Mercator formula, worked by hand
		t.Errorf("At = %v", tile)
	}
	c := tile.Center()
	if math.Abs(c[0]-bmt[0]) > 0.03 || math.Abs(c[1]-bmt[1]) > 0.03 {
		t.Errorf("centre %v is not near %v", c, bmt)
	}
	b := ID{0, 0, 0}.Bound3857()
	if math.Abs(b.Min[0]+world) > 1e-6 || math.Abs(b.Max[1]-world) > 1e-6 {
		t.Errorf("world bound %v", b)
	}
	// A 100 m plot covers one tile at z14 and a few at z18; a margin reaches the neighbours.
	plot := orb.Bound{Min: orb.Point{108.0500, 12.6800}, Max: orb.Point{108.0509, 12.6809}}
	if r := Covering(plot, 12, 0); r.Count() != 1 {
		t.Errorf("z12 covering %+v", r)
	}
	if r := Covering(plot, 18, 0); r.Count() < 2 || r.Count() > 16 {
		t.Errorf("z18 covering %+v", r)
	}
	edge := ID{14, 13109, 7610}.Bound3857()
	x := edge.Min[0] + 1 // a metre inside the tile's west edge
	p := orb.Point{x * 180 / world, c[1]}
	if r := Covering(orb.Bound{Min: p, Max: p}, 14, 64); r.MinX != 13108 || r.MaxX != 13109 {
		t.Errorf("a point on the west edge with a margin covers x %d-%d, want 13108-13109", r.MinX, r.MaxX)
	}
}

func key(layer string, z, x, y int) Key { return Key{Layer: layer, ID: ID{z, x, y}} }

func TestCacheInvalidatesExactlyWhatAChangeTouches(t *testing.T) {
	c := NewCache(64 << 20)
	e := NewEntry([]byte("tile"))
	plot := orb.Bound{Min: orb.Point{108.0500, 12.6800}, Max: orb.Point{108.0509, 12.6809}}
	far := orb.Point{106.7, 10.8} // Hồ Chí Minh City
	// Fill the cache with the tiles over the plot and over a far place, at every zoom of
	// every layer.
	var near, away []Key
	for _, l := range Layers {
		for z := l.MinZoom; z <= l.MaxZoom; z++ {
			for _, id := range []ID{At(plot.Center(), z), At(far, z)} {
				k := Key{Layer: l.Name, ID: id}
				if !c.Put(k, e, c.Generation()) {
					t.Fatal("put refused")
				}
				if id == At(plot.Center(), z) {
					near = append(near, k)
				} else {
					away = append(away, k)
				}
			}
		}
	}
	removed := c.Invalidate("plot", plot)
	for _, k := range near {
		_, cached := c.Get(k)
		l, _ := LayerByName(k.Layer)
		if cached == l.affectedBy("plot") {
			t.Errorf("%s %v: cached %v after a plot change there", k.Layer, k.ID, cached)
		}
	}
	for _, k := range away {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s %v far away was forgotten", k.Layer, k.ID)
		}
	}
	want := 0
	for _, l := range Layers {
		if l.affectedBy("plot") {
			want += l.MaxZoom - l.MinZoom + 1
		}
	}
	if removed != want {
		t.Errorf("removed %d tiles, want %d (one per zoom of plots, plot_density and growing_areas)", removed, want)
	}
}

func TestCacheInvalidatesLargeAreasByScanning(t *testing.T) {
	c := NewCache(64 << 20)
	e := NewEntry([]byte("tile"))
	area := orb.Bound{Min: orb.Point{107.9, 12.5}, Max: orb.Point{108.4, 12.9}} // a whole district
	inside := At(orb.Point{108.1, 12.7}, 16)
	outside := At(orb.Point{108.6, 12.7}, 16)
	c.Put(key("growing_areas", 16, inside.X, inside.Y), e, c.Generation())
	c.Put(key("growing_areas", 16, outside.X, outside.Y), e, c.Generation())
	if r := Covering(area, 16, 64); r.Count() <= directLimit {
		t.Fatalf("the test needs a range over %d tiles, got %d", directLimit, r.Count())
	}
	if n := c.Invalidate("growing_area", area); n != 1 {
		t.Errorf("removed %d, want 1", n)
	}
	if _, ok := c.Get(key("growing_areas", 16, outside.X, outside.Y)); !ok {
		t.Error("the tile outside the area was forgotten")
	}
}

func TestCacheRefusesTilesReadBeforeAnInvalidation(t *testing.T) {
	c := NewCache(1 << 20)
	e := NewEntry([]byte("old"))
	plot := orb.Bound{Min: orb.Point{108.05, 12.68}, Max: orb.Point{108.051, 12.681}}
	k := Key{Layer: "plots", ID: At(plot.Center(), 14)}
	other := Key{Layer: "plots", ID: At(orb.Point{106.7, 10.8}, 14)}
	gen := c.Generation() // a request starts reading the tile ...
	c.Invalidate("plot", plot)
	if c.Put(k, e, gen) { // ... and finishes after the change: its data may be old
		t.Error("a tile read before the change was stored")
	}
	if !c.Put(other, e, gen) {
		t.Error("a tile elsewhere was refused")
	}
	if !c.Put(k, e, c.Generation()) {
		t.Error("a tile read after the change was refused")
	}
	gen = c.Generation()
	c.Flush()
	if c.Put(other, e, gen) {
		t.Error("a tile read before a flush was stored")
	}
}

func TestCacheStaysWithinItsBudget(t *testing.T) {
	budget := int64(shardCount * 3 * (9 << 10)) // room for about 3 tiles of 8 KB a shard
	c := NewCache(budget)
	big := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32()) // incompressible, like a tile's varints
	}
	e := NewEntry(big[:8<<10])
	for i := range 1000 {
		c.Put(key("plots", 14, i, 0), e, c.Generation())
	}
	st := c.Stats()
	if st.Bytes > budget || st.Entries == 0 || st.Evictions == 0 {
		t.Errorf("stats %+v with a budget of %d", st, budget)
	}
	// The most recently used survive.
	if _, ok := c.Get(key("plots", 14, 999, 0)); !ok {
		t.Error("the newest tile was evicted")
	}
	if c.Put(key("plots", 14, 5000, 0), NewEntry(big), c.Generation()) {
		t.Error("a tile larger than a shard's budget was stored")
	}
	if NewCache(0).Put(key("plots", 1, 0, 0), e, 0) {
		t.Error("a disabled cache stored a tile")
	}
}

func TestFreshEntriesCompressOnlyBigTiles(t *testing.T) {
	small := []byte(strings.Repeat("vung trong ", 100))
	big := []byte(strings.Repeat("vung trong ", 5000))
	if e := Fresh(small); e.Gzip != nil || string(e.Tile()) != string(small) {
		t.Error("a small fresh tile was compressed")
	}
	if e := Fresh(big); e.Gzip == nil || string(e.Tile()) != string(big) {
		t.Error("a big fresh tile was not compressed")
	}
	c := Fresh(small).Compressed()
	if c.Raw != nil || c.Gzip == nil || string(c.Tile()) != string(small) || c.ETag != Fresh(small).ETag {
		t.Error("the cached form must be gzip only, with the same ETag")
	}
	if e := Fresh(nil).Compressed(); e.Size != 0 || e.Gzip != nil {
		t.Error("an empty tile has no body")
	}
}

func TestEntry(t *testing.T) {
	tile := []byte(strings.Repeat("vung trong ", 100))
	e := NewEntry(tile)
	if string(e.Tile()) != string(tile) || len(e.Gzip) >= len(tile) || e.Size != len(tile) {
		t.Errorf("entry %d bytes gzipped of %d", len(e.Gzip), e.Size)
	}
	if NewEntry(tile).ETag != e.ETag || NewEntry([]byte("other")).ETag == e.ETag {
		t.Error("ETags must follow the content")
	}
	if empty := NewEntry(nil); empty.Gzip != nil || empty.Tile() != nil {
		t.Error("an empty tile has no body")
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	c := NewCache(1 << 20)
	e := NewEntry([]byte("tile"))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := key("plots", 14, (g*2000+i)%300, 1)
				if _, ok := c.Get(k); !ok {
					c.Put(k, e, c.Generation())
				}
				if i%500 == 0 {
					c.Invalidate("plot", orb.Bound{Min: orb.Point{108, 12}, Max: orb.Point{108.01, 12.01}})
				}
			}
		}()
	}
	wg.Wait()
	if st := c.Stats(); st.Hits+st.Misses != 16000 {
		t.Errorf("stats %+v", st)
	}
}

func TestLayersAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range Layers {
		if seen[l.Name] || l.MinZoom > l.MaxZoom || l.MaxZoom > MaxZoom || len(l.Fields) == 0 || len(l.ChangedBy) == 0 {
			t.Errorf("layer %+v", l)
		}
		seen[l.Name] = true
		tj := l.TileJSON("http://x", "", [3]float64{})
		if tj.TileJSON != "3.0.0" || tj.Tiles[0] != fmt.Sprintf("http://x/tiles/%s/{z}/{x}/{y}.mvt", l.Name) {
			t.Errorf("TileJSON %+v", tj)
		}
	}
}
