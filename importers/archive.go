package importers

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/vungtrong/vungtrong/vntext"
)

// IsZip reports whether the file at path starts like a zip archive.
func IsZip(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [4]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	return bytes.Equal(head[:], []byte("PK\x03\x04")) || bytes.Equal(head[:], []byte("PK\x05\x06"))
}

// Zip is a zip archive whose entries were checked against the limits before anything was
// inflated: a zip bomb is refused from its directory, not discovered by filling the disk.
type Zip struct {
	*zip.Reader
	file *os.File
	lim  Limits
}

// OpenZip opens the archive at path and checks its directory: the number of entries, the total
// inflated size, and each entry's compression ratio. what names the file in messages ("the KMZ").
func OpenZip(path, what string, lim Limits) (*Zip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		if errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, Errorf("", "%s is not a valid zip archive (%v): a KMZ or zipped Shapefile must be a zip file; was it renamed, or cut short?", what, err)
		}
		return nil, err
	}
	if lim.MaxZipEntries > 0 && len(zr.File) > lim.MaxZipEntries {
		f.Close()
		return nil, Errorf("", "%s has %d entries, more than the limit of %d", what, len(zr.File), lim.MaxZipEntries)
	}
	var total uint64
	for _, e := range zr.File {
		total += e.UncompressedSize64
		if lim.MaxUnzippedSize > 0 && total > uint64(lim.MaxUnzippedSize) {
			f.Close()
			return nil, Errorf(e.Name, "%s would inflate to more than %s bytes, the limit: refused before inflating (a zip bomb?)", what, vntext.FormatInt(lim.MaxUnzippedSize))
		}
		if lim.MaxZipRatio > 0 && e.UncompressedSize64 > 1<<20 {
			ratio := float64(e.UncompressedSize64) / float64(max(e.CompressedSize64, 1))
			if ratio > lim.MaxZipRatio {
				f.Close()
				return nil, Errorf(e.Name, "%s: this entry inflates %.0f times (%s bytes from %s), more than the limit of %.0f: refused before inflating (a zip bomb?)",
					what, ratio, vntext.FormatInt(int64(e.UncompressedSize64)), vntext.FormatInt(int64(e.CompressedSize64)), lim.MaxZipRatio)
			}
		}
	}
	return &Zip{Reader: zr, file: f, lim: lim}, nil
}

// Close closes the archive file.
func (z *Zip) Close() error { return z.file.Close() }

// OpenEntry opens entry e for reading; reading past its declared size fails (archive/zip checks it).
func (z *Zip) OpenEntry(e *zip.File) (io.ReadCloser, error) {
	if e.Flags&0x1 != 0 {
		return nil, Errorf(e.Name, "the entry is encrypted: unzip it with its password first")
	}
	return e.Open()
}
