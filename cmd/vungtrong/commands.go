package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

// withDB runs fn on the configured database (starting and stopping the embedded one around it
// when needed), after applying pending migrations when migrate is set.
func (c *cli) withDB(cmd *cobra.Command, migrate bool, fn func(db *postgres.DB) error) error {
	db, stop, err := openDB(cmd.Context(), c.cfg, c.log, postgres.Options{})
	if err != nil {
		return err
	}
	defer stop()
	if migrate {
		if _, err := db.MigrateUp(cmd.Context()); err != nil {
			return err
		}
	}
	return fn(db)
}

func (c *cli) migrateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply, revert or list schema migrations"}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every migration not applied yet",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				done, err := db.MigrateUp(cmd.Context())
				for _, m := range done {
					fmt.Fprintf(c.stdout, "applied  %04d_%s\n", m.Version, m.Name)
				}
				if err == nil && len(done) == 0 {
					fmt.Fprintln(c.stdout, "the schema is up to date")
				}
				return err
			})
		},
	}, &cobra.Command{
		Use:   "down [N]",
		Short: "Revert the last N migrations (default 1)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 1
			if len(args) == 1 {
				v, err := strconv.Atoi(args[0])
				if err != nil || v < 1 {
					return usageError{fmt.Errorf("migrate down: N must be a whole number >= 1, not %q", args[0])}
				}
				n = v
			}
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				done, err := db.MigrateDown(cmd.Context(), n)
				for _, m := range done {
					fmt.Fprintf(c.stdout, "reverted %04d_%s\n", m.Version, m.Name)
				}
				return err
			})
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "List migrations and when each was applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				all, err := db.MigrationStatus(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				for _, m := range all {
					at := "pending"
					if m.AppliedAt != nil {
						at = m.AppliedAt.Local().Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%04d\t%s\t%s\n", m.Version, m.Name, at)
				}
				return tw.Flush()
			})
		},
	})
	return cmd
}

func (c *cli) cluster(throwaway bool) (*pgcluster.Cluster, error) {
	if c.cfg.Database.URL != "" {
		return nil, fmt.Errorf("database.url is set: the embedded database is not used, so there is nothing to start or stop")
	}
	return pgcluster.New(pgcluster.Options{Dir: filepath.Join(c.cfg.DataDir, "pg"), Logger: c.log, Throwaway: throwaway})
}

func (c *cli) dbCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Start, stop or inspect the embedded PostgreSQL"}
	var throwaway bool
	start := &cobra.Command{
		Use:   "start",
		Short: "Start the embedded database (created on first start) and leave it running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.cluster(throwaway)
			if err != nil {
				return err
			}
			if _, err := cl.Start(cmd.Context()); err != nil {
				return err
			}
			if err := cl.EnsureDatabase(cmd.Context(), embeddedDatabase); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "running: %s\n", cl.URL(embeddedDatabase))
			return nil
		},
	}
	start.Flags().BoolVar(&throwaway, "throwaway", false, "trade durability for speed (fsync off): for test clusters only")
	cmd.AddCommand(start, &cobra.Command{
		Use:   "stop",
		Short: "Stop the embedded database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.cluster(false)
			if err != nil {
				return err
			}
			if err := cl.Stop(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(c.stdout, "stopped")
			return nil
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "Say whether the embedded database runs, where, and how to connect",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.cluster(false)
			if err != nil {
				return err
			}
			state := "not created"
			switch {
			case cl.Running(cmd.Context()):
				state = "running"
			case cl.Initialized():
				state = "stopped"
			}
			fmt.Fprintf(c.stdout, "state:  %s\ndir:    %s\nsocket: %s\nurl:    %s\nlog:    %s\n", state, cl.Dir(), cl.SocketDir(), cl.URL(embeddedDatabase), cl.LogFile())
			return nil
		},
	})
	return cmd
}
