package geojson

import (
	"encoding/json"
	"unicode/utf8"
)

// The json.Decoder has already checked that every feature it hands over is valid JSON, so the
// members of a feature, of its properties and of its geometry are found by walking the bytes
// once instead of decoding them again through reflection (which took a third of an import's
// reading time). The walkers never index past the end, whatever the input.

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
		i++
	}
	return i
}

// eachMember calls fn with the key and the raw value of each member of the object b. It
// reports false when b is not an object.
func eachMember(b []byte, fn func(key string, value []byte)) bool {
	return walk(b, '{', '}', func(key, value []byte) {
		fn(jsonString(key), value)
	})
}

// eachElement calls fn with each element of the array b. It reports false when b is not an
// array.
func eachElement(b []byte, fn func(value []byte)) bool {
	return walk(b, '[', ']', func(_, value []byte) { fn(value) })
}

func walk(b []byte, open, close byte, fn func(key, value []byte)) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != open {
		return false
	}
	for i++; ; {
		i = skipWS(b, i)
		if i >= len(b) {
			return true
		}
		switch b[i] {
		case close:
			return true
		case ',':
			i++
			continue
		}
		var key []byte
		if open == '{' {
			end := skipString(b, i)
			key = b[i:end]
			i = skipWS(b, end)
			if i < len(b) && b[i] == ':' {
				i++
			}
			i = skipWS(b, i)
		}
		end := skipValue(b, i)
		if end == i { // not a value: nothing more to find
			return true
		}
		fn(key, b[i:end])
		i = end
	}
}

// jsonString decodes a JSON string token; anything else is returned as it is written.
func jsonString(b []byte) string {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return string(b)
	}
	inner := b[1 : len(b)-1]
	plain := utf8.Valid(inner)
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(inner)
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return string(b)
}

// isString reports whether the raw JSON value b is a string.
func isString(b []byte) bool { return len(b) > 0 && b[0] == '"' }
