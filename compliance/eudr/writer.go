package eudr

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
)

// StatementTemplate is what the due diligence statements of an export say besides their
// producers and geolocation, which the Writer fills in file by file.
type StatementTemplate struct {
	OperatorType       string
	ActivityType       string
	CountryOfActivity  string
	BorderCrossCountry string
	Comment            string
	// InternalReference names the statements; when the plots need several files, each
	// statement's is suffixed with its part ("C-1234ABCD/2").
	InternalReference string
	// Commodities describe the goods of each HS heading: plots are grouped into one commodity per
	// heading ("" for crops with none). The net mass is declared on the first statement only.
	Commodities map[string]CommodityInfo
}

// CommodityInfo describes the goods of one HS heading.
type CommodityInfo struct {
	Description string
	NetWeightKg *float64
}

// Options configure a Writer.
type Options struct {
	// MaxFileBytes bounds each GeoJSON file (default DefaultMaxFileBytes).
	MaxFileBytes int64
	// Statement, when set, makes one due diligence statement per GeoJSON file.
	Statement *StatementTemplate
	// Submitter receives the statements; nil writes each into the zip as dds.json (or
	// dds-001.json… beside plots-001.geojson…).
	Submitter DDSSubmitter
	// Level is the deflate level of the zip (default flate.BestSpeed: the files are large
	// and the export's time matters more than the last tenth of its size).
	Level int
	// Now stamps the zip's entries (default time.Now).
	Now time.Time
}

// Writer writes an export as a zip, streaming: plots go into the current GeoJSON file until
// the next would pass the size limit; a full file is compressed into the zip (with its
// statement) while the next fills. At most two files are held in memory.
type Writer struct {
	ctx   context.Context
	opts  Options
	zw    *zip.Writer
	cur   *fileBuf
	free  chan *fileBuf
	full  chan *fileBuf
	done  chan struct{}
	index int

	mu         sync.Mutex
	err        error
	files      []FileSummary
	statements []StatementSummary
	points     int
	polygons   int
	closed     bool
}

// fileBuf is one GeoJSON file being filled, with where each feature sits in it.
type fileBuf struct {
	index    int
	data     []byte
	feats    []featRef
	names    map[int64]string
	numbered bool
}

type featRef struct {
	start, end int
	producer   int64
	hs         string
	withheld   bool
}

const (
	fileHead = `{"type":"FeatureCollection","features":[` + "\n"
	fileSep  = ",\n"
	fileFoot = "\n]}\n"
)

// ErrTooLarge: one plot's feature alone is larger than the file size limit.
var ErrTooLarge = errors.New("eudr: a plot is larger than the file size limit")

// NewWriter returns a Writer of a zip to w. Call Close to finish it; ctx bounds the statements'
// submission.
func NewWriter(ctx context.Context, w io.Writer, opts Options) *Writer {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.Level == 0 {
		opts.Level = flate.BestSpeed
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	zw := zip.NewWriter(w)
	level := opts.Level
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) { return flate.NewWriter(out, level) })
	x := &Writer{ctx: ctx, opts: opts, zw: zw, free: make(chan *fileBuf, 2), full: make(chan *fileBuf, 1), done: make(chan struct{})}
	x.free <- &fileBuf{}
	x.free <- &fileBuf{}
	x.cur = x.take()
	go x.loop()
	return x
}

// take returns an empty file to fill, waiting for the zip to be done with one.
func (x *Writer) take() *fileBuf {
	f := <-x.free
	x.index++
	f.index = x.index
	// A file never grows past the limit and one plot: sized once, it is never copied to grow
	// (and pages not written stay unused).
	if want := int(x.opts.MaxFileBytes) + 1<<20; cap(f.data) < want {
		f.data = make([]byte, 0, want)
	}
	f.data = append(f.data[:0], fileHead...)
	f.feats = f.feats[:0]
	f.names = map[int64]string{}
	f.numbered = false
	return f
}

