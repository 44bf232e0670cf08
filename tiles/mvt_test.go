package tiles

import "testing"

// A tile with layer "plots", one polygon feature (id 7, crop "coffee", area 0.5) written by
// hand from the MVT 2.1 specification.
var handTile = []byte{
	0x1a, 0x3e, // layer, 62 bytes
	0x0a, 0x05, 'p', 'l', 'o', 't', 's', // name
	0x12, 0x12, // feature, 18 bytes
	0x08, 0x07, // id 7
	0x12, 0x04, 0x00, 0x00, 0x01, 0x01, // tags: crop=coffee, area_ha=0.5
	0x18, 0x03, // POLYGON
	0x22, 0x06, 0x09, 0x02, 0x02, 0x12, 0x02, 0x0f, // MoveTo(1,1) LineTo 1 ... ClosePath (abridged)
	0x1a, 0x04, 'c', 'r', 'o', 'p',
	0x1a, 0x07, 'a', 'r', 'e', 'a', '_', 'h', 'a',
	0x22, 0x08, 0x0a, 0x06, 'c', 'o', 'f', 'f', 'e', 'e',
	0x22, 0x05, 0x15, 0x00, 0x00, 0x00, 0x3f, // float 0.5
	0x28, 0x80, 0x20, // extent 4096
}

func TestDecodeMVT(t *testing.T) {
	d, err := DecodeMVT(handTile)
	if err != nil {
		t.Fatal(err)
	}
	l := d["plots"]
	if l == nil || l.Extent != 4096 || len(l.Features) != 1 {
		t.Fatalf("decoded %+v", d)
	}
	f := l.Features[0]
	if f.ID != 7 || f.Type != 3 || f.Properties["crop"] != "coffee" || f.Properties["area_ha"] != 0.5 || f.Commands == 0 {
		t.Errorf("feature %+v", f)
	}
	if _, err := DecodeMVT([]byte{0x1a, 0x7f, 0x01}); err == nil {
		t.Error("a truncated tile decoded")
	}
}

func FuzzDecodeMVT(f *testing.F) {
	f.Add(handTile)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeMVT(b) // must not panic or hang
	})
}
