// Package vntext handles Vietnamese text: it stores text in Unicode NFC (the same word typed on
// a phone, pasted from Word or read from a legacy file compares equal), and folds it to plain
// ASCII for matching input typed without diacritics ("ca phe" finds "Cà phê").
package vntext

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Clean returns s in NFC with leading and trailing space removed and inner runs of white space
// (including non-breaking spaces) collapsed to one space.
func Clean(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u00a0' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Fold returns s cleaned, lower-cased and without diacritics, with đ as d: the key under which
// "Cà Phê", "cà phê" and "ca phe" are one word.
func Fold(s string) string {
	d := norm.NFD.String(Clean(s))
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			b.WriteByte('d')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// SearchKey returns Fold(s) without punctuation: what a search compares, so that "cu mgar"
// finds "Cư M'gar" and "van mieu quoc tu giam" finds "Văn Miếu - Quốc Tử Giám". The database's
// fold() function computes the same key.
func SearchKey(s string) string {
	var b strings.Builder
	for _, r := range Fold(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// FormatInt writes n as Vietnamese does, with dots between thousands: 1.000.000.
func FormatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
