package web

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/vungtrong/vungtrong/registry"
)

// qrQuiet is the quiet zone around a QR code, in modules (the standard asks for 4).
const qrQuiet = 4

// qrModules encodes text as a QR code (error correction M: a carton gets scratched) and returns
// its modules: dark[y][x].
func qrModules(text string) ([][]bool, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	b := code.Bounds()
	dark := make([][]bool, b.Dy())
	for y := range dark {
		dark[y] = make([]bool, b.Dx())
		for x := range dark[y] {
			r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA()
			dark[y][x] = r < 0x8000
		}
	}
	return dark, nil
}

// qrSVG draws the modules as one SVG path, sized for a carton label (30 mm with its quiet zone).
func qrSVG(dark [][]bool, title string) []byte {
	n := len(dark) + 2*qrQuiet
	var path strings.Builder
	for y, row := range dark {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", start+qrQuiet, y+qrQuiet, x-start, x-start)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="30mm" height="30mm" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<title>%s</title><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`, htmlEscape(title), n, n, path.String())
	return b.Bytes()
}

// qrPNG draws the modules as a PNG of about px pixels a side (whole pixels per module).
func qrPNG(dark [][]bool, px int) ([]byte, error) {
	n := len(dark) + 2*qrQuiet
	scale := max(px/n, 1)
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range dark {
		for x, d := range row {
			if !d {
				continue
			}
			for dy := range scale {
				for dx := range scale {
					img.SetGray((x+qrQuiet)*scale+dx, (y+qrQuiet)*scale+dy, color.Gray{})
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var _ barcode.Barcode // the QR encoder's type, named for the reader

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// writeQR answers a QR image of address: ext "svg" or "png" (?size=PIXELS for the PNG, 600 by
// default: 30 mm at 500 dpi).
func writeQR(w http.ResponseWriter, r *http.Request, address, ext string) error {
	dark, err := qrModules(address)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	switch ext {
	case "svg":
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write(qrSVG(dark, address))
	case "png":
		px := 600
		if v := r.URL.Query().Get("size"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 100 || n > 4000 {
				return registry.Errorf(registry.EMALFORMED, "size must be a number of pixels from 100 to 4000")
			}
			px = n
		}
		b, err := qrPNG(dark, px)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(b)
	default:
		return registry.Errorf(registry.ENOTFOUND, "a QR image is qr.svg or qr.png")
	}
	return nil
}
