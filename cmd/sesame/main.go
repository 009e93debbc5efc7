// Command sesame is the single binary of sesame, the SSO and account
// onboarding gateway: it serves the web pages and the OpenID Connect
// provider, runs the job workers, and offers the administration commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit status: 0 on
// success, 1 when the work failed or found problems, 2 for a usage error.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	a := &app{out: out, errOut: errOut}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if cerr := a.close(); cerr != nil && err == nil {
		err = cerr
	}
	if err == nil {
		return 0
	}
	var e *exitError
	if !errors.As(err, &e) {
		// Errors that did not come out of a command's RunE are cobra's:
		// unknown command or flag, wrong number of arguments.
		fmt.Fprintf(errOut, "sesame: %v\nRun 'sesame --help' for usage.\n", err)
		return 2
	}
	if e.err != nil {
		fmt.Fprintf(errOut, "sesame: %v\n", e.err)
	}
	return e.code
}

// newRootCmd builds the command tree: serve, migrate, config, version, then
// every command registered in commands.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "sesame",
		Short: "Single sign-on and account onboarding for small hosters",
		Long: `sesame creates the accounts of a structure (an association) from a spreadsheet of people and
their rights, writes them to OpenLDAP, mails activation links, and is the OpenID Connect provider
of the structure's Nextcloud, WordPress and Paheko.

The configuration is read from the YAML file given with --config (or SESAME_CONFIG), and every key
can be overridden by a SESAME_* environment variable, e.g. SESAME_STORE_POSTGRES_DSN for
store.postgres.dsn. With no configuration at all, sesame keeps its data in ./data (SQLite) and
listens on 127.0.0.1:8080.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.PersistentFlags().StringVar(&a.cfgFile, "config", "", "Read the configuration from this YAML file (default: $SESAME_CONFIG, else built-in defaults).")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(newServeCmd(a), newMigrateCmd(a), newConfigCmd(a), newVersionCmd(a))
	for _, c := range commands {
		root.AddCommand(c(a))
	}
	markRunErrors(root)
	return root
}

// markRunErrors wraps every RunE of the tree so that its errors carry exit
// status 1 (unless they already carry one): whatever error reaches run
// without a status is then a usage error from cobra itself.
func markRunErrors(c *cobra.Command) {
	for _, f := range []*func(*cobra.Command, []string) error{&c.PersistentPreRunE, &c.PreRunE, &c.RunE, &c.PostRunE} {
		if *f == nil {
			continue
		}
		runE := *f
		*f = func(cmd *cobra.Command, args []string) error {
			err := runE(cmd, args)
			var e *exitError
			if err == nil || errors.As(err, &e) {
				return err
			}
			return exitWith(1, err)
		}
	}
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}