func (x *Writer) failed() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

func (x *Writer) fail(err error) {
	x.mu.Lock()
	if x.err == nil {
		x.err = err
	}
	x.mu.Unlock()
}

// Add writes one plot: into the current file, or, when it would pass the size limit, into a
// new one (the current one is then compressed into the zip while the next fills).
func (x *Writer) Add(p *Plot) error {
	if err := x.failed(); err != nil {
		return err
	}
	f := x.cur
	start := len(f.data)
	if len(f.feats) > 0 {
		f.data = append(f.data, fileSep...)
	}
	at := len(f.data)
	f.data = AppendFeature(f.data, p)
	if int64(len(f.data)+len(fileFoot)) > x.opts.MaxFileBytes {
		if len(f.feats) == 0 {
			f.data = f.data[:start]
			return fmt.Errorf("%w: plot %d takes %d bytes", ErrTooLarge, p.ID, len(f.data)-at)
		}
		next := x.take()
		next.data = append(next.data, f.data[at:]...)
		f.data = f.data[:start]
		f.numbered = true
		x.ship(f)
		x.cur = next
		f, at = next, len(fileHead)
		if int64(len(f.data)+len(fileFoot)) > x.opts.MaxFileBytes {
			return fmt.Errorf("%w: plot %d takes %d bytes", ErrTooLarge, p.ID, len(f.data)-at)
		}
	}
	f.feats = append(f.feats, featRef{start: at, end: len(f.data), producer: p.Producer, hs: p.HSHeading, withheld: p.NameWithheld})
	if _, ok := f.names[p.Producer]; !ok {
		f.names[p.Producer] = p.ProducerName
	}
	x.mu.Lock()
	if p.Point != nil {
		x.points++
	} else {
		x.polygons++
	}
	x.mu.Unlock()
	return nil
}

// ship hands a full file to the zip.
func (x *Writer) ship(f *fileBuf) {
	f.data = append(f.data, fileFoot...)
	x.full <- f
}

// loop writes the files handed to it into the zip, in order.
func (x *Writer) loop() {
	defer close(x.done)
	for f := range x.full {
		if x.failed() == nil {
			if err := x.writeFile(f); err != nil {
				x.fail(err)
			}
		}
		x.free <- f
	}
}

func (x *Writer) names(f *fileBuf) (geojson, dds string) {
	if f.index == 1 && !f.numbered {
		return "plots.geojson", "dds.json"
	}
	return fmt.Sprintf("plots-%03d.geojson", f.index), fmt.Sprintf("dds-%03d.json", f.index)
}

// writeFile compresses one GeoJSON file into the zip, then submits its statement.
func (x *Writer) writeFile(f *fileBuf) error {
	name, ddsName := x.names(f)
	w, err := x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.opts.Now})
	if err != nil {
		return err
	}
	if _, err := w.Write(f.data); err != nil {
		return err
	}
	sum := sha256.Sum256(f.data)
	x.mu.Lock()
	x.files = append(x.files, FileSummary{Name: name, Features: len(f.feats), Bytes: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	x.mu.Unlock()
	if x.opts.Statement == nil {
		return nil
	}
	st, producers := x.statement(f)
	sub := x.opts.Submitter
	if sub == nil {
		sub = &FileSubmitter{Name: func(*Statement) string { return ddsName }, Create: func(n string) (io.Writer, error) {
			return x.zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: x.opts.Now})
		}}
	}
	ref, err := sub.Submit(x.ctx, st)
	if err != nil {
		return fmt.Errorf("submitting the statement of %s: %w", name, err)
	}
	x.mu.Lock()
	x.statements = append(x.statements, StatementSummary{File: name, Reference: ref, Producers: producers, Plots: len(f.feats)})
	x.mu.Unlock()
	return nil
}

