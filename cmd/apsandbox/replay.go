package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/replay"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// replayCmd re-sends the exchanges of a JSON Lines export to a vendor and
// reports the differences, without a server: a vendor's CI can compare
// its new build with a recording.
func replayCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "JSON Lines export to replay (- for stdin)")
	vendor := fs.String("vendor", "", "vendor base URL to replay against (default: each exchange's recorded URL)")
	timeout := fs.Duration("timeout", vendorapi.DefaultTimeout, "bound of each call")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	var ignore, headers listFlag
	fs.Var(&ignore, "ignore", "JSON Pointer whose differences do not count (repeatable; * and ** segments)")
	fs.Var(&headers, "header", "K=V header set on every call, e.g. a token the export redacted (repeatable)")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if *from == "" {
		return usageError{errors.New("replay: --from is required")}
	}
	if *vendor != "" {
		if err := vendorapi.CheckBaseURL(*vendor); err != nil {
			return usageError{fmt.Errorf("replay: --vendor %v", err)}
		}
	}
	if *timeout <= 0 {
		return usageError{fmt.Errorf("replay: --timeout must be positive, got %s", *timeout)}
	}
	patterns, err := replay.ParsePatterns(ignore)
	if err != nil {
		return usageError{fmt.Errorf("replay: --ignore: %v", err)}
	}
	hdr := map[string]string{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return usageError{fmt.Errorf("replay: --header %q: want NAME=VALUE", h)}
		}
		hdr[strings.TrimSpace(k)] = v
	}
	xs, err := readExport(*from)
	if err != nil {
		return usageError{fmt.Errorf("replay: %s: %w", *from, err)}
	}
	client := vendorapi.NewClient(nil, sandbox.Version)
	rep := replay.Run(ctx, client, xs, replay.Options{Target: *vendor, Ignore: patterns, Timeout: *timeout, Headers: hdr})
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if *jsonOut != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("replay: --json: %w", err)
		}
	}
	if !rep.OK() {
		return fmt.Errorf("replay: %d changed, %d failed of %d", rep.Summary.Changed, rep.Summary.Failed, rep.Summary.Total)
	}
	return nil
}

func readExport(path string) ([]journal.Exchange, error) {
	if path == "-" {
		return journal.ReadJSONL(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return journal.ReadJSONL(f)
}
