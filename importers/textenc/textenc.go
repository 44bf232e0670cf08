// Package textenc reads the text of legacy Vietnamese files: UTF-8, Windows-1258 (CP1258, with
// its combining tone marks) and TCVN3 (ABC), the encodings .dbf and CSV files from provinces come
// in. It detects which one a file uses from the text itself, with a stated confidence, because
// .cpg files are often missing or wrong; every decoded string is NFC.
package textenc

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Encoding is a text encoding this package reads.
type Encoding string

// The encodings read.
const (
	UTF8    Encoding = "utf-8"
	CP1258  Encoding = "windows-1258"
	TCVN3   Encoding = "tcvn3"
	Latin1  Encoding = "iso-8859-1"
	Unknown Encoding = ""
)

// Parse reads an encoding's name as people and .cpg files write it: "UTF-8", "65001", "1258",
// "CP1258", "ANSI 1258", "windows-1258", "TCVN3", "ABC", "8859-1"...
func Parse(name string) (Encoding, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.NewReplacer("ansi", "", "_", "", "-", "", " ", "").Replace(n)
	switch n {
	case "utf8", "65001", "unicode":
		return UTF8, nil
	case "1258", "cp1258", "windows1258", "win1258":
		return CP1258, nil
	case "tcvn3", "tcvn", "abc", "tcvn5712", "vn3", "vn1":
		return TCVN3, nil
	case "88591", "iso88591", "latin1", "1252", "cp1252", "windows1252":
		return Latin1, nil
	}
	return Unknown, fmt.Errorf("unknown text encoding %q: use utf-8, windows-1258, tcvn3 or iso-8859-1", name)
}

// Decode returns b decoded from enc as NFC text.
func Decode(enc Encoding, b []byte) string {
	var s string
	switch enc {
	case CP1258:
		s, _ = charmap.Windows1258.NewDecoder().String(string(b))
	case TCVN3:
		s = decodeTCVN3(b)
	case Latin1:
		s, _ = charmap.Windows1252.NewDecoder().String(string(b))
	default:
		s = strings.ToValidUTF8(string(b), "\uFFFD")
	}
	if isASCII(s) {
		return s
	}
	return norm.NFC.String(s)
}

func decodeTCVN3(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	for _, c := range b {
		if c < 0x80 {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(tcvn3High[c-0x80])
		}
	}
	return sb.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Guess is the outcome of detection: the encoding and how sure it is (0-1), with the reason.
type Guess struct {
	Encoding   Encoding
	Confidence float64
	Reason     string
}

func (g Guess) String() string {
	return fmt.Sprintf("%s (confidence %d%%: %s)", g.Encoding, int(g.Confidence*100+0.5), g.Reason)
}

// Detector collects text samples from a file and guesses their encoding.
type Detector struct {
	samples [][]byte
	size    int
}

// maxSample bounds the text a Detector keeps.
const maxSample = 1 << 20

// Add keeps a sample of raw text (a field value) if it holds any byte above ASCII.
func (d *Detector) Add(b []byte) {
	if d.size > maxSample || isASCII(string(b)) {
		return
	}
	d.samples = append(d.samples, append([]byte(nil), b...))
	d.size += len(b)
}

// Guess returns the most likely encoding of the samples.
func (d *Detector) Guess() Guess {
	if len(d.samples) == 0 {
		return Guess{Encoding: UTF8, Confidence: 1, Reason: "the text is plain ASCII"}
	}
	validUTF8 := true
	for _, s := range d.samples {
		if !utf8.Valid(s) {
			validUTF8 = false
			break
		}
	}
	if validUTF8 {
		score, words := d.score(UTF8)
		conf := 0.9 + 0.1*score
		return Guess{Encoding: UTF8, Confidence: conf, Reason: fmt.Sprintf("valid UTF-8; %d%% of %d words read as Vietnamese", int(score*100+0.5), words)}
	}
	best, second := Guess{Encoding: CP1258}, 0.0
	var bestWords int
	for _, enc := range []Encoding{CP1258, TCVN3, Latin1} {
		score, words := d.score(enc)
		if enc == Latin1 {
			score *= 0.5 // Latin-1 only wins when neither Vietnamese encoding reads at all
		}
		if score > best.Confidence {
			second = best.Confidence
			best = Guess{Encoding: enc, Confidence: score}
			bestWords = words
		} else if score > second {
			second = score
		}
	}
	// Confidence: how much of the text reads as Vietnamese, lowered when the runner-up reads
	// almost as well.
	margin := best.Confidence - second
	if margin < 0.3 {
		best.Confidence *= 0.5 + margin/0.6
	}
	best.Reason = fmt.Sprintf("not UTF-8; %d words with accents read as Vietnamese in %s, next best %d%%", bestWords, best.Encoding, int(second*100+0.5))
	return best
}

// score decodes the samples as enc and returns the share of accented words that are plausible
// Vietnamese syllables, and how many accented words there were.
func (d *Detector) score(enc Encoding) (float64, int) {
	good, total := 0, 0
	for _, s := range d.samples {
		text := Decode(enc, s)
		for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) }) {
			if isASCII(w) {
				continue
			}
			total++
			if Syllable(w) {
				good++
			}
		}
	}
	if total == 0 {
		return 0, 0
	}
	return float64(good) / float64(total), total
}

