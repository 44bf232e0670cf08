package textenc

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

var names = []string{"Nguyễn Văn Đức", "Trần Thị Hồng Nhung", "Hợp tác xã Cà phê Ea Kiết", "Lê Thị Bích Ngọc",
	"Sầu riêng Ri6", "Phạm Quốc Việt", "Buôn Ma Thuột", "Đắk Lắk", "Hồ tiêu", "Y Khuê Niê", "Võ Thị Thủy"}

func TestDetectAndDecode(t *testing.T) {
	for _, enc := range []Encoding{UTF8, CP1258, TCVN3} {
		t.Run(string(enc), func(t *testing.T) {
			var d Detector
			var raw [][]byte
			for _, n := range names {
				b, err := Encode(enc, n)
				if err != nil {
					t.Fatal(err)
				}
				d.Add(b)
				raw = append(raw, b)
			}
			g := d.Guess()
			if g.Encoding != enc {
				t.Fatalf("detected %s, want %s", g, enc)
			}
			if g.Confidence < 0.9 {
				t.Errorf("confidence %s is low for %d clear names", g, len(names))
			}
			for i, b := range raw {
				got := Decode(g.Encoding, b)
				if got != names[i] || !norm.NFC.IsNormalString(got) {
					t.Errorf("decoded %q, want NFC %q", got, names[i])
				}
			}
		})
	}
}

func TestDetectShortAmbiguousIsNotSure(t *testing.T) {
	var d Detector
	b, _ := Encode(CP1258, "Cà phê")
	d.Add(b)
	g := d.Guess()
	if g.Encoding == CP1258 && g.Confidence > 0.95 {
		t.Logf("two words: %s", g)
	}
	if g.Reason == "" {
		t.Error("a guess must say why")
	}
}

func TestSyllable(t *testing.T) {
	for w, want := range map[string]bool{
		"Nguyễn": true, "đắk": true, "nghiêng": true, "quốc": true, "Thủy": true, "khuya": true,
		"Cµ": false, "phª": false, "éóỡk": false, "xyz": false, "hÀ": false, "ảá": false,
	} {
		if got := Syllable(w); got != want {
			t.Errorf("Syllable(%q) = %v, want %v", w, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Encoding{"UTF-8": UTF8, "65001": UTF8, "1258": CP1258, "ANSI 1258": CP1258, "CP1258": CP1258, "tcvn3": TCVN3, "ISO-8859-1": Latin1} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := Parse("klingon"); err == nil {
		t.Error("an unknown encoding must be refused")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("C\xb5 ph\xaa"))
	f.Add([]byte("C\xe0 ph\xea"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Detector
		d.Add(b)
		g := d.Guess()
		if s := Decode(g.Encoding, b); !norm.NFC.IsNormalString(s) {
			t.Errorf("Decode gave non-NFC %q", s)
		}
	})
}
