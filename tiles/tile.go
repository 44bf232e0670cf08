// Package tiles holds what the vector tiles are, apart from where they come from: Web Mercator
// tile addressing, the layers with their whitelisted attributes and zoom ranges, TileJSON, and
// a memory-bounded cache that forgets exactly the tiles a change touches.
package tiles

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
)

// MaxZoom is the deepest zoom any layer may be asked for.
const MaxZoom = 22

// Extent is the size of a tile in MVT units.
const Extent = 4096

// ErrBadTile is wrapped by the errors of Parse.
var ErrBadTile = errors.New("tiles: bad tile address")

// ID is a tile of the Web Mercator (EPSG:3857) grid, y counted from the top (XYZ scheme).
type ID struct{ Z, X, Y int }

func (t ID) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

// Parse reads a tile address from its path parts. The error says what is wrong.
func Parse(z, x, y string) (ID, error) {
	var t ID
	for _, p := range []struct {
		name string
		s    string
		dst  *int
	}{{"zoom", z, &t.Z}, {"x", x, &t.X}, {"y", y, &t.Y}} {
		n, err := strconv.Atoi(p.s)
		if err != nil {
			return ID{}, fmt.Errorf("%w: %s %q is not a whole number", ErrBadTile, p.name, p.s)
		}
		*p.dst = n
	}
	if t.Z < 0 || t.Z > MaxZoom {
		return ID{}, fmt.Errorf("%w: zoom %d is outside 0 to %d", ErrBadTile, t.Z, MaxZoom)
	}
	n := 1 << t.Z
	if t.X < 0 || t.X >= n || t.Y < 0 || t.Y >= n {
		return ID{}, fmt.Errorf("%w: at zoom %d, x and y run from 0 to %d; %d/%d is outside", ErrBadTile, t.Z, n-1, t.X, t.Y)
	}
	return t, nil
}

// world is half the width of the Web Mercator square, in metres.
const world = 20037508.342789244

// Bound3857 returns the tile's extent in Web Mercator metres.
func (t ID) Bound3857() orb.Bound {
	size := 2 * world / float64(int(1)<<t.Z)
	minX := -world + float64(t.X)*size
	maxY := world - float64(t.Y)*size
	return orb.Bound{Min: orb.Point{minX, maxY - size}, Max: orb.Point{minX + size, maxY}}
}

// mercator projects a WGS 84 longitude/latitude to Web Mercator metres.
func mercator(p orb.Point) orb.Point {
	lat := math.Max(-85.05112878, math.Min(85.05112878, p[1]))
	return orb.Point{p[0] * world / 180, math.Log(math.Tan((90+lat)*math.Pi/360)) * world / math.Pi}
}

// Range is a block of tiles of one zoom, inclusive.
type Range struct {
	Z                      int
	MinX, MinY, MaxX, MaxY int
}

// Count is the number of tiles in the range.
func (r Range) Count() int { return (r.MaxX - r.MinX + 1) * (r.MaxY - r.MinY + 1) }

// Contains reports whether the range holds tile t.
func (r Range) Contains(t ID) bool {
	return t.Z == r.Z && t.X >= r.MinX && t.X <= r.MaxX && t.Y >= r.MinY && t.Y <= r.MaxY
}

// Covering returns the tiles of zoom z that a WGS 84 bound touches, widened by margin (in MVT
// units of that zoom's tiles): the tiles whose buffer may hold part of something in b.
func Covering(b orb.Bound, z, margin int) Range {
	lo, hi := mercator(b.Min), mercator(b.Max)
	size := 2 * world / float64(int(1)<<z)
	pad := size * float64(margin) / Extent
	n := (1 << z) - 1
	clamp := func(v int) int { return max(0, min(n, v)) }
	return Range{Z: z,
		MinX: clamp(int(math.Floor((lo[0] - pad + world) / size))),
		MaxX: clamp(int(math.Floor((hi[0] + pad + world) / size))),
		MinY: clamp(int(math.Floor((world - hi[1] - pad) / size))),
		MaxY: clamp(int(math.Floor((world - lo[1] + pad) / size))),
	}
}

// Center returns the WGS 84 centre of a tile, for tests and tile lists.
func (t ID) Center() orb.Point {
	b := t.Bound3857()
	x, y := (b.Min[0]+b.Max[0])/2, (b.Min[1]+b.Max[1])/2
	return orb.Point{x * 180 / world, math.Atan(math.Sinh(y*math.Pi/world)) * 180 / math.Pi}
}

// At returns the tile of zoom z holding a WGS 84 point.
func At(p orb.Point, z int) ID {
	r := Covering(orb.Bound{Min: p, Max: p}, z, 0)
	return ID{Z: z, X: r.MinX, Y: r.MinY}
}
