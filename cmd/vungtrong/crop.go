package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// cropCommand lists the crops with their traceability rules and changes them: the yield cap
// the code-borrowing checks weigh a season's lots against, and the harvest months.
func (c *cli) cropCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "crop", Short: "List the crops and set their yield caps and harvest months (the traceability checks' rules)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the crops: code, names, yield cap (t/ha a season), harvest months, smallest growing area, HS heading, EUDR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				crops, err := postgres.NewCropService(db).ListCrops(cliContext(cmd))
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "code\tname\tyield cap t/ha\tharvest months\tmin area ha\tHS\tEUDR")
				for _, k := range crops {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Code, k.NameVI, yieldCapText(k.YieldCapTHa), monthsText(k.HarvestMonths), strconv.FormatFloat(k.MinAreaHa, 'f', -1, 64), k.HSHeading, map[bool]string{true: "yes", false: ""}[k.EUDR])
				}
				return tw.Flush()
			})
		},
	})
	var capText, monthsArg, minAreaText string
	set := &cobra.Command{
		Use:   "set CROP [--yield-cap T_HA] [--harvest-months 10,11,12,1,2] [--min-area HA]",
		Short: "Set a crop's yield cap (tonnes a hectare a season; 0 removes it), harvest months (empty: any month) or smallest growing area",
		Long: `Set the rules the code-borrowing checks apply to a crop's harvest lots: a growing area's
lots of one season may weigh up to its hectares × the yield cap (plus trace.yield_tolerance),
and a lot harvested outside the harvest months is flagged. A season that runs across the new
year (coffee: 10,11,12,1,2) belongs to the year it starts in. --min-area is the smallest
growing area of the crop, in hectares (1 for perennial crops, 0.1 for annual ones by default).
The crop is named by code or
name (coffee, cà phê, ca phe). The change is recorded in the audit log.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r registry.CropRules
			if cmd.Flags().Changed("yield-cap") {
				v, err := strconv.ParseFloat(strings.TrimSpace(capText), 64)
				if err != nil {
					return usageError{fmt.Errorf("--yield-cap %q: give tonnes a hectare a season, such as 3.5 (0 removes the cap)", capText)}
				}
				r.YieldCapTHa = &v
			}
			if cmd.Flags().Changed("harvest-months") {
				r.HarvestMonths = []int{}
				for _, f := range strings.FieldsFunc(monthsArg, func(r rune) bool { return r == ',' || r == ' ' }) {
					m, err := strconv.Atoi(f)
					if err != nil {
						return usageError{fmt.Errorf("--harvest-months %q: %q is not a month; give months 1-12 separated by commas, such as 10,11,12,1,2", monthsArg, f)}
					}
					r.HarvestMonths = append(r.HarvestMonths, m)
				}
			}
			if cmd.Flags().Changed("min-area") {
				v, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(minAreaText, ",", ".")), 64)
				if err != nil {
					return usageError{fmt.Errorf("--min-area %q: give hectares, such as 1 or 0,5", minAreaText)}
				}
				r.MinAreaHa = &v
			}
			if r.YieldCapTHa == nil && r.HarvestMonths == nil && r.MinAreaHa == nil {
				return usageError{fmt.Errorf("crop set: nothing to change: add --yield-cap, --harvest-months or --min-area")}
			}
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				k, err := postgres.NewCropService(db).SetCropRules(cliContext(cmd), args[0], r)
				if err != nil {
					if registry.ErrorCode(err) == registry.EINVALID {
						return fmt.Errorf("crop set: nothing was changed: %s", describeInvalid(err))
					}
					return err
				}
				fmt.Fprintf(c.stdout, "%s (%s): yield cap %s t/ha, harvest months %s, smallest growing area %s ha\n", k.NameVI, k.Code, yieldCapText(k.YieldCapTHa), monthsText(k.HarvestMonths), strconv.FormatFloat(k.MinAreaHa, 'f', -1, 64))
				return nil
			})
		},
	}
	set.Flags().StringVar(&capText, "yield-cap", "", "tonnes a hectare a season; 0 removes the cap")
	set.Flags().StringVar(&monthsArg, "harvest-months", "", "months of the harvest, 1-12, comma-separated; empty allows any month")
	set.Flags().StringVar(&minAreaText, "min-area", "", "the smallest growing area of the crop, in hectares")
	cmd.AddCommand(set)
	return cmd
}

func yieldCapText(v *float64) string {
	if v == nil {
		return "none"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func monthsText(ms []int) string {
	if len(ms) == 0 {
		return "any"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = strconv.Itoa(m)
	}
	return strings.Join(parts, ",")
}
