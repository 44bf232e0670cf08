package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/importers"
	"github.com/vungtrong/vungtrong/importers/plots"
	"github.com/vungtrong/vungtrong/importers/textenc"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/vntext"
)

// importFlags are the options of `vungtrong import`.
type importFlags struct {
	layer, srs, province, encoding, onInvalid, source, report string
	mapping, set                                              []string
	dryRun, quiet                                             bool
}

func (c *cli) importCommand() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import plots (or facilities, or admin boundaries) from a Shapefile (.shp or .zip), KML/KMZ, GeoJSON, GPX or CSV, all or nothing",
		Long: `Import plots from a survey file in one transaction: every feature is checked as the API
checks it, plus overlaps with the file's other features and with registered plots; every problem
is reported at once with its feature number, and with any problem nothing is stored (unless
--on-invalid skip or repair). Importing the same file again changes nothing; changed plots
become new versions. Fields: ` + strings.Join(plots.FieldNames(), ", ") + `.
--layer facilities reads livestock farms, feed mills and packing houses (points) instead, and
--layer admin commune and province boundaries (administrators); see --layer for their fields.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				return c.runImport(cmd.Context(), db, args[0], f)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.layer, "layer", "plots", "what the file holds: plots; facilities (points: livestock farms, feed mills, packing houses; fields: "+
		strings.Join(plots.FacilityFieldNames(), ", ")+"); or admin (commune and province boundaries by their 2025 code; fields: "+strings.Join(plots.AdminFieldNames(), ", ")+"; administrators only)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check everything and report, store nothing")
	fl.StringVar(&f.srs, "srs", "", "the file's coordinate system: EPSG code (EPSG:9218), PROJ string, or .prj file; overrides the file's")
	fl.StringVar(&f.province, "province", "", "province (GSO code such as 66, or name): its VN-2000 zone when the file has no .prj, and the province of plots whose location does not say")
	fl.StringVar(&f.encoding, "encoding", "", "text encoding of .dbf/CSV: utf-8, windows-1258, tcvn3 (default: detected)")
	fl.StringSliceVar(&f.mapping, "map", nil, "field=COLUMN pairs for columns not recognised by name, e.g. --map owner=TENCHU,crop=LOAICAY")
	fl.StringSliceVar(&f.set, "set", nil, "field=VALUE given to every plot, e.g. --set crop=coffee")
	fl.StringVar(&f.onInvalid, "on-invalid", registry.OnInvalidReject, "reject (nothing is stored), skip (store the good features) or repair (fix invalid geometries, report area changes)")
	fl.StringVar(&f.source, "source", "", "name of the source, which with each feature's id matches earlier imports (default: the file name)")
	fl.StringVar(&f.report, "report", "", "also write the report as JSON to this file")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	return cmd
}

func parsePairs(flag string, pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--%s %q: write field=value", flag, p)
		}
		out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return out, nil
}

// fileImporter imports files for the CLI and for web uploads: the same options, the same checks.
type fileImporter struct {
	db  *postgres.DB
	cfg Config
}

// runUpload imports an uploaded file (fetched to path) for an import job: it is the jobs'
// postgres.ImportRunner.
func (fi *fileImporter) runUpload(ctx context.Context, req registry.ImportRequest, path string, progress func(registry.ImportProgress)) (*registry.ImportReport, error) {
	return fi.importFile(ctx, req, path, progress, false)
}

// importFile imports req; serverPaths allows --srs to name a .prj file on this machine (the
// shell may, an upload may not).
func (fi *fileImporter) importFile(ctx context.Context, req registry.ImportRequest, path string, progress func(registry.ImportProgress), serverPaths bool) (*registry.ImportReport, error) {
	opt := plots.Options{Limits: importers.DefaultLimits(), Geometry: fi.cfg.Geometry, Map: req.Map, Set: req.Set}
	switch req.Layer {
	case "", "plots":
	case "admin":
		// A commune's boundary has thousands of positions where a plot has tens.
		opt.Layer, opt.Geometry = plots.LayerAdmin, geo.Limits{MaxVertices: maxBoundaryVertices}
	case plots.LayerFacilities:
		opt.Layer = plots.LayerFacilities
	default:
		return nil, invalid("layer", fmt.Errorf("layer %q: a file holds plots, facilities (livestock farms, feed mills, packing houses) or admin (commune and province boundaries)", req.Layer))
	}
	var err error
	if req.Encoding != "" {
		if opt.Encoding, err = textenc.Parse(req.Encoding); err != nil {
			return nil, invalid("encoding", err)
		}
	}
	var province string
	if req.Province != "" {
		ref, err := fi.db.ResolveProvince(ctx, req.Province)
		if err != nil {
			return nil, err
		}
		province = ref.Code
		if req.SRS == "" {
			if opt.ProvinceCRS, err = importers.ProvinceCRS(ref.OldCodes, req.Province+" ("+ref.Name+")"); err != nil {
				return nil, invalid("province", err)
			}
		}
	}
	if req.SRS != "" {
		readFile := os.ReadFile
		if !serverPaths {
			readFile = func(string) ([]byte, error) { return nil, errors.New("give the .prj's text, not a path") }
		}
		crs, proj4, err := importers.ParseSRS(req.SRS, readFile)
		if err != nil {
			return nil, invalid("srs", err)
		}
		if proj4 != "" {
			if crs.SRID, err = fi.db.RegisterProj4(ctx, proj4); err != nil {
				return nil, err
			}
		}
		opt.CRS = crs
	}
	src, err := plots.Open(path, opt)
	if err != nil {
		return nil, invalid("file", fmt.Errorf("%s: %w", req.Filename, err))
	}
	defer src.Close()
	progressOf := func(stage string, done, _ int) {
		if progress != nil {
			n, size := src.Progress()
			progress(registry.ImportProgress{Stage: stage, Features: done, Bytes: n, Size: size})
		}
	}
	if opt.Layer == plots.LayerFacilities {
		rep, err := postgres.NewFacilityImporter(fi.db, fi.cfg.Registry.DefaultProvince).ImportFacilities(ctx, plots.Facilities{Source: src}, registry.ImportOptions{
			Source: req.Source, DryRun: req.DryRun, OnInvalid: req.OnInvalid, Province: province, Describe: src.Describe(), Progress: progressOf})
		if rep != nil {
			rep.About = src.Describe()
		}
		return rep, err
	}
	if opt.Layer == plots.LayerAdmin {
		rep, err := postgres.NewBoundaryImporter(fi.db).ImportBoundaries(ctx, plots.Boundaries{Source: src}, registry.ImportOptions{
			Source: req.Source, DryRun: req.DryRun, OnInvalid: req.OnInvalid, Describe: src.Describe(), Progress: progressOf})
		if rep != nil {
			rep.About = src.Describe()
		}
		return rep, err
	}
	ps := postgres.NewPlotService(fi.db)
	ps.Limits = fi.cfg.Geometry
	ps.Neighbours = fi.cfg.Neighbours
	ps.DefaultProvince = fi.cfg.Registry.DefaultProvince
	rep, err := postgres.NewPlotImporter(fi.db, ps).ImportPlots(ctx, src, registry.ImportOptions{
		Source: req.Source, DryRun: req.DryRun, OnInvalid: req.OnInvalid, Province: province, Describe: src.Describe(),
		Progress: progressOf})
	if rep != nil {
		rep.About = src.Describe()
	}
	return rep, err
}

// maxBoundaryVertices bounds one administrative boundary (a plot's limit is the configured one).
const maxBoundaryVertices = 500_000

// invalid turns a problem with a file or an option into EINVALID naming the field.
func invalid(field string, err error) error {
	var re *registry.Error
	if errors.As(err, &re) {
		return err
	}
	return &registry.Error{Code: registry.EINVALID, Message: err.Error(), Details: []registry.Detail{{Field: field, Message: err.Error()}}}
}

func (c *cli) runImport(ctx context.Context, db *postgres.DB, path string, f importFlags) error {
	req := registry.ImportRequest{Filename: filepath.Base(path), Source: f.source, DryRun: f.dryRun, OnInvalid: f.onInvalid,
		Province: f.province, SRS: f.srs, Encoding: f.encoding, Layer: f.layer}
	var err error
	if req.Map, err = parsePairs("map", f.mapping); err != nil {
		return err
	}
	if req.Set, err = parsePairs("set", f.set); err != nil {
		return err
	}
	if req.Source == "" {
		req.Source = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	bar := newProgressBar(c.stderr, !f.quiet && isTerminal(c.stderr))
	ctx = registry.NewContextWithActor(ctx, registry.SystemActor("import"))
	fi := &fileImporter{db: db, cfg: c.cfg}
	rep, err := fi.importFile(ctx, req, path, bar.update, true)
	bar.finish()
	if rep != nil {
		writeReport(c.stdout, rep)
		if f.report != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if werr := os.WriteFile(f.report, append(b, '\n'), 0o644); werr != nil {
				return werr
			}
		}
	}
	if err != nil {
		if registry.ErrorCode(err) == registry.EINVALID {
			return fmt.Errorf("%s: nothing was imported: %s", filepath.Base(path), registry.ErrorMessage(err))
		}
		return err
	}
	return nil
}

// writeReport prints a report for people.
func writeReport(w io.Writer, rep *registry.ImportReport) {
	fmt.Fprintf(w, "Source: %s\n", rep.Source)
	keys := make([]string, 0, len(rep.About))
	for k := range rep.About {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-9s %s\n", k+":", rep.About[k])
	}
	state := "imported"
	switch {
	case rep.DryRun:
		state = "dry run, nothing stored"
	case !rep.Committed:
		state = "REFUSED, nothing stored"
	}
	fmt.Fprintf(w, "Result: %s. %s features: %s added, %s updated, %s unchanged, %s skipped, %s repaired (%s s)\n",
		state, groupInt(rep.Features), groupInt(rep.Added), groupInt(rep.Updated), groupInt(rep.Unchanged), groupInt(rep.Skipped),
		groupInt(rep.Repaired), formatSeconds(time.Duration(rep.Elapsed)))
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "Problems (%d):\n", len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", describeDetail(p))
		}
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintf(w, "Warnings (%d):\n", len(rep.Warnings))
		for _, p := range rep.Warnings {
			fmt.Fprintf(w, "  %s\n", describeDetail(p))
		}
	}
}

func describeDetail(d registry.Detail) string {
	var parts []string
	if d.Feature > 0 {
		parts = append(parts, fmt.Sprintf("feature %d", d.Feature))
	}
	if d.Field != "" {
		parts = append(parts, d.Field)
	}
	if len(parts) == 0 {
		return d.Message
	}
	return strings.Join(parts, ", ") + ": " + d.Message
}

func groupInt(n int) string { return vntext.FormatInt(int64(n)) }

// formatSeconds writes d in seconds with a decimal comma: 12,3.
func formatSeconds(d time.Duration) string {
	return strings.Replace(fmt.Sprintf("%.1f", d.Seconds()), ".", ",", 1)
}

// progressBar draws the import's progress on a terminal: the bytes read while reading, then
// each stage of the checks.
type progressBar struct {
	w     io.Writer
	on    bool
	mu    sync.Mutex
	last  time.Time
	start time.Time
	drawn bool
}

func newProgressBar(w io.Writer, on bool) *progressBar {
	return &progressBar{w: w, on: on, start: time.Now()}
}

func (b *progressBar) update(p registry.ImportProgress) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.last) < 200*time.Millisecond && p.Stage == "read" {
		return
	}
	b.last = time.Now()
	line := fmt.Sprintf("checked: %-10s %s features", p.Stage, groupInt(p.Features))
	if p.Stage == "read" {
		line = fmt.Sprintf("reading  %s features", groupInt(p.Features))
		if p.Size > 0 {
			frac := float64(p.Bytes) / float64(p.Size)
			const width = 30
			filled := min(int(frac*width), width)
			line = fmt.Sprintf("reading  [%s%s] %3d%%  %s features", strings.Repeat("█", filled), strings.Repeat("░", width-filled), int(frac*100), groupInt(p.Features))
		}
	}
	fmt.Fprintf(b.w, "\r%-70s %5s s", line, formatSeconds(time.Since(b.start)))
	b.drawn = true
}

func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
