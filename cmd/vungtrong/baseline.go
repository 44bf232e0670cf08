package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb"
	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// Deforestation screening from the command line: `vungtrong baseline load|list|remove` keeps
// the forest maps, `vungtrong screen` screens every plot (or a province's) against them.

func (c *cli) baselineCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "baseline", Short: "Load, list or remove the forest maps that plots are screened against (EUDR)"}
	var kind, dataset, date string
	load := &cobra.Command{
		Use:   "load FILE...",
		Short: "Load GeoTIFF tiles of a forest map (JRC GFC2020, Hansen Global Forest Change) into the database, all or nothing",
		Long: `Load GeoTIFF tiles of one kind of forest map, in one transaction:
  --kind forest2020      JRC Global Forest Cover 2020 (10 m tiles of 10°×10°): 1 = forest at the end of 2020
  --kind treecover2000   Hansen Global Forest Change treecover2000: canopy cover in 2000, in percent
  --kind lossyear        Hansen Global Forest Change lossyear: n = tree cover lost in 2000+n
Files must be in WGS 84 (EPSG:4326) and overlap Vietnam; only their part in Vietnam is kept.
A file with no coordinate system, outside Vietnam, or with values its kind cannot hold is
refused, and then nothing is loaded. Loading a file of the same name again replaces it.
Needs raster2pgsql (Debian: postgis) and gdalinfo (gdal-bin). Then run ` + "`vungtrong screen`" + `.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := registry.ParseBaselineKind(kind)
			if err != nil {
				return usageError{errors.New(registry.ErrorMessage(err))}
			}
			var d time.Time
			if date != "" {
				if d, err = time.Parse(time.DateOnly, date); err != nil {
					return usageError{fmt.Errorf("--date %q: write the day the map stands for as YYYY-MM-DD, e.g. 2020-12-31", date)}
				}
			}
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				return c.loadBaselines(cmd.Context(), db, k, dataset, d, args)
			})
		},
	}
	load.Flags().StringVar(&kind, "kind", "", "forest2020, treecover2000 or lossyear (required)")
	load.Flags().StringVar(&dataset, "dataset", "", "the dataset's name and version, e.g. \"JRC GFC2020 V2\" (default: the kind's)")
	load.Flags().StringVar(&date, "date", "", "the day the map stands for, YYYY-MM-DD (default: 2020-12-31, 2000-12-31, or the end of a loss map's last year)")
	_ = load.MarkFlagRequired("kind")
	cmd.AddCommand(load, &cobra.Command{
		Use:   "list",
		Short: "List the loaded baselines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				all, err := postgres.NewScreeningService(db).Baselines(cmd.Context())
				if err != nil {
					return err
				}
				if len(all) == 0 {
					fmt.Fprintln(c.stdout, "no baseline is loaded (vungtrong baseline load --kind forest2020 FILE.tif)")
					return nil
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "id\tkind\tfile\tdataset\tdate\tpixel (°)\ttiles\tvalues\tloaded")
				for _, b := range all {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%g\t%d\t%s\t%s\n", b.ID, b.Kind, b.SourceFile, b.Dataset, b.DatasetDate.Format(time.DateOnly),
						b.PixelWidth, b.Tiles, valueRange(b), b.LoadedAt.Local().Format(time.DateTime))
				}
				return tw.Flush()
			})
		},
	}, &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a baseline and its tiles (plots keep their screening until screened again)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usageError{fmt.Errorf("baseline remove: ID is a number from `vungtrong baseline list`, not %q", args[0])}
			}
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				ctx := registry.NewContextWithActor(cmd.Context(), registry.SystemActor("baseline"))
				if err := postgres.NewScreeningService(db).RemoveBaseline(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "removed baseline %d; run `vungtrong screen --restart` to screen the plots again\n", id)
				return nil
			})
		},
	})
	return cmd
}

func valueRange(b registry.Baseline) string {
	if b.MinValue == nil || b.MaxValue == nil {
		return "-"
	}
	return fmt.Sprintf("%g-%g", *b.MinValue, *b.MaxValue)
}

// loadBaselines checks every file's header, then loads them all in one transaction.
func (c *cli) loadBaselines(ctx context.Context, db *postgres.DB, kind registry.BaselineKind, dataset string, date time.Time, paths []string) error {
	ctx = registry.NewContextWithActor(ctx, registry.SystemActor("baseline"))
	refused := func(err error) error {
		if code := registry.ErrorCode(err); code == registry.EINVALID || code == registry.ECONFLICT {
			return fmt.Errorf("nothing was loaded: %s", registry.ErrorMessage(err))
		}
		return err
	}
	var loads []postgres.BaselineLoad
	for _, p := range paths {
		info, err := readRasterInfo(ctx, p)
		if err != nil {
			return refused(err)
		}
		if err := info.Check(); err != nil {
			return refused(err)
		}
		loads = append(loads, postgres.BaselineLoad{Kind: kind, Info: info, Dataset: dataset, Date: date})
	}
	// Each file's tiles come from raster2pgsql as the transaction reaches it.
	var procs []*tileProcess
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i, p := range paths {
		tp, err := startRaster2pgsql(ctx, p)
		if err != nil {
			return err
		}
		procs = append(procs, tp)
		loads[i].Tiles = tp
	}
	start := time.Now()
	svc := postgres.NewScreeningService(db)
	loaded, err := svc.LoadBaselines(ctx, loads)
	if err != nil {
		return refused(err)
	}
	var all orb.Bound
	for i, b := range loaded {
		if i == 0 {
			all = b.Bounds
		} else {
			all = all.Union(b.Bounds)
		}
		fmt.Fprintf(c.stdout, "loaded %s baseline %d from %s: %s (%s), %s tiles, pixels of %g°, values %s\n", b.Kind, b.ID, b.SourceFile, b.Dataset,
			b.DatasetDate.Format(time.DateOnly), groupInt(b.Tiles), b.PixelWidth, valueRange(b))
	}
	fmt.Fprintf(c.stdout, "%d file(s) loaded in %s s.", len(loaded), formatSeconds(time.Since(start)))
	if n, err := svc.PlotsIn(ctx, all); err == nil && n > 0 {
		fmt.Fprintf(c.stdout, " %s plots lie in them: run `vungtrong screen` to screen them.", groupInt(int(n)))
	}
	fmt.Fprintln(c.stdout)
	return nil
}

// gdalInfo is the part of `gdalinfo -json` that screening needs.
type gdalInfo struct {
	Size             []int `json:"size"`
	CoordinateSystem *struct {
		WKT string `json:"wkt"`
	} `json:"coordinateSystem"`
	GeoTransform []float64 `json:"geoTransform"`
	Bands        []struct {
		Type string `json:"type"`
	} `json:"bands"`
	Stac map[string]any `json:"stac"`
}

// epsgOfWKT reads the EPSG code a WKT definition ends with (WKT2 ID or WKT1 AUTHORITY).
var epsgOfWKT = regexp.MustCompile(`(?:ID\["EPSG",\s*|AUTHORITY\["EPSG",\s*")(\d+)"?\]\]\s*$`)

// readRasterInfo asks GDAL what a raster file says about itself.
func readRasterInfo(ctx context.Context, path string) (registry.RasterInfo, error) {
	info := registry.RasterInfo{File: filepath.Base(path)}
	if _, err := os.Stat(path); err != nil {
		return info, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("%s: %v", path, errors.Unwrap(err))}
	}
	if _, err := exec.LookPath("gdalinfo"); err != nil {
		return info, errors.New("gdalinfo is not installed: it reads the files' coordinate systems (Debian: apt-get install -y gdal-bin)")
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "gdalinfo", "-json", path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return info, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("%s is not a raster GDAL can read: %s", info.File, strings.TrimSpace(stderr.String()))}
	}
	var gi gdalInfo
	if err := json.Unmarshal(out, &gi); err != nil {
		return info, fmt.Errorf("reading gdalinfo's answer about %s: %w", info.File, err)
	}
	if gi.CoordinateSystem != nil {
		info.CRS = gi.CoordinateSystem.WKT
	}
	if v, ok := gi.Stac["proj:epsg"].(float64); ok {
		info.EPSG = int(v)
	} else if m := epsgOfWKT.FindStringSubmatch(info.CRS); m != nil {
		info.EPSG, _ = strconv.Atoi(m[1])
	}
	if len(gi.Size) == 2 {
		info.Width, info.Height = gi.Size[0], gi.Size[1]
	}
	info.Bands = len(gi.Bands)
	if info.Bands > 0 {
		info.BandType = gi.Bands[0].Type
	}
	gt := gi.GeoTransform
	if len(gt) != 6 {
		gt = []float64{0, 1, 0, 0, 0, 1} // GDAL's default: pixel coordinates
	}
	info.Rotated = gt[2] != 0 || gt[4] != 0
	info.PixelWidth, info.PixelHeight = abs(gt[1]), abs(gt[5])
	w, h := float64(info.Width), float64(info.Height)
	x0, y0 := gt[0], gt[3]
	x1, y1 := gt[0]+w*gt[1]+h*gt[2], gt[3]+w*gt[4]+h*gt[5]
	info.Bounds = orb.Bound{Min: orb.Point{min(x0, x1), min(y0, y1)}, Max: orb.Point{max(x0, x1), max(y0, y1)}}
	return info, nil
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// tileProcess reads the tiles raster2pgsql writes; at the end of its output it reports how the
// process ended.
type tileProcess struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *bytes.Buffer
	file   string
	once   sync.Once
	err    error
}

// startRaster2pgsql starts raster2pgsql on a file: band 1 in tiles of 256 x 256 as COPY rows,
// in EPSG:4326, with 0 as "no data" where the band names none (so tiles holding only zeros,
// no forest or no loss, are not stored).
func startRaster2pgsql(ctx context.Context, path string) (*tileProcess, error) {
	if _, err := exec.LookPath("raster2pgsql"); err != nil {
		return nil, errors.New("raster2pgsql is not installed: it cuts the files into tiles for PostGIS (Debian: apt-get install -y postgis)")
	}
	cmd := exec.CommandContext(ctx, "raster2pgsql", "-a", "-Y", "1000", "-t", "256x256", "-s", "4326", "-b", "1", "-N", "0", path, "baseline_tile")
	tp := &tileProcess{cmd: cmd, stderr: &bytes.Buffer{}, file: filepath.Base(path)}
	cmd.Stderr = tp.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tp.out = out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting raster2pgsql: %w", err)
	}
	return tp, nil
}

func (tp *tileProcess) Read(b []byte) (int, error) {
	n, err := tp.out.Read(b)
	if err == io.EOF {
		if werr := tp.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (tp *tileProcess) wait() error {
	tp.once.Do(func() {
		if err := tp.cmd.Wait(); err != nil {
			msg := strings.TrimSpace(tp.stderr.String())
			if i := strings.LastIndex(msg, "\n"); i >= 0 {
				msg = msg[i+1:]
			}
			tp.err = fmt.Errorf("raster2pgsql could not read %s (%v): %s", tp.file, err, msg)
		}
	})
	return tp.err
}

// stop ends the process if it still runs (the load was refused before reaching its file).
func (tp *tileProcess) stop() {
	if tp.cmd.ProcessState == nil && tp.cmd.Process != nil {
		_ = tp.cmd.Process.Kill()
	}
	_ = tp.out.Close()
	_ = tp.wait()
}

// screenFlags are the options of `vungtrong screen`.
type screenFlags struct {
	province                 string
	restart, background      bool
	quiet                    bool
	workers, batch           int
	minShare, treecoverLimit float64
}

func (c *cli) screenCommand() *cobra.Command {
	var f screenFlags
	cmd := &cobra.Command{
		Use:   "screen",
		Short: "Screen every plot (or a province's) against the loaded forest maps for deforestation after 2020 (EUDR)",
		Long: `Screen plots against the loaded baselines (vungtrong baseline load): each plot's forest at the
end of 2020 and its tree cover loss since (hectares and percent), and a risk by Whisp's rule for
perennial crops: low, high or more information needed. Plots are screened in id order, a batch a
transaction; the run records how far it got, and running the command again resumes there (after
Ctrl-C, a crash or a restart). Plots written later are screened by the servers within seconds.
--background hands the run to the servers' job runner instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				return c.runScreen(cmd, db, f)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.province, "province", "", "screen only this province's plots (GSO code such as 66, or name)")
	fl.BoolVar(&f.restart, "restart", false, "start from the first plot, abandoning an unfinished run (after new baselines or rules)")
	fl.BoolVar(&f.background, "background", false, "queue the run for the servers (vungtrong serve) instead of running it here")
	fl.IntVar(&f.workers, "workers", 0, "batches screened at once (default: this machine's CPUs)")
	fl.IntVar(&f.batch, "batch", 0, "plots a transaction (default 250)")
	fl.Float64Var(&f.minShare, "min-share", 0, "set the rule: a map's class counts for a plot above this percent of it (Whisp: 10)")
	fl.Float64Var(&f.treecoverLimit, "treecover-threshold", 0, "set the rule: Hansen canopy cover (percent) from which a pixel has tree cover (default 10)")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	cmd.AddCommand(&cobra.Command{
		Use:   "runs",
		Short: "List the batch screenings and how far each got",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				runs, err := postgres.NewScreeningService(db).Runs(cmd.Context(), 20)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "id\tprovince\tstate\tdone\ttotal\tlast plot\tstarted\tupdated\terror")
				for _, r := range runs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, cmpOr(r.ProvinceCode, "all"), r.State, groupInt(int(r.Done)), groupInt(int(r.Total)),
						r.LastPlotID, r.StartedAt.Local().Format(time.DateTime), r.UpdatedAt.Local().Format(time.DateTime), r.Error)
				}
				return tw.Flush()
			})
		},
	})
	return cmd
}

