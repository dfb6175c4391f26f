// Package cli holds Foundation's commands. Each command group lives in its own file;
// root.go wires them together and owns the global flags.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"foundation/jira"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"
)

// globals are the flags every command accepts.
type globals struct {
	configPath string
	site       string
	debug      bool
	noColor    bool
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	// client, when set, adjusts the options of every Jira client the command builds, after
	// the profile's and the command's own (tests shorten the time limits with it).
	client func(*jira.Options)
}

// Main runs the command line with args and returns the exit code.
func Main(ctx context.Context, args []string) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &globals{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	root := newRoot(g)
	// Explicitly the process's own files: execute stands another file in for os.Stdin
	// while fang runs (see execute.go), and cobra would otherwise read the variable.
	root.SetIn(os.Stdin)
	root.SetOut(os.Stdout)
	root.SetErr(os.Stderr)
	err := execute(ctx, root, args)
	return finalCode(ctx, err)
}

// finalCode picks the exit code: an explicit code from the command wins, then an interrupt,
// then cobra's usage errors, then the mapping of typed errors.
func finalCode(ctx context.Context, err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case ctx.Err() != nil:
		return ExitInterrupted
	case isUsage(err):
		return ExitUsage
	}
	return exitCode(err)
}

// isUsage recognises cobra's own flag and argument errors, which are not typed.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand", "unknown command", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// errorHandler prints errors as they are: fang's default capitalises the first letter,
// which mangles messages that start with a file name or a config field
// ("config.yaml:5: sites.acme.url: ...").
func errorHandler(w io.Writer, _ fang.Styles, err error) {
	fmt.Fprintf(w, "foundation: %s\n", err)
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "foundation",
		Short:         "Jira Lenses in the terminal",
		Long:          "Foundation renders hierarchical views of Jira issues (Lenses) from a local per-site cache.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var topt tuiOptions
	root.Flags().StringVar(&topt.lens, "lens", "", "open this Lens at start (default: the last one opened)")
	root.Flags().BoolVar(&topt.noMouse, "no-mouse", false, "turn mouse reporting off")
	root.Args = noSubcommand
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		cfg, site, db, err := g.profileCache(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		topt.events = &clientEvents{}
		client, err := g.connectCached(ctx, cfg, db, topt.events.option)
		if err != nil {
			return err
		}
		return runTUI(ctx, g, cfg, site, client, db, topt)
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.configPath, "config", "", "config file (default $FOUNDATION_CONFIG or $XDG_CONFIG_HOME/foundation/config.yaml)")
	pf.StringVar(&g.site, "site", "", "site profile to use (default: default_site from the config)")
	pf.BoolVar(&g.debug, "debug", false, "write a debug log (HTTP with secrets redacted) under $XDG_STATE_HOME/foundation/")
	pf.BoolVar(&g.noColor, "no-color", false, "disable color (NO_COLOR is honoured too)")
	root.AddCommand(
		newFakeJiraCmd(g),
		newSiteCmd(g),
		newRefreshCmd(g),
		newWebhookCmd(g),
		newLensCmd(g),
		newExportCmd(g),
		newDemoCmd(g),
		newEditCmd(g),
		newAuditCmd(g),
	)
	// Cobra adds its help and completion commands only when it executes; add them now so
	// they get the same check.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command that only groups others (lens, site,
// webhook, ...) refuse an argument that names none of them, with exit 2 and cobra's own
// suggestions, as the root does. Left alone, cobra prints such a command's help for any
// argument and exits 0, so a typo in a script would pass for success.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	if cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = noSubcommand
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		markHelpOnly(cmd)
	}
	for _, sub := range cmd.Commands() {
		if sub.Name() == "help" && sub.Runnable() && sub.Parent() == cmd {
			// `foundation help bogus` printed the root's help and exited 0.
			sub.Args = func(c *cobra.Command, args []string) error {
				target, rest, err := c.Root().Find(args)
				if err != nil {
					return usageError(err)
				}
				if len(rest) > 0 && target.HasSubCommands() {
					return noSubcommand(target, rest)
				}
				return nil
			}
			continue
		}
		refuseUnknownSubcommands(sub)
	}
}

// noSubcommand is the Args check of a command whose arguments can only be subcommands:
// `unknown command "bogus" for "foundation lens"`, plus the nearest names.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if sug := cmd.SuggestionsFor(args[0]); len(sug) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(sug, "\n\t")
	}
	return usageError(errors.New(msg))
}
