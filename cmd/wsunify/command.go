package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
)

// A command is one subcommand of wsunify, in the manner of cmd/go's
// base.Command: its usage line, its help and its flags are data, and every
// command runs through the one setup of [run]: -C, the context cancelled
// by an interrupt, the streams (results on stdout, progress and errors on
// stderr) and the exit codes.
type command struct {
	Name      string
	UsageLine string // after "wsunify ": "plan [flags] [packages]"
	Short     string // its line in the list of commands
	Long      string // what "wsunify help NAME" prints before the flags

	// Flags declares the command's flags on fs, besides -C which every
	// command has, and returns the function that runs the command with
	// the arguments left after them.
	Flags func(fs *flag.FlagSet, inv *invocation) func(ctx context.Context, args []string) int
	// Progress gives the command the -progress flag and inv.progress: the
	// line of stderr that shows the stages of a long run.
	Progress bool
	// Args checks the number of arguments left after the flags.
	Args func(n int) bool
}

// commands is the table of the subcommands, in the order of the usage.
var commands []*command

func init() {
	commands = []*command{cmdPlan, cmdDiff, cmdApply, cmdCheck, cmdReport, cmdShim}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Exit codes, the same for every command.
const (
	exitOK       = 0
	exitFailure  = 1 // the tool failed, or refused to rewrite
	exitUsage    = 2
	exitFindings = 3 // check: legacy uses remain
)

// invocation is what a command runs with: the directory, the streams and
// the paths it prints relative to that directory.
type invocation struct {
	cmd            *command
	dir            chdirFlag // -C
	stdout, stderr io.Writer
	progress       *progressLine // nil unless cmd.Progress
	progressMode   progressFlag

	base string // dir, absolute: printed paths are relative to it
}

// rel returns name as the go command prints a file (see relPath).
func (inv *invocation) rel(name string) string { return relPath(inv.base, name) }

// failf prints "wsunify CMD: message" on stderr and returns exitFailure.
func (inv *invocation) failf(format string, args ...any) int {
	fmt.Fprintf(inv.stderr, "wsunify %s: %s\n", inv.cmd.Name, fmt.Sprintf(format, args...))
	return exitFailure
}

// fail prints err as failf does, with the paths below the directory of the
// run that the go command or the type checker wrote into it shortened (as
// relPath does), then what follows, and returns exitFailure.
func (inv *invocation) fail(err error, then ...string) int {
	msg := err.Error()
	if inv.base != "" {
		msg = shortenPaths(inv.base, msg)
	}
	return inv.failf("%s", strings.Join(append([]string{msg}, then...), "\n"))
}

// usagef prints a usage error and the command's usage line on stderr and
// returns exitUsage.
func (inv *invocation) usagef(format string, args ...any) int {
	fmt.Fprintf(inv.stderr, "wsunify %s: %s\nusage: wsunify %s\nRun 'wsunify help %s' for details.\n",
		inv.cmd.Name, fmt.Sprintf(format, args...), inv.cmd.UsageLine, inv.cmd.Name)
	return exitUsage
}

// printf draws a stage of the run, if the command shows its progress.
func (inv *invocation) printf(format string, args ...any) {
	if inv.progress != nil {
		inv.progress.printf(format, args...)
	}
}

// stage is the [codemod.Progress] hook of the command.
func (inv *invocation) stage(stage string, done, total int) {
	if inv.progress != nil {
		inv.progress.stage(stage, done, total)
	}
}

const usageHead = `usage: wsunify [-C dir] <command> [flags] [packages]

Commands:
`

const usageTail = `
Packages are patterns as the go command takes them (default "."). -C dir,
before the command or among its flags, runs it in dir as the go command
does. Run "wsunify help <command>" or "wsunify <command> -h" for the flags
of a command.

Exit status: 0 done, 1 the tool failed or refused, 2 usage, and for check
3 when legacy uses remain.
`

// printUsage prints the list of commands.
func printUsage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n", c.Name, c.Short)
	}
	fmt.Fprint(w, usageTail)
}

// run is the whole command, with its streams injected so that tests run it
// in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, args, err := leadingChdir(args)
	if err != nil {
		fmt.Fprintf(stderr, "wsunify: %v\n\n", err)
		printUsage(stderr)
		return exitUsage
	}
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		printUsage(stdout)
		return exitOK
	case "help":
		return help(rest, stdout, stderr)
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "wsunify: unknown command %q\n\n", name)
		printUsage(stderr)
		return exitUsage
	}
	if dir != "" {
		rest = append([]string{"-C", dir}, rest...)
	}
	return c.run(ctx, rest, stdout, stderr)
}

// help prints the help of a command, or the list of commands.
func help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		printUsage(stdout)
		return exitOK
	case len(args) > 1:
		fmt.Fprintln(stderr, "usage: wsunify help <command>")
		return exitUsage
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "wsunify help: unknown command %q\n", args[0])
		return exitUsage
	}
	c.help(stdout, nil)
	return exitOK
}

// help prints c's usage line, its help and the flags of fs (declared by
// c.Flags when fs is nil).
func (c *command) help(w io.Writer, fs *flag.FlagSet) {
	if fs == nil {
		fs, _ = c.flagSet(&invocation{cmd: c, stdout: io.Discard, stderr: io.Discard})
	}
	fmt.Fprintf(w, "usage: wsunify %s\n\n%s", c.UsageLine, strings.TrimLeft(c.Long, "\n"))
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// flagSet declares the flags of c, the shared ones and its own.
func (c *command) flagSet(inv *invocation) (*flag.FlagSet, func(context.Context, []string) int) {
	fs := flag.NewFlagSet("wsunify "+c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the parse error is printed by usagef
	fs.Var(&inv.dir, "C", "change to `dir` before running, as the go command does")
	if c.Progress {
		inv.progressMode = progressAuto
		fs.Var(&inv.progressMode, "progress", "show the stages of the run on stderr: `auto` (when stderr is a terminal), always or never")
	}
	var runFn func(context.Context, []string) int
	if c.Flags != nil {
		runFn = c.Flags(fs, inv)
	}
	return fs, runFn
}

// run is the setup every command shares: its flags, -C, the streams and
// the progress line; then the command itself.
func (c *command) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	inv := &invocation{cmd: c, stdout: stdout, stderr: stderr}
	fs, runFn := c.flagSet(inv)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help(stdout, fs)
			return exitOK
		}
		return inv.usagef("%v", err)
	}
	args = fs.Args()
	if c.Args != nil && !c.Args(len(args)) {
		return inv.usagef("wrong number of arguments")
	}
	if err := inv.dir.check(); err != nil {
		return inv.failf("%v", err)
	}
	base, err := filepath.Abs(string(inv.dir))
	if err != nil {
		return inv.failf("%v", err)
	}
	inv.base = base
	if c.Progress {
		inv.progress = newProgress(inv.stderr, inv.progressMode)
		defer inv.progress.clear()
		inv.stdout, inv.stderr = inv.progress.before(inv.stdout), inv.progress.before(inv.stderr)
	}
	return runFn(ctx, args)
}