func (c *cli) runScreen(cmd *cobra.Command, db *postgres.DB, f screenFlags) error {
	ctx := registry.NewContextWithActor(cmd.Context(), registry.SystemActor("screen"))
	svc := postgres.NewScreeningService(db)
	if f.workers > 0 {
		svc.Workers = f.workers
	}
	if f.batch > 0 {
		svc.BatchSize = f.batch
	}
	if f.minShare != 0 || f.treecoverLimit != 0 {
		r, err := svc.Rules(ctx)
		if err != nil {
			return err
		}
		if f.minShare != 0 {
			r.MinSharePct = f.minShare
		}
		if f.treecoverLimit != 0 {
			r.TreecoverThresholdPct = f.treecoverLimit
		}
		if err := svc.SetRules(ctx, r); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "rules: a map counts above %g%% of a plot; tree cover from %g%% canopy\n", r.MinSharePct, r.TreecoverThresholdPct)
	}
	baselines, err := svc.Baselines(ctx)
	if err != nil {
		return err
	}
	if len(baselines) == 0 {
		return errors.New("no baseline is loaded: load forest maps first (vungtrong baseline load --kind forest2020 FILE.tif, and --kind lossyear)")
	}
	province := ""
	if f.province != "" {
		ref, err := db.ResolveProvince(ctx, f.province)
		if err != nil {
			return err
		}
		province = ref.Code
	}
	run, resumed, err := svc.StartRun(ctx, province, f.restart)
	if err != nil {
		return err
	}
	scope := "every province"
	if province != "" {
		scope = "province " + province
	}
	if resumed {
		fmt.Fprintf(c.stdout, "resuming screening run %d of %s after plot %d (%s of %s plots done)\n", run.ID, scope, run.LastPlotID, groupInt(int(run.Done)), groupInt(int(run.Total)))
	} else {
		fmt.Fprintf(c.stdout, "screening run %d: %s plots of %s\n", run.ID, groupInt(int(run.Total)), scope)
	}
	if f.background {
		jobs, err := postgres.NewJobs(db, postgres.JobsOptions{})
		if err != nil {
			return err
		}
		if err := svc.QueueRun(ctx, jobs, run.ID); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, "queued: the servers screen the plots; follow with `vungtrong screen runs`")
		return nil
	}
	start, startDone := time.Now(), run.Done
	bar := &screenBar{w: c.stderr, on: !f.quiet && isTerminal(c.stderr), start: start, from: startDone}
	run, err = svc.RunBatch(ctx, run.ID, bar.update)
	bar.finish()
	if err != nil {
		if ctx.Err() != nil && run != nil {
			fmt.Fprintf(c.stdout, "stopped after plot %d (%s of %s done): run `vungtrong screen` again to resume\n", run.LastPlotID, groupInt(int(run.Done)), groupInt(int(run.Total)))
		}
		return err
	}
	elapsed := time.Since(start)
	n := run.Done - startDone
	fmt.Fprintf(c.stdout, "screened %s plots in %s s (%s plots/s)\n", groupInt(int(n)), formatSeconds(elapsed), groupInt(int(float64(n)/max(elapsed.Seconds(), 0.001))))
	byRisk, none, err := svc.Totals(ctx, province)
	if err != nil {
		return err
	}
	for _, r := range []struct {
		risk  registry.Risk
		label string
	}{{registry.RiskLow, "low risk"}, {registry.RiskHigh, "high risk"}, {registry.RiskMoreInfo, "more information needed"}} {
		t := byRisk[r.risk]
		fmt.Fprintf(c.stdout, "  %-24s %10s plots %14s ha\n", r.label+":", groupInt(t.Plots), formatHa(t.AreaHa))
	}
	if none.Plots > 0 {
		fmt.Fprintf(c.stdout, "  %-24s %10s plots %14s ha (changed meanwhile: the servers screen them)\n", "not screened:", groupInt(none.Plots), formatHa(none.AreaHa))
	}
	return nil
}

func formatHa(ha float64) string {
	return strings.Replace(fmt.Sprintf("%.1f", ha), ".", ",", 1)
}

// screenBar draws a run's progress on a terminal.
type screenBar struct {
	w     io.Writer
	on    bool
	start time.Time
	from  int64
	last  time.Time
	drawn bool
}

func (b *screenBar) update(r registry.ScreeningRun) {
	if !b.on || time.Since(b.last) < 200*time.Millisecond {
		return
	}
	b.last = time.Now()
	frac := 0.0
	if r.Total > 0 {
		frac = min(float64(r.Done)/float64(r.Total), 1)
	}
	const width = 30
	filled := int(frac * width)
	rate := float64(r.Done-b.from) / max(time.Since(b.start).Seconds(), 0.001)
	fmt.Fprintf(b.w, "\rscreening [%s%s] %3d%%  %s / %s plots  %s plots/s ", strings.Repeat("█", filled), strings.Repeat("░", width-filled),
		int(frac*100), groupInt(int(r.Done)), groupInt(int(r.Total)), groupInt(int(rate)))
	b.drawn = true
}

func (b *screenBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
