// Command vungtrong is the Vùng Trồng registry: the HTTP server, the embedded database and the
// operator commands (migrate, db, demo, token, config, version).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "vungtrong:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks a wrong command line (exit status 2).
type usageError struct{ error }

// cli holds what every subcommand shares.
type cli struct {
	stdout, stderr io.Writer
	cfg            Config
	log            *slog.Logger
	configPath     string
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	c := &cli{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "vungtrong",
		Short:         "Vùng Trồng: the registry of farm plots, growing areas and their export codes",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Annotations["config"] == "none" {
				return nil // must work with a broken configuration
			}
			cfg, err := loadConfig(newViper(cmd.Flags()), c.configPath)
			if err != nil {
				return err
			}
			c.cfg = cfg
			c.log = newLogger(stderr, cfg)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&c.configPath, "config", "", "configuration file (default ./vungtrong.yaml when it exists)")
	pf.String("data-dir", "", "folder for the embedded database and local state (data_dir)")
	pf.String("database-url", "", "PostgreSQL + PostGIS server URL; empty = embedded (database.url)")
	pf.String("log-level", "", "debug, info, warn or error (log.level)")
	root.AddCommand(c.serveCommand(), c.migrateCommand(), c.dbCommand(), c.demoCommand(), c.tokenCommand(), c.userCommand(), c.configCommand(), c.versionCommand(), c.importCommand())
	root.AddCommand(c.backupCommand(), c.restoreCommand())
	root.AddCommand(c.eudrCommand())
	root.AddCommand(c.baselineCommand(), c.screenCommand(), c.cropCommand())
	return root
}

func newLogger(w io.Writer, cfg Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.Level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (c *cli) serveCommand() *cobra.Command {
	var demoDir string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Start the database (embedded unless database.url is set), migrate, and serve the API and map",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			app, err := OpenApp(ctx, c.cfg, c.log, c.stdout)
			if err != nil {
				return err
			}
			defer app.Close()
			if demoDir != "" {
				if err := loadDemo(ctx, app.DB(), c.cfg, demoDir, c.log); err != nil {
					return err
				}
			}
			if err := app.Listen(); err != nil {
				return err
			}
			c.log.Info("serving", "addr", app.Addr(), "url", "http://"+displayAddr(app.Addr()))
			return app.Serve(ctx)
		},
	}
	cmd.Flags().String("http-addr", "", "address to listen on, e.g. :8080 (http.addr)")
	cmd.Flags().StringVar(&demoDir, "load-demo", "", "load the demo dataset in this folder (idempotent) before serving")
	return cmd
}

func displayAddr(addr string) string {
	if len(addr) > 0 && addr[0] == ':' {
		return "localhost" + addr
	}
	if len(addr) > 5 && addr[:5] == "[::]:" {
		return "localhost:" + addr[5:]
	}
	return addr
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:         "version",
		Short:       "Print the version",
		Annotations: map[string]string{"config": "none"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						v += " (" + s.Value[:12] + ")"
					}
				}
				fmt.Fprintf(c.stdout, "vungtrong %s %s\n", v, bi.GoVersion)
				return nil
			}
			fmt.Fprintf(c.stdout, "vungtrong %s\n", v)
			return nil
		},
	}
}

func (c *cli) configCommand() *cobra.Command {
	return &cobra.Command{
		Use:         "config",
		Short:       "List every configuration key with its environment variable, default and current value",
		Annotations: map[string]string{"config": "none"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := newViper(cmd.Flags())
			_, err := loadConfig(v, c.configPath)
			for _, k := range configKeys {
				cur := v.GetString(k.name)
				if (k.name == "database.url" || k.name == "auth.admin_password") && cur != "" {
					cur = "(set)" // may hold a password
				}
				fmt.Fprintf(c.stdout, "%-27s %-36s default %-10q now %q\n    %s; allowed: %s\n", k.name, k.EnvName(), k.def, cur, k.doc, k.allowed)
			}
			return err
		},
	}
}
