package shapefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/importers"
)

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

// build writes a one-layer Shapefile of polygon records by hand, with a one-field .dbf.
func build(rings [][][2]float64, names []string) (shp, shx, dbf []byte) {
	be, le := binary.BigEndian, binary.LittleEndian
	var body []byte
	var index []byte
	for i, r := range rings {
		content := make([]byte, 44+4+16*len(r))
		le.PutUint32(content, shapePolygon)
		le.PutUint32(content[36:], 1)
		le.PutUint32(content[40:], uint32(len(r)))
		for j, p := range r {
			le.PutUint64(content[48+16*j:], math.Float64bits(p[0]))
			le.PutUint64(content[56+16*j:], math.Float64bits(p[1]))
		}
		head := make([]byte, 8)
		be.PutUint32(head, uint32(i+1))
		be.PutUint32(head[4:], uint32(len(content)/2))
		ix := make([]byte, 8)
		be.PutUint32(ix, uint32((100+len(body))/2))
		be.PutUint32(ix[4:], uint32(len(content)/2))
		index = append(index, ix...)
		body = append(body, head...)
		body = append(body, content...)
	}
	header := func(total int) []byte {
		h := make([]byte, 100)
		be.PutUint32(h, 9994)
		be.PutUint32(h[24:], uint32(total/2))
		le.PutUint32(h[28:], 1000)
		le.PutUint32(h[32:], shapePolygon)
		return h
	}
	shp = append(header(100+len(body)), body...)
	shx = append(header(100+len(index)), index...)
	d := make([]byte, 32+32+1)
	d[0] = 3
	le.PutUint32(d[4:], uint32(len(names)))
	le.PutUint16(d[8:], 65)
	le.PutUint16(d[10:], 1+20)
	copy(d[32:], "TEN_CHU")
	d[32+11] = 'C'
	d[32+16] = 20
	d[64] = 0x0D
	for _, n := range names {
		rec := bytes.Repeat([]byte(" "), 21)
		copy(rec[1:], n)
		d = append(d, rec...)
	}
	dbf = append(d, 0x1A)
	return
}

func decode(shp, shx, dbf []byte) ([]*importers.Feature, error) {
	d, err := newDecoder(&parts{shp: nopCloser{bytes.NewReader(shp)}, shx: nopCloser{bytes.NewReader(shx)}, dbf: nopCloser{bytes.NewReader(dbf)}}, Options{Limits: importers.DefaultLimits()})
	if err != nil {
		return nil, err
	}
	return importers.ReadAll(d)
}

func TestReadsRecordsAndAttributes(t *testing.T) {
	square := [][2]float64{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}} // clockwise: an outer ring
	shp, shx, dbf := build([][][2]float64{square, square}, []string{"Nguyen", "Tran"})
	fs, err := decode(shp, shx, dbf)
	if err != nil || len(fs) != 2 {
		t.Fatalf("%d, %v", len(fs), err)
	}
	if mp := fs[1].Geometry.(orb.MultiPolygon); len(mp) != 1 || len(mp[0][0]) != 5 || fs[1].Props[0].Value != "Tran" {
		t.Errorf("record 2: %v %v", mp, fs[1].Props)
	}
	if _, err := decode(shp[:len(shp)-30], shx, dbf); err == nil {
		t.Error("a truncated .shp must fail")
	}
}

func TestHolesJoinTheirOuterRing(t *testing.T) {
	outer := orb.LineString{{0, 0}, {0, 10}, {10, 10}, {10, 0}, {0, 0}}
	hole := orb.LineString{{2, 2}, {4, 2}, {4, 4}, {2, 4}, {2, 2}}
	other := orb.LineString{{20, 0}, {20, 1}, {21, 1}, {21, 0}, {20, 0}}
	mp := assemble([]orb.LineString{outer, other, hole})
	if len(mp) != 2 || len(mp[0]) != 2 || len(mp[1]) != 1 {
		t.Errorf("got %d polygons (%d, %d rings)", len(mp), len(mp[0]), len(mp[1]))
	}
}

func FuzzShapefile(f *testing.F) {
	square := [][2]float64{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}
	shp, shx, dbf := build([][][2]float64{square}, []string{"a"})
	f.Add(shp, shx, dbf)
	f.Fuzz(func(t *testing.T, shp, shx, dbf []byte) {
		_, err := decode(shp, shx, dbf)
		if err != nil {
			var fe *importers.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a FileError", err, err)
			}
		}
	})
}
