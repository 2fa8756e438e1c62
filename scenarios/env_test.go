package scenarios_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/scenarios"
)

// serveOn serves h on a loopback port until the test ends.
func serveOn(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// newRunner starts a real sandbox and the example vendor, each on its own
// loopback port, and a Runner wired to them with a fixed run id.
func newRunner(t *testing.T) (*scenarios.Runner, *examplevendor.Vendor) {
	t.Helper()
	return newRunnerWrapped(t, nil)
}

// newRunnerWrapped is newRunner with the sandbox's handler wrapped, to see
// the requests the runner sends.
func newRunnerWrapped(t *testing.T, wrap func(http.Handler) http.Handler) (*scenarios.Runner, *examplevendor.Vendor) {
	t.Helper()
	v := examplevendor.New(examplevendor.Config{})
	vendorURL := serveOn(t, v.Handler())
	srv, err := sandbox.New(sandbox.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	c, err := client.NewClientWithResponses(serveOn(t, h))
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Runner{Client: c, VendorURL: vendorURL, VendorControlURL: vendorURL,
		RunID: func() string { return "t1" }}, v
}
