// Command example-vendor is the reference vendor service: every endpoint
// ActivePlatform calls, implemented correctly in memory, with switchable
// faults. `make run` wires it to the sandbox. The logic lives in package
// examplevendor, so that tests run exactly what this binary serves.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

func main() {
	addr := cmp.Or(os.Getenv("EXAMPLE_VENDOR_ADDR"), ":9090")
	flag.StringVar(&addr, "addr", addr, "listen address (env EXAMPLE_VENDOR_ADDR)")
	var faults examplevendor.FaultFlags
	flag.Var(&faults, "fault", "ENDPOINT=STATUS[:MESSAGE] or ENDPOINT=delay:DURATION[:STATUS[:MESSAGE]], repeatable; adds to env EXAMPLE_VENDOR_FAULTS (comma-separated)")
	health := flag.Bool("healthcheck", false, "check that a vendor listens on --addr and exit 0, or 1 (for container health checks)")
	flag.Parse()
	if *health {
		if err := healthcheck(addr); err != nil {
			fmt.Fprintln(os.Stderr, "example-vendor:", err)
			os.Exit(1)
		}
		return
	}
	envFaults, err := examplevendor.ParseFaults(os.Getenv("EXAMPLE_VENDOR_FAULTS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "example-vendor: EXAMPLE_VENDOR_FAULTS:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	vendor := examplevendor.New(examplevendor.Config{Faults: append(envFaults, faults...)})

	// The signal context is every request's base context: a delayed fault
	// stops waiting on SIGINT, so shutdown is not held up by it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Addr:              addr,
		Handler:           examplevendor.LogRequests(log, vendor.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("example vendor listening", "addr", addr, "faults", len(vendor.Faults()))
	select {
	case err := <-errc:
		log.Error("example vendor stopped", "err", err)
		os.Exit(1)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log.Info("example vendor stopped", "shutdown_err", srv.Shutdown(sctx))
}

// healthcheck asks the vendor on addr for its faults, the cheapest
// request it answers, as a container health check. The image has no
// shell and no curl, so the binary checks itself.
func healthcheck(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %v", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/_control/faults")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the vendor answered %d", resp.StatusCode)
	}
	return nil
}
