package tiles

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Decoded is what a tile holds: its layers by name. It is for tests and benchmarks, which read
// tiles back; the server never decodes a tile.
type Decoded map[string]*DecodedLayer

// DecodedLayer is one layer of a decoded tile.
type DecodedLayer struct {
	Extent   uint32
	Features []DecodedFeature
}

// DecodedFeature is one feature: its id, attributes and geometry type (1 point, 2 line,
// 3 polygon), with how many geometry commands it has and their raw encoding.
type DecodedFeature struct {
	ID         uint64
	Properties map[string]any
	Type       int
	Commands   int
	Geometry   []uint64
}

// ErrBadMVT is returned for bytes that are not a Mapbox Vector Tile.
var ErrBadMVT = errors.New("tiles: not a vector tile")

// DecodeMVT reads a Mapbox Vector Tile (version 2.1).
func DecodeMVT(b []byte) (Decoded, error) {
	out := Decoded{}
	err := fields(b, func(num int, wire int, v uint64, data []byte) error {
		if num != 3 || wire != 2 {
			return nil
		}
		name, l, err := decodeLayer(data)
		if err != nil {
			return err
		}
		out[name] = l
		return nil
	})
	return out, err
}

func decodeLayer(b []byte) (string, *DecodedLayer, error) {
	var name string
	var keys []string
	var values []any
	var raw [][]byte
	l := &DecodedLayer{Extent: 4096}
	err := fields(b, func(num int, wire int, v uint64, data []byte) error {
		switch {
		case num == 1 && wire == 2:
			name = string(data)
		case num == 2 && wire == 2:
			raw = append(raw, data)
		case num == 3 && wire == 2:
			keys = append(keys, string(data))
		case num == 4 && wire == 2:
			val, err := decodeValue(data)
			if err != nil {
				return err
			}
			values = append(values, val)
		case num == 5 && wire == 0:
			l.Extent = uint32(v)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	for _, fb := range raw {
		f := DecodedFeature{Properties: map[string]any{}}
		err := fields(fb, func(num int, wire int, v uint64, data []byte) error {
			switch {
			case num == 1 && wire == 0:
				f.ID = v
			case num == 3 && wire == 0:
				f.Type = int(v)
			case num == 2 && wire == 2:
				tags, err := packed(data)
				if err != nil {
					return err
				}
				if len(tags)%2 != 0 {
					return fmt.Errorf("%w: odd tag list", ErrBadMVT)
				}
				for i := 0; i < len(tags); i += 2 {
					if int(tags[i]) >= len(keys) || int(tags[i+1]) >= len(values) {
						return fmt.Errorf("%w: tag out of range", ErrBadMVT)
					}
					f.Properties[keys[tags[i]]] = values[tags[i+1]]
				}
			case num == 4 && wire == 2:
				geom, err := packed(data)
				if err != nil {
					return err
				}
				f.Geometry = geom
				for i := 0; i < len(geom); {
					cmd, count := geom[i]&7, int(geom[i]>>3)
					i++
					f.Commands++
					if cmd == 1 || cmd == 2 {
						i += 2 * count
					}
				}
			}
			return nil
		})
		if err != nil {
			return "", nil, err
		}
		l.Features = append(l.Features, f)
	}
	return name, l, nil
}

func decodeValue(b []byte) (any, error) {
	var val any
	err := fields(b, func(num int, wire int, v uint64, data []byte) error {
		switch num {
		case 1:
			val = string(data)
		case 2:
			val = float64(math.Float32frombits(uint32(v)))
		case 3:
			val = math.Float64frombits(v)
		case 4, 5:
			val = int64(v)
		case 6:
			val = int64(v>>1) ^ -int64(v&1)
		case 7:
			val = v != 0
		}
		return nil
	})
	return val, err
}

// fields walks the fields of a protocol buffer message.
func fields(b []byte, fn func(num, wire int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return fmt.Errorf("%w: bad field key", ErrBadMVT)
		}
		b = b[n:]
		num, wire := int(key>>3), int(key&7)
		var v uint64
		var data []byte
		switch wire {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return fmt.Errorf("%w: bad varint", ErrBadMVT)
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return fmt.Errorf("%w: short fixed64", ErrBadMVT)
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return fmt.Errorf("%w: bad length", ErrBadMVT)
			}
			data, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return fmt.Errorf("%w: short fixed32", ErrBadMVT)
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return fmt.Errorf("%w: wire type %d", ErrBadMVT, wire)
		}
		if err := fn(num, wire, v, data); err != nil {
			return err
		}
	}
	return nil
}

func packed(b []byte) ([]uint64, error) {
	var out []uint64
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad packed varint", ErrBadMVT)
		}
		out = append(out, v)
		b = b[n:]
	}
	return out, nil
}

// Rings decodes a polygon feature's rings into tile coordinates.
func (f DecodedFeature) Rings() [][][2]int64 {
	var rings [][][2]int64
	var ring [][2]int64
	var x, y int64
	g := f.Geometry
	for i := 0; i < len(g); {
		cmd, count := g[i]&7, int(g[i]>>3)
		i++
		switch cmd {
		case 1, 2: // MoveTo, LineTo
			for range count {
				if i+1 >= len(g) {
					return rings
				}
				x += int64(g[i]>>1) ^ -int64(g[i]&1)
				y += int64(g[i+1]>>1) ^ -int64(g[i+1]&1)
				i += 2
				if cmd == 1 && len(ring) > 0 {
					rings = append(rings, ring)
					ring = nil
				}
				ring = append(ring, [2]int64{x, y})
			}
		case 7: // ClosePath
			rings = append(rings, ring)
			ring = nil
		}
	}
	return rings
}

// SignedArea is twice the area of a ring by the surveyor's formula in tile coordinates: MVT 2.1
// wants it positive for exterior rings, negative for holes.
func SignedArea(ring [][2]int64) int64 {
	var a int64
	for i := range ring {
		j := (i + 1) % len(ring)
		a += ring[i][0]*ring[j][1] - ring[j][0]*ring[i][1]
	}
	return a
}