// Vietnamese marks in NFD: tones, and the breve, circumflex and horn of ă â ê ô ơ ư.
const (
	tones     = "\u0300\u0301\u0303\u0309\u0323"
	modifiers = "\u0306\u0302\u031b"
)

var initials = []string{"ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
	"b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", ""}

// k ends the syllables of Central Highlands place names: Đắk Lắk, Krông Pắk.
var finals = []string{"ch", "ng", "nh", "c", "k", "m", "n", "p", "t", ""}

// Syllable reports whether w (one word) is shaped like a Vietnamese syllable: an initial
// consonant, one to three vowels (semi-vowels i/y/o/u end diphthongs) and a final consonant, at
// most one tone mark, only Vietnamese marks, and no capital after a small letter.
func Syllable(w string) bool {
	d := norm.NFD.String(w)
	var base strings.Builder
	toneCount := 0
	lowerSeen := false
	for _, r := range d {
		switch {
		case strings.ContainsRune(tones, r):
			toneCount++
			continue
		case strings.ContainsRune(modifiers, r):
			continue
		case unicode.Is(unicode.Mn, r):
			return false
		}
		if unicode.IsUpper(r) && lowerSeen {
			return false
		}
		if unicode.IsLower(r) {
			lowerSeen = true
		}
		r = unicode.ToLower(r)
		if r == 'đ' {
			base.WriteRune(r)
			continue
		}
		if r > unicode.MaxASCII || !unicode.IsLetter(r) {
			return false
		}
		base.WriteRune(r)
	}
	if toneCount > 1 {
		return false
	}
	s := base.String()
	for _, ini := range initials {
		if !strings.HasPrefix(s, ini) {
			continue
		}
		rest := s[len(ini):]
		for _, fin := range finals {
			if !strings.HasSuffix(rest, fin) {
				continue
			}
			v := rest[:len(rest)-len(fin)]
			if n := len(v); n >= 1 && n <= 3 && strings.Trim(v, "aeiouy") == "" {
				return true
			}
		}
	}
	return false
}

// Encode writes s in enc, the inverse of Decode, for writing legacy files and test fixtures.
// Windows-1258 gets its usual form: letters with breve, circumflex or horn precomposed, tone
// marks combining.
func Encode(enc Encoding, s string) ([]byte, error) {
	switch enc {
	case UTF8:
		return []byte(norm.NFC.String(s)), nil
	case TCVN3:
		var out []byte
		for _, r := range norm.NFC.String(s) {
			if r < 0x80 {
				out = append(out, byte(r))
				continue
			}
			b, ok := tcvn3Byte(r)
			if !ok {
				return nil, fmt.Errorf("%q has no TCVN3 byte", r)
			}
			out = append(out, b)
		}
		return out, nil
	case CP1258:
		// Each letter: its base and modifiers precomposed, then its tone mark combining.
		var sb strings.Builder
		var base, tone []rune
		flush := func() {
			sb.WriteString(norm.NFC.String(string(base)))
			sb.WriteString(string(tone))
			base, tone = base[:0], tone[:0]
		}
		for _, r := range norm.NFD.String(s) {
			switch {
			case strings.ContainsRune(modifiers, r):
				base = append(base, r)
			case strings.ContainsRune(tones, r):
				tone = append(tone, r)
			default:
				flush()
				base = append(base, r)
			}
		}
		flush()
		return charmap.Windows1258.NewEncoder().Bytes([]byte(sb.String()))
	case Latin1:
		return charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	}
	return nil, fmt.Errorf("cannot encode %q", enc)
}

func tcvn3Byte(r rune) (byte, bool) {
	for i, c := range tcvn3High {
		if c == r {
			return byte(0x80 + i), true
		}
	}
	return 0, false
}
