package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/compliance/eudr"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// eudrExporter is the EUDR exporter of the app's jobs and of the CLI, with the deforestation
// screening's word on the exported plots for its summary.
func (a *App) eudrExporter() *postgres.EUDRExporter {
	return newEUDRExporter(a.db)
}

func newEUDRExporter(db *postgres.DB) *postgres.EUDRExporter {
	x := postgres.NewEUDRExporter(db)
	// The summary says how the exported plots were screened for deforestation.
	x.Screening = postgres.NewScreeningService(db)
	return x
}

// eudrFlags are the options of `vungtrong eudr export`.
type eudrFlags struct {
	req    registry.EUDRExportRequest
	out    string
	public bool
	quiet  bool
}

func (c *cli) eudrCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "eudr", Short: "EUDR geolocation: export plots as the EU Information System takes them, check an export"}
	var f eudrFlags
	export := &cobra.Command{
		Use:   "export (--consignment CODE | --producer ID | --cooperative ID | --growing-area ID | --commune CODE | --province CODE) --out FILE.zip",
		Short: "Write the EUDR geolocation of a consignment's or a selection's plots: GeoJSON files, due diligence statements and a summary, zipped",
		Long: `Write the geolocation of the selected plots as the EU Information System takes it
(Regulation (EU) 2023/1115): GeoJSON, WGS 84 [lon, lat] with six decimals; each plot a
Polygon or MultiPolygon (holes cut away into hole-free parts of the same area), or with
--points a Point with its Area for plots of 4 ha or less; ProducerName, ProducerCountry,
ProductionPlace; files of at most --max-mb each. The zip also holds each file's due
diligence statement as the EU system's API takes it (dds.json, or dds-001.json...) and
summary.json (plots, hectares, producers, HS headings, net mass, screening outcome, what was
changed or left out). The export streams: a province's plots are never held in memory.
It runs as the system (every producer name); --public withholds the households' names, as
for a reader who may not see them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.out == "" {
				return usageError{errors.New("eudr export: --out FILE.zip is required")}
			}
			f.req.Normalize()
			if err := f.req.Validate(); err != nil {
				return usageError{fmt.Errorf("eudr export: %s", describeInvalid(err))}
			}
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				return c.runEUDRExport(cmd.Context(), db, f)
			})
		},
	}
	fl := export.Flags()
	fl.StringVar(&f.req.Consignment, "consignment", "", "a consignment's code (C-XXXXXXXX): the plots of its lots")
	fl.Int64Var(&f.req.ProducerID, "producer", 0, "a producer's id: its plots")
	fl.Int64Var(&f.req.CooperativeID, "cooperative", 0, "a cooperative's id: its members' plots and its own")
	fl.Int64Var(&f.req.GrowingAreaID, "growing-area", 0, "a growing area's id: its plots")
	fl.StringVar(&f.req.CommuneCode, "commune", "", "a commune's 2025 GSO code (5 digits): its plots")
	fl.StringVar(&f.req.ProvinceCode, "province", "", "a province's 2025 GSO code (2 digits): its plots")
	fl.StringVar(&f.req.Crop, "crop", "", "only the plots of this crop (code or name: coffee, cà phê)")
	fl.BoolVar(&f.req.Points, "points", false, "write plots of 4 ha or less as a point with their Area")
	fl.Float64Var(&f.req.MaxFileMB, "max-mb", eudr.DefaultMaxFileBytes/1e6, "largest GeoJSON file, in MB of 1,000,000 bytes (at most 25)")
	fl.StringVar(&f.req.Activity, "activity", eudr.ActivityImport, "the statements' activity: "+strings.Join(eudr.Activities, ", "))
	fl.StringVar(&f.out, "out", "", "the zip to write")
	fl.BoolVar(&f.public, "public", false, "withhold the households' names (personal data), as for a reader who may not see them")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress")

	var maxMB float64
	check := &cobra.Command{
		Use:         "check FILE.zip",
		Short:       "Check an EUDR export against every rule (geometry, decimals, properties, file sizes, each plot once)",
		Annotations: map[string]string{"config": "none"},
		Args:        cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runEUDRCheck(args[0], int64(maxMB*1e6))
		},
	}
	check.Flags().Float64Var(&maxMB, "max-mb", eudr.DefaultMaxFileBytes/1e6, "largest GeoJSON file allowed, in MB of 1,000,000 bytes")
	cmd.AddCommand(export, check)
	return cmd
}

// describeInvalid lists an EINVALID error's details.
func describeInvalid(err error) string {
	var parts []string
	for _, d := range registry.ErrorDetails(err) {
		parts = append(parts, d.Message)
	}
	if len(parts) == 0 {
		return registry.ErrorMessage(err)
	}
	return strings.Join(parts, "; ")
}

func (c *cli) runEUDRExport(ctx context.Context, db *postgres.DB, f eudrFlags) error {
	actor := registry.SystemActor("eudr-export")
	if f.public {
		actor = registry.Actor{}
	}
	ctx = registry.NewContextWithActor(ctx, actor)
	dir := filepath.Dir(f.out)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bar := &eudrProgress{w: c.stderr, on: !f.quiet && isTerminal(c.stderr), start: time.Now()}
	sum, err := newEUDRExporter(db).ExportEUDR(ctx, f.req, tmp, bar.update)
	bar.finish()
	if err != nil {
		tmp.Close()
		if code := registry.ErrorCode(err); code == registry.EINVALID || code == registry.ENOTFOUND {
			return fmt.Errorf("eudr export: nothing was written: %s", registry.ErrorMessage(err))
		}
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.out); err != nil {
		return err
	}
	st, _ := os.Stat(f.out)
	writeEUDRSummary(c.stdout, f.out, st.Size(), sum)
	return nil
}

// writeEUDRSummary prints an export's summary for people.
func writeEUDRSummary(w io.Writer, path string, size int64, s *eudr.Summary) {
	fmt.Fprintf(w, "EUDR export %s (%s KB, %s s)\n", path, groupInt(int(size>>10)), formatSeconds(time.Duration(s.Elapsed*float64(time.Second))))
	fmt.Fprintf(w, "  plots      %s (%s ha), %s producers; names withheld: %s producers, %s plots\n", groupInt(s.Plots),
		strings.Replace(fmt.Sprintf("%.4f", s.Hectares), ".", ",", 1), groupInt(s.Producers), groupInt(s.WithheldNames), groupInt(s.WithheldPlots))
	net := "-"
	if s.NetMassKg != nil {
		net = strings.Replace(fmt.Sprintf("%g kg", *s.NetMassKg), ".", ",", 1)
	}
	fmt.Fprintf(w, "  goods      HS %s, net mass %s\n", strings.Join(s.HSHeadings, ", "), net)
	g := s.Geometry
	fmt.Fprintf(w, "  geometry   %s polygons, %s points; holes cut away in %s plots, %s mended after rounding, %s positions dropped\n",
		groupInt(g.Polygons), groupInt(g.Points), groupInt(g.HolesRemoved), groupInt(g.Repaired), groupInt(g.VerticesDropped))
	for _, f := range s.Files {
		fmt.Fprintf(w, "  file       %-20s %8s KB %8s plots\n", f.Name, groupInt(int(f.Bytes>>10)), groupInt(f.Features))
	}
	for _, st := range s.Statements {
		fmt.Fprintf(w, "  statement  %-20s %s producers, %s plots\n", st.Reference, groupInt(st.Producers), groupInt(st.Plots))
	}
	fmt.Fprintf(w, "  screening  %s\n", s.Screening.Outcome)
	for _, m := range s.Warnings {
		fmt.Fprintf(w, "  warning    %s\n", m)
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  left out   plot %d: %s\n", p.Plot, p.Message)
	}
}

func (c *cli) runEUDRCheck(path string, maxBytes int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := eudr.Validate(f, st.Size(), eudr.ValidateOptions{MaxFileBytes: maxBytes})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s: %s plots in %d files (%s polygons, %s multipolygons of %s parts, %s points), %d statements\n", path,
		groupInt(rep.Features), len(rep.Files), groupInt(rep.Polygons), groupInt(rep.MultiPolygons), groupInt(rep.Parts), groupInt(rep.Points), rep.Statements)
	if err := rep.Err(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "every rule holds")
	return nil
}

// eudrProgress draws an export's progress on a terminal.
type eudrProgress struct {
	w     io.Writer
	on    bool
	mu    sync.Mutex
	start time.Time
	drawn bool
}

func (b *eudrProgress) update(p registry.EUDRExportProgress) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	line := fmt.Sprintf("%-9s %s plots", p.Stage, groupInt(p.Plots))
	if p.Total > 0 {
		const width = 30
		frac := float64(p.Plots) / float64(p.Total)
		filled := min(int(frac*width), width)
		line = fmt.Sprintf("%-9s [%s%s] %3d%%  %s / %s plots, %d files", p.Stage, strings.Repeat("█", filled), strings.Repeat("░", width-filled),
			int(frac*100), groupInt(p.Plots), groupInt(p.Total), p.Files)
	}
	fmt.Fprintf(b.w, "\r%-78s %5s s", line, formatSeconds(time.Since(b.start)))
	b.drawn = true
}

func (b *eudrProgress) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