// statement builds the due diligence statement of one file: one commodity per HS heading, in
// the order the file meets them, each listing its producers with the geolocation of their
// plots (slices of the file: nothing is copied).
func (x *Writer) statement(f *fileBuf) (*Statement, int) {
	t := x.opts.Statement
	ref := t.InternalReference
	if f.numbered || f.index > 1 {
		ref = fmt.Sprintf("%s/%d", t.InternalReference, f.index)
	}
	st := &Statement{OperatorType: t.OperatorType, Statement: DDS{InternalReferenceNumber: ref, ActivityType: t.ActivityType,
		CountryOfActivity: t.CountryOfActivity, BorderCrossCountry: t.BorderCrossCountry, Comment: t.Comment}}
	if f.index > 1 {
		st.Statement.Comment = fmt.Sprintf("Geolocation part %d of the statement %s (its plots did not fit one file); the net mass is declared on part 1. %s",
			f.index, t.InternalReference+"/1", t.Comment)
	}
	type group struct {
		hs        string
		producers []int64
		feats     map[int64][]int
	}
	var groups []*group
	byHS := map[string]*group{}
	for i, r := range f.feats {
		g := byHS[r.hs]
		if g == nil {
			g = &group{hs: r.hs, feats: map[int64][]int{}}
			byHS[r.hs] = g
			groups = append(groups, g)
		}
		if _, ok := g.feats[r.producer]; !ok {
			g.producers = append(g.producers, r.producer)
		}
		g.feats[r.producer] = append(g.feats[r.producer], i)
	}
	producers := map[int64]bool{}
	for _, g := range groups {
		info := t.Commodities[g.hs]
		c := Commodity{HSHeading: g.hs, Descriptors: Descriptors{DescriptionOfGoods: info.Description}}
		if f.index == 1 {
			c.Descriptors.GoodsMeasure.NetWeight = info.NetWeightKg
		}
		for _, id := range g.producers {
			producers[id] = true
			idx := g.feats[id]
			gj := make(GeoJSON, 0, 2*len(idx)+1)
			gj = append(gj, []byte(fileHead))
			for k, i := range idx {
				if k > 0 {
					gj = append(gj, []byte(fileSep))
				}
				gj = append(gj, f.data[f.feats[i].start:f.feats[i].end])
			}
			gj = append(gj, []byte(fileFoot))
			c.Producers = append(c.Producers, Producer{Country: Country, Name: f.names[id], GeometryGeojson: gj})
		}
		st.Statement.Commodities = append(st.Statement.Commodities, c)
	}
	return st, len(producers)
}

// Files returns how many GeoJSON files have been begun.
func (x *Writer) Files() int { return x.index }

// Close writes the last file, then the summary (its Files, Statements and the geometry
// counts filled in) as summary.json, and finishes the zip. An export of no plot has one empty
// FeatureCollection.
func (x *Writer) Close(summary *Summary) error {
	if x.closed {
		return errors.New("eudr: writer closed twice")
	}
	x.closed = true
	x.ship(x.cur)
	close(x.full)
	<-x.done
	if err := x.failed(); err != nil {
		return err
	}
	x.mu.Lock()
	summary.Files, summary.Statements = x.files, x.statements
	summary.Geometry.Points, summary.Geometry.Polygons = x.points, x.polygons
	x.mu.Unlock()
	if summary.Files == nil {
		summary.Files = []FileSummary{}
	}
	if summary.Statements == nil {
		summary.Statements = []StatementSummary{}
	}
	w, err := x.zw.CreateHeader(&zip.FileHeader{Name: "summary.json", Method: zip.Deflate, Modified: x.opts.Now})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return err
	}
	return x.zw.Close()
}

// Abort stops the writer after a failure, without finishing the zip.
func (x *Writer) Abort() {
	if x.closed {
		return
	}
	x.closed = true
	x.fail(errors.New("eudr: export aborted"))
	close(x.full)
	<-x.done
}
