package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/scenarios"
	"github.com/apsandbox/apsandbox/scenarios/conformance"
)

// errFailed marks a run whose report is already printed: exit 1 without
// another message.
var errFailed = errors.New("some expectations failed")

// runCmd is `apsandbox run`: load and check every scenario first (bad
// input is exit 2 before anything is sent), start what was not given
// (the sandbox, the example vendor), run, report.
func runCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vendor := fs.String("vendor", "", "vendor base URL under test (default: the example vendor, in-process)")
	sandboxURL := fs.String("sandbox", "", "base URL of a running sandbox (default: one in-process, in memory)")
	control := fs.String("vendor-control", "", "base URL of the vendor's control API (/_control/…), for vendor_faults")
	validate := fs.Bool("validate", false, "check the scenarios, list every problem, run nothing")
	tag := fs.String("tag", "", "run only the scenarios with this tag")
	jsonOut := fs.String("json", "", "write the JSON report to this file")
	junitOut := fs.String("junit", "", "write a JUnit XML report to this file")
	keep := fs.Bool("keep", false, "keep each scenario's workspace")
	budget := fs.Duration("budget", conformance.DefaultBudget, "conformance: how long the vendor may take to answer")
	names, err := parseArgs(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usageError{errors.New("run: name at least one scenario (a file, a built-in, all or conformance; apsandbox scenarios lists the built-ins)")}
	}
	if *budget <= 0 {
		return usageError{fmt.Errorf("run: --budget must be positive, got %s", *budget)}
	}
	// The conformance suite is probes, not scenario files: it runs after
	// the scenarios, in the same report.
	probe := slices.Contains(names, scenarios.SuiteConformance)
	names = slices.DeleteFunc(names, func(n string) bool { return n == scenarios.SuiteConformance })
	scs, err := scenarios.LoadAll(names...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return usageError{errors.New("run: the scenarios have problems (listed above); nothing was run")}
	}
	if *tag != "" {
		scs = slices.DeleteFunc(scs, func(sc *scenarios.Scenario) bool { return !slices.Contains(sc.Tags, *tag) })
		if len(scs) == 0 {
			return usageError{fmt.Errorf("run: no scenario is tagged %q", *tag)}
		}
	}
	if *validate {
		fmt.Fprintf(stdout, "%d scenarios are valid\n", len(scs))
		return nil
	}

	r := &scenarios.Runner{VendorURL: *vendor, VendorControlURL: *control, Keep: *keep}
	if *vendor == "" {
		v := examplevendor.New(examplevendor.Config{})
		url, stop, err := serveLoopback(v.Handler())
		if err != nil {
			return err
		}
		defer stop()
		r.VendorURL, r.VendorControlURL = url, url
	}
	if err := r.Check(scs); err != nil {
		return usageError{err}
	}
	base := *sandboxURL
	if base == "" {
		srv, err := sandbox.New(sandbox.Config{Seed: 1})
		if err != nil {
			return err
		}
		defer srv.Close()
		url, stop, err := serveLoopback(srv.Handler())
		if err != nil {
			return err
		}
		defer stop()
		base = url
	}
	if r.Client, err = client.NewClientWithResponses(strings.TrimRight(base, "/")); err != nil {
		return usageError{err}
	}

	extra := 0
	if probe {
		extra = len(conformance.Checks())
	}
	bar := newProgress(scs, extra, getenv, stderr)
	if bar != nil {
		r.OnStep = func(sr *scenarios.ScenarioReport, _ *scenarios.StepReport) {
			bar.Describe(sr.Name)
			bar.Add(1)
		}
	}
	rep := r.RunAll(ctx, scs)
	if probe {
		r.RunConformance(ctx, rep, *budget)
	}
	if bar != nil {
		bar.Finish()
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if err := writeFile(*jsonOut, rep.WriteJSON); err != nil {
		return err
	}
	if err := writeFile(*junitOut, rep.WriteJUnit); err != nil {
		return err
	}
	if !rep.Passed && rep.Counts.StepsPassed+rep.Counts.StepsFailed == 0 {
		// Nothing ran: every scenario failed its setup (an unreachable
		// sandbox, settings it refused). That is not the vendor failing
		// an expectation.
		return usageError{errors.New("run: no step ran; every scenario failed its setup (see above)")}
	}
	if !rep.Passed {
		return errFailed
	}
	return nil
}

// scenariosCmd is `apsandbox scenarios`: the built-ins, one a line.
func scenariosCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scenarios", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTAGS\tDESCRIPTION")
	for _, info := range scenarios.Library() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", info.Name, strings.Join(info.Tags, ","), info.Description)
	}
	return tw.Flush()
}

// parseArgs is parse for commands that take arguments after the flags.
func parseArgs(fs *flag.FlagSet, args []string, getenv func(string) string) ([]string, error) {
	// Flags may follow the scenarios too (`run a.yaml --json r.json`):
	// parse, take the argument, parse the rest.
	var names []string
	for {
		if err := parseFlags(fs, args, getenv); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return names, nil
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newProgress returns a progress bar on stderr when it is a terminal and
// CI is not set, nil otherwise: a bar in a CI log is noise.
func newProgress(scs []*scenarios.Scenario, extra int, getenv func(string) string, stderr io.Writer) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || getenv("CI") == "true" {
		return nil
	}
	total := extra
	for _, sc := range scs {
		total += len(sc.Steps)
	}
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
}

func writeFile(name string, write func(io.Writer) error) error {
	if name == "" {
		return nil
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// serveLoopback serves h on a loopback port and returns its URL and a
// stop function.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
