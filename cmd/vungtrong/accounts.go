package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
)

func (c *cli) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create, list or revoke API tokens"}
	var user string
	create := &cobra.Command{
		Use:   "create NAME --user LOGIN",
		Short: "Create an API token acting for a user (with the user's role); its secret is printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return usageError{fmt.Errorf("token create: which account does the token act for? add --user LOGIN (e.g. --user admin)")}
			}
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				ctx := cliContext(cmd)
				u, err := postgres.NewUserService(db).FindUserByLogin(ctx, user)
				if err != nil {
					return fmt.Errorf("no account %q: %w", user, err)
				}
				secret, _, err := postgres.NewTokenService(db).CreateToken(ctx, u.ID, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, secret)
				fmt.Fprintf(c.stderr, "token %q for %s (%s) created: use it as `Authorization: Bearer <token>`; it is not shown again\n", args[0], user, u.Role)
				return nil
			})
		},
	}
	create.Flags().StringVar(&user, "user", "", "user name or phone number of the account the token acts for")
	cmd.AddCommand(create, &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				ctx := cliContext(cmd)
				tokens, err := postgres.NewTokenService(db).ListTokens(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tUSER\tNAME\tPREFIX\tCREATED\tLAST USED\tSTATE")
				for _, t := range tokens {
					used, state := "never", "live"
					if t.LastUsedAt != nil {
						used = t.LastUsedAt.Local().Format(time.DateTime)
					}
					if t.RevokedAt != nil {
						state = "revoked " + t.RevokedAt.Local().Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, cmpOr(t.Username, "(none)"), t.Name, t.Prefix, t.CreatedAt.Local().Format(time.DateTime), used, state)
				}
				return tw.Flush()
			})
		},
	}, &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token (its ID is in `token list`)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usageError{fmt.Errorf("token revoke: ID must be the number shown by `token list`, not %q", args[0])}
			}
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				ctx := cliContext(cmd)
				if err := postgres.NewTokenService(db).RevokeToken(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "revoked token %d\n", id)
				return nil
			})
		},
	})
	return cmd
}

// cliContext is the context of an operator command: it acts as the system, with admin rights.
func cliContext(cmd *cobra.Command) context.Context {
	return registry.NewContextWithActor(cmd.Context(), registry.SystemActor("cli"))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// readPassword returns the first line of r, for --password-stdin.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *cli) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Add, list or disable accounts and set their passwords"}
	var role, name, phone string
	var producer int64
	var provinces, communes []string
	var fromStdin bool
	add := &cobra.Command{
		Use:   "add [USERNAME] --role ROLE --name NAME",
		Short: "Add an account; without --password-stdin a password is made up and printed once",
		Example: `  vungtrong user add lan --role officer --name "Trần Thị Lan" --province 66
  vungtrong user add --role farmer --phone 0912345678 --name "Y Bhin Niê" --producer 42`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u := &registry.User{Role: role, DisplayName: name, Phone: phone}
			if len(args) == 1 {
				u.Username = args[0]
			}
			if producer != 0 {
				u.ProducerID = &producer
			}
			for _, p := range provinces {
				u.Jurisdictions = append(u.Jurisdictions, registry.Jurisdiction{ProvinceCode: p})
			}
			for _, cm := range communes {
				u.Jurisdictions = append(u.Jurisdictions, registry.Jurisdiction{CommuneCode: cm})
			}
			password, err := c.passwordFor(fromStdin)
			if err != nil {
				return err
			}
			u.MustChangePassword = !fromStdin
			return c.withDB(cmd, true, func(db *postgres.DB) error {
				ctx := cliContext(cmd)
				if err := postgres.NewUserService(db).CreateUser(ctx, u, password); err != nil {
					return describeLoadError(err)
				}
				fmt.Fprintf(c.stdout, "account %d (%s, %s) created\n", u.ID, cmpOr(u.Username, u.Phone), u.Role)
				if !fromStdin {
					fmt.Fprintf(c.stdout, "one-time password: %s\n(shown once; it must be changed at first sign-in)\n", password)
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "admin, officer, cooperative, exporter or farmer")
	add.Flags().StringVar(&name, "name", "", "the person's or organisation's name as shown in the header")
	add.Flags().StringVar(&phone, "phone", "", "phone number (how a farmer signs in)")
	add.Flags().Int64Var(&producer, "producer", 0, "id of the producer the account speaks for (farmer, cooperative, exporter)")
	add.Flags().StringSliceVar(&provinces, "province", nil, "an officer's province (GSO code, repeatable)")
	add.Flags().StringSliceVar(&communes, "commune", nil, "an officer's commune (GSO code, repeatable)")
	add.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")

	var passwdStdin bool
	passwd := &cobra.Command{
		Use:   "passwd LOGIN",
		Short: "Set an account's password and sign it out everywhere",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := c.passwordFor(passwdStdin)
			if err != nil {
				return err
			}
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				ctx := cliContext(cmd)
				users := postgres.NewUserService(db)
				u, err := users.FindUserByLogin(ctx, args[0])
				if err != nil {
					return fmt.Errorf("no account %q", args[0])
				}
				if err := users.SetPassword(ctx, u.ID, password, !passwdStdin); err != nil {
					return err
				}
				if passwdStdin {
					fmt.Fprintf(c.stdout, "password of %s set\n", args[0])
				} else {
					fmt.Fprintf(c.stdout, "one-time password of %s: %s\n(shown once; it must be changed at next sign-in)\n", args[0], password)
				}
				return nil
			})
		},
	}
	passwd.Flags().BoolVar(&passwdStdin, "password-stdin", false, "read the password from the first line of standard input")

	cmd.AddCommand(add, passwd, &cobra.Command{
		Use:   "disable LOGIN",
		Short: "Disable an account: its sessions end and its tokens are revoked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				ctx := cliContext(cmd)
				users := postgres.NewUserService(db)
				u, err := users.FindUserByLogin(ctx, args[0])
				if err != nil {
					return fmt.Errorf("no account %q", args[0])
				}
				if err := users.DisableUser(ctx, u.ID); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "disabled %s\n", args[0])
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withDB(cmd, false, func(db *postgres.DB) error {
				ctx := cliContext(cmd)
				users, _, err := postgres.NewUserService(db).FindUsers(ctx, registry.UserFilter{})
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tLOGIN\tROLE\tNAME\tJURISDICTION\tPRODUCER\tSTATE")
				for _, u := range users {
					var jur []string
					for _, j := range u.Jurisdictions {
						jur = append(jur, strings.TrimSuffix(j.ProvinceCode+"/"+j.CommuneCode, "/"))
					}
					prod, state := "", "active"
					if u.ProducerID != nil {
						prod = strconv.FormatInt(*u.ProducerID, 10)
					}
					if u.DisabledAt != nil {
						state = "disabled"
					} else if u.MustChangePassword {
						state = "must change password"
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, cmpOr(u.Username, registry.MaskPhone(u.Phone)), u.Role, u.DisplayName, strings.Join(jur, ","), prod, state)
				}
				return tw.Flush()
			})
		},
	})
	return cmd
}

// passwordFor reads a password from standard input, or makes one up.
func (c *cli) passwordFor(fromStdin bool) (string, error) {
	if !fromStdin {
		return registry.NewPassword(), nil
	}
	p, err := readPassword(os.Stdin)
	if err != nil || p == "" {
		return "", fmt.Errorf("--password-stdin: no password on standard input")
	}
	return p, nil
}
