package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/platform"
)

// Exit codes: 0 success, 1 failure (e.g. the vendor check failed), 2 bad
// input (flags, arguments).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `apsandbox — a sandbox of the ActivePlatform platform for vendors.

Usage:
  apsandbox serve [--addr :8080] [--data ./data] [--seed 1] [--vendor URL]
                  [--retain-count 100000] [--retain-age 720h] [--control-token T]
                  [--scenarios DIR]
                  [--log-level info] [--log-format text]
  apsandbox check --vendor URL      call {URL}/check as Vendor Portal's "Start check" does
  apsandbox replay --from FILE --vendor URL [--ignore PATH]... [--header K=V]...
                  [--timeout 10s] [--json FILE]
                                    re-send the exchanges of a JSON Lines export and
                                    diff the answers; exit 1 when any changed or failed
  apsandbox run [--vendor URL] [--sandbox URL] [--vendor-control URL] [--validate]
                  [--tag T] [--json FILE] [--junit FILE] [--keep] [--budget 10s] SCENARIO...
                                    run scenarios (files, built-in names, all, conformance);
                                    exit 1 when an expectation failed, 2 on bad input
  apsandbox scenarios               list the built-in scenarios
  apsandbox healthcheck [--addr :8080]
  apsandbox version

Every flag has an environment twin: --log-level is APSANDBOX_LOG_LEVEL.
Flags win over the environment.
`

// usageError marks bad input: exit code 2.
type usageError struct{ error }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	}
	if errors.Is(err, errFailed) {
		return exitFailure // the report said it
	}
	fmt.Fprintln(stderr, "apsandbox:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		cfg, err := serveConfig(rest, getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg)
	case "check":
		return check(ctx, rest, getenv, stdout, stderr)
	case "replay":
		return replayCmd(ctx, rest, getenv, stdout, stderr)
	case "run":
		return runCmd(ctx, rest, getenv, stdout, stderr)
	case "scenarios":
		return scenariosCmd(rest, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv, stderr)
	case "version":
		fmt.Fprintln(stdout, "apsandbox", sandbox.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Errorf("unknown command %q", cmd)}
}

// serveFlags is the configuration of `serve` as the user spells it.
type serveFlags struct {
	cfg       sandbox.Config
	logLevel  string
	logFormat string
}

// serveConfig turns argv and the environment into a Config. It is pure
// (no globals, getenv injected) so that it is table-tested.
func serveConfig(args []string, getenv func(string) string, stderr io.Writer) (sandbox.Config, error) {
	sf := serveFlags{cfg: sandbox.DefaultConfig(), logLevel: "info", logFormat: "text"}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&sf.cfg.Addr, "addr", sf.cfg.Addr, "listen address")
	fs.StringVar(&sf.cfg.DataDir, "data", sf.cfg.DataDir, "directory of the journal and workspaces; :memory: for a throwaway run")
	fs.IntVar(&sf.cfg.Retention.MaxExchanges, "retain-count", sf.cfg.Retention.MaxExchanges, "exchanges kept per workspace (0: all)")
	fs.DurationVar(&sf.cfg.Retention.MaxAge, "retain-age", sf.cfg.Retention.MaxAge, "how long exchanges are kept (0: forever)")
	fs.StringVar(&sf.cfg.ControlToken, "control-token", "", "bearer token that unlocks raw (unredacted) exchanges")
	fs.StringVar(&sf.cfg.ScenarioDir, "scenarios", "", "directory of scenario files (*.yaml) that POST …/scenario-runs runs by name")
	fs.Int64Var(&sf.cfg.Seed, "seed", sf.cfg.Seed, "seed of the default workspace's world (non-zero)")
	fs.StringVar(&sf.cfg.VendorURL, "vendor", "", "vendor base URL (api_path) of the default workspace")
	fs.DurationVar(&sf.cfg.ShutdownTimeout, "shutdown-timeout", sf.cfg.ShutdownTimeout, "graceful shutdown bound")
	fs.StringVar(&sf.logLevel, "log-level", sf.logLevel, "debug, info, warn or error")
	fs.StringVar(&sf.logFormat, "log-format", sf.logFormat, "text or json")
	if err := parse(fs, args, getenv); err != nil {
		return sandbox.Config{}, err
	}
	if sf.cfg.Seed <= 0 {
		return sandbox.Config{}, usageError{fmt.Errorf("--seed must be positive, got %d", sf.cfg.Seed)}
	}
	if sf.cfg.DataDir == "" {
		return sandbox.Config{}, usageError{errors.New("--data must name a directory, or :memory:")}
	}
	if sf.cfg.Retention.MaxExchanges < 0 {
		return sandbox.Config{}, usageError{fmt.Errorf("--retain-count must not be negative, got %d", sf.cfg.Retention.MaxExchanges)}
	}
	if sf.cfg.Retention.MaxAge < 0 {
		return sandbox.Config{}, usageError{fmt.Errorf("--retain-age must not be negative, got %s", sf.cfg.Retention.MaxAge)}
	}
	if sf.cfg.ShutdownTimeout <= 0 {
		return sandbox.Config{}, usageError{fmt.Errorf("--shutdown-timeout must be positive, got %s", sf.cfg.ShutdownTimeout)}
	}
	logger, err := newLogger(sf.logLevel, sf.logFormat, stderr)
	if err != nil {
		return sandbox.Config{}, err
	}
	sf.cfg.Logger = logger
	return sf.cfg, nil
}

// parse parses args, which must all be flags, then fills every flag the
// user did not give from its APSANDBOX_* twin.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// parseFlags is parse for commands that take arguments (fs.Args()).
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "APSANDBOX_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %v", env, v, e)}
			}
		}
	})
	return err
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format: %q is not text or json", format)}
}

func serve(ctx context.Context, cfg sandbox.Config) error {
	srv, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	return srv.Run(ctx)
}

// check runs the integration check against a vendor without a server.
func check(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vendor := fs.String("vendor", "", "vendor base URL (api_path)")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *vendor == "" {
		return usageError{errors.New("check: --vendor is required")}
	}
	srv, err := sandbox.New(sandbox.Config{Seed: 1, VendorURL: *vendor})
	if err != nil {
		return usageError{err}
	}
	defer srv.Close()
	res, err := srv.Platform().CheckIntegration(ctx, platform.DefaultWorkspace)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "POST %s\n%s\n", res.URL, res.Message)
	if !res.Ready {
		return errors.New("the vendor's integration check failed")
	}
	return nil
}

// healthcheck asks a running sandbox whether it is healthy; the container
// image uses it, having no shell or curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":8080", "address the sandbox listens on")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	host := *addr
	if strings.HasPrefix(host, ":") {
		host = "127.0.0.1" + host
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/healthz", nil)
	if err != nil {
		return usageError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", resp.StatusCode)
	}
	return nil
}
