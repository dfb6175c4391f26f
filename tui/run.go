package tui

import (
	"context"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run shows the app full-screen on in/out until the user quits or ctx ends. It prints
// nothing else: diagnostics go to Options.Logger.
func Run(ctx context.Context, opt Options, in io.Reader, out io.Writer) error {
	app, err := New(ctx, opt)
	if err != nil {
		return err
	}
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}
	if opt.NoColor {
		// Belt and braces: whatever a bubble styles on its own comes out plain too.
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	if _, err := tea.NewProgram(app, popts...).Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("tui: %w", ctx.Err())
		}
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}
