// Command foundation is a terminal application for Jira Lenses. main only runs the root
// command and turns its error into an exit code.
package main

import (
	"context"
	"os"

	"foundation/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:]))
}
