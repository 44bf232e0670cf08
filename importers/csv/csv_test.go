package csv

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/vungtrong/vungtrong/importers"
	"github.com/vungtrong/vungtrong/importers/textenc"
)

func all(r io.Reader, opt Options) ([]*importers.Feature, *Decoder, error) {
	opt.Limits = importers.DefaultLimits()
	d, err := NewDecoder(r, opt)
	if err != nil {
		return nil, nil, err
	}
	fs, err := importers.ReadAll(d)
	return fs, d, err
}

func TestSemicolonsWKTAndWindows1258(t *testing.T) {
	text := "MA_THUA;TEN_CHU;WKT\n1;Nguyễn Văn Đức;\"POLYGON((108.05 12.68,108.06 12.68,108.06 12.69,108.05 12.68))\"\n2;Trần Thị Hồng;POINT(108 12)\n"
	b, err := textenc.Encode(textenc.CP1258, text)
	if err != nil {
		t.Fatal(err)
	}
	fs, d, err := all(bytes.NewReader(b), Options{})
	if err != nil || len(fs) != 2 {
		t.Fatalf("%d rows, %v", len(fs), err)
	}
	if !strings.HasPrefix(d.Info().Encoding, "windows-1258") {
		t.Errorf("encoding %q", d.Info().Encoding)
	}
	if fs[0].Props[1].Value != "Nguyễn Văn Đức" || fs[0].Geometry == nil {
		t.Errorf("row 1: %v %v", fs[0].Props, fs[0].Geometry)
	}
}

func TestNoGeometryColumnNamesTheColumns(t *testing.T) {
	_, _, err := all(strings.NewReader("a,b\n1,2\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("err %v", err)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte("id,wkt\n1,\"POLYGON((1 2,3 4,5 6,1 2))\"\n"))
	f.Add([]byte("lon;lat\n108,12\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := all(bytes.NewReader(b), Options{})
		if err != nil {
			var fe *importers.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a FileError", err, err)
			}
		}
	})
}
