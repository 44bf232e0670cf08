package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/importers"
	"github.com/vungtrong/vungtrong/importers/plots"
	"github.com/vungtrong/vungtrong/importers/textenc"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
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
		Short: "Import plots from a Shapefile (.shp or .zip), KML/KMZ, GeoJSON, GPX or CSV, all or nothing",
		Long: `Import plots from a survey file in one transaction: every feature is checked as the API
checks it, plus overlaps with the file's other features and with registered plots; every problem
is reported at once with its feature number, and with any problem nothing is stored (unless
--on-invalid skip or repair). Importing the same file again changes nothing; changed plots
become new versions. Fields: ` + strings.Join(plots.FieldNames(), ", ") + `.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				return c.runImport(cmd.Context(), db, args[0], f)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.layer, "layer", "plots", "what the file holds: plots (facilities and admin boundaries are not importable yet)")
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

func (c *cli) runImport(ctx context.Context, db *postgres.DB, path string, f importFlags) error {
	if f.layer != "plots" {
		return fmt.Errorf("--layer %s: only plots can be imported yet", f.layer)
	}
	opt := plots.Options{Limits: importers.DefaultLimits(), Geometry: c.cfg.Geometry}
	var err error
	if opt.Map, err = parsePairs("map", f.mapping); err != nil {
		return err
	}
	if opt.Set, err = parsePairs("set", f.set); err != nil {
		return err
	}
	if f.encoding != "" {
		if opt.Encoding, err = textenc.Parse(f.encoding); err != nil {
			return fmt.Errorf("--encoding: %w", err)
		}
	}
	var province string
	if f.province != "" {
		ref, err := db.ResolveProvince(ctx, f.province)
		if err != nil {
			return err
		}
		province = ref.Code
		if f.srs == "" {
			if opt.CRS, err = importers.ProvinceCRS(ref.OldCodes, f.province+" ("+ref.Name+")"); err != nil {
				return err
			}
		}
	}
	if f.srs != "" {
		crs, proj4, err := importers.ParseSRS(f.srs, os.ReadFile)
		if err != nil {
			return err
		}
		if proj4 != "" {
			if crs.SRID, err = db.RegisterProj4(ctx, proj4); err != nil {
				return err
			}
		}
		opt.CRS = crs
	}
	src, err := plots.Open(path, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	defer src.Close()
	source := f.source
	if source == "" {
		source = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	bar := newProgressBar(c.stderr, !f.quiet && isTerminal(c.stderr), src.Progress)
	ps := postgres.NewPlotService(db)
	ps.Limits = c.cfg.Geometry
	ps.DefaultProvince = c.cfg.Registry.DefaultProvince
	ctx = registry.NewContextWithActor(ctx, registry.SystemActor("import"))
	rep, err := postgres.NewPlotImporter(db, ps).ImportPlots(ctx, src, registry.ImportOptions{
		Source: source, DryRun: f.dryRun, OnInvalid: f.onInvalid, Province: province,
		Progress: bar.update, Describe: src.Describe()})
	bar.finish()
	if rep != nil {
		rep.About = src.Describe()
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

// groupInt writes n with dots between thousands, as Vietnamese does: 1.000.000.
func groupInt(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// formatSeconds writes d in seconds with a decimal comma: 12,3.
func formatSeconds(d time.Duration) string {
	return strings.Replace(fmt.Sprintf("%.1f", d.Seconds()), ".", ",", 1)
}

// progressBar draws the import's progress on a terminal: the bytes read while reading, then
// the stage.
type progressBar struct {
	w     io.Writer
	on    bool
	bytes func() (int64, int64)
	mu    sync.Mutex
	last  time.Time
	start time.Time
	drawn bool
}

func newProgressBar(w io.Writer, on bool, bytes func() (int64, int64)) *progressBar {
	return &progressBar{w: w, on: on, bytes: bytes, start: time.Now()}
}

func (b *progressBar) update(stage string, done, total int) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.last) < 200*time.Millisecond && stage == "read" {
		return
	}
	b.last = time.Now()
	line := fmt.Sprintf("%-10s %s features", stage, groupInt(done))
	if n, size := b.bytes(); stage == "read" && size > 0 {
		frac := float64(n) / float64(size)
		const width = 30
		filled := int(frac * width)
		line = fmt.Sprintf("reading  [%s%s] %3d%%  %s features", strings.Repeat("█", filled), strings.Repeat("░", width-filled), int(frac*100), groupInt(done))
	} else if stage != "read" {
		line = fmt.Sprintf("checked: %-10s %s features", stage, groupInt(done))
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
