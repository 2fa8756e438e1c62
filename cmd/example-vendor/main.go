// Command example-vendor is the reference vendor service: every endpoint
// ActivePlatform calls, implemented correctly in memory, with switchable
// faults. `make run` wires it to the sandbox.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

type faults []examplevendor.Fault

func (f *faults) String() string { return fmt.Sprint(len(*f)) }
func (f *faults) Set(s string) error {
	x, err := examplevendor.ParseFault(s)
	if err == nil {
		*f = append(*f, x)
	}
	return err
}

func main() {
	var cfg examplevendor.Config
	addr := flag.String("addr", envOr("EXAMPLE_VENDOR_ADDR", ":9090"), "listen address (EXAMPLE_VENDOR_ADDR)")
	flag.Var((*faults)(&cfg.Faults), "fault", "ENDPOINT=STATUS:MESSAGE or ENDPOINT=delay:DURATION, repeatable (EXAMPLE_VENDOR_FAULTS, comma-separated)")
	flag.Parse()
	for _, s := range strings.Split(os.Getenv("EXAMPLE_VENDOR_FAULTS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			if err := (*faults)(&cfg.Faults).Set(s); err != nil {
				fmt.Fprintln(os.Stderr, "example-vendor: EXAMPLE_VENDOR_FAULTS:", err)
				os.Exit(2)
			}
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h := examplevendor.New(cfg).Handler()
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Info("request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery)
		h.ServeHTTP(w, r)
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("example vendor listening", "addr", *addr, "faults", len(cfg.Faults))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "example-vendor:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
