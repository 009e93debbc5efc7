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
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses of every command (the table is in docs/operations.md).
const (
	exitOK    = 0 // done, or nothing wrong found
	exitFail  = 1 // the work failed or found problems (e.g. import rows with errors)
	exitUsage = 2 // the command line is wrong: unknown command or flag, arguments, values
)

// run executes the command line args and returns the exit status: 0 on
// success, 1 when the work failed or found problems, 2 for a usage error.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	a := &app{out: out, errOut: errOut}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	cmd, err := root.ExecuteContextC(ctx)
	if cerr := a.close(); cerr != nil && err == nil {
		err = cerr
	}
	if err == nil {
		return exitOK
	}
	path := root.CommandPath()
	if cmd != nil {
		path = cmd.CommandPath()
	}
	var e *exitError
	if !errors.As(err, &e) {
		// Errors that did not come out of a command's RunE are cobra's:
		// unknown command or flag, wrong number of arguments.
		e = &exitError{code: exitUsage, err: err}
	}
	if e.err != nil {
		fmt.Fprintf(errOut, "sesame: %v\n", e.err)
	}
	if e.code == exitUsage {
		fmt.Fprintf(errOut, "Run '%s --help' for usage.\n", path)
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
listens on 127.0.0.1:8080. "sesame migrate" (or "sesame serve") creates the data; every other
command needs it to exist.

Exit status, for every command: 0 when it did its work (or found nothing wrong), 1 when the work
failed or found problems (an import with row errors, a directory that differs, no database where
it looked), 2 when the command line is wrong (unknown command or flag, missing argument, a value
that is not allowed, an unknown structure).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.PersistentFlags().StringVar(&a.cfgFile, "config", "", "Read the configuration from this YAML file (default: $SESAME_CONFIG, else built-in defaults).")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "Log at log.level (info by default); without it, commands other than serve log warnings and errors only.")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(newServeCmd(a), newMigrateCmd(a), newConfigCmd(a), newVersionCmd(a))
	for _, c := range commands {
		root.AddCommand(c(a))
	}
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultHelpCmd()       // now rather than at Execute, so that the
	root.InitDefaultCompletionCmd() // tree below is the one that runs
	requireSubcommands(root)
	markRunErrors(root)
	return root
}

// newHelpCmd replaces cobra's help command, which prints the root's help
// and exits 0 for a topic that names no command.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  `Help prints the help of the command named, e.g. "sesame help user resend".`,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err == nil && len(rest) > 0 {
				err = unknownSubcommand(target, rest)
				if err == nil || !target.HasSubCommands() {
					err = fmt.Errorf("%q takes no further command", target.CommandPath())
				}
			}
			if err != nil {
				return exitWith(exitUsage, err)
			}
			return target.Help()
		},
	}
}

// requireSubcommands makes every command that groups others (sesame,
// sesame user, ...) refuse a word that names none of its commands, with a
// hint, instead of printing its help and exiting 0; alone, a group prints
// its help.
func requireSubcommands(c *cobra.Command) {
	if !c.HasSubCommands() {
		return
	}
	c.Args = unknownSubcommand
	if c.RunE == nil && c.Run == nil {
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	for _, sub := range c.Commands() {
		requireSubcommands(sub)
	}
}

// unknownSubcommand is the Args of a group: any argument is an unknown
// command. The error suggests the commands with a close name, the commands
// of that name elsewhere in the tree, or else lists the group's commands.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	word := args[0]
	var hints []string
	cmd.SuggestionsMinimumDistance = 2
	for _, s := range cmd.SuggestionsFor(word) {
		hints = append(hints, cmd.CommandPath()+" "+s)
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Name() == word && sub.Parent() != cmd && sub.IsAvailableCommand() {
				hints = append(hints, sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(cmd.Root())
	if len(hints) > 0 {
		for i, h := range hints {
			hints[i] = strconv.Quote(h)
		}
		return fmt.Errorf("unknown command %q for %q; did you mean %s?", word, cmd.CommandPath(), strings.Join(hints, " or "))
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return fmt.Errorf("unknown command %q for %q; its commands are: %s", word, cmd.CommandPath(), strings.Join(names, ", "))
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
