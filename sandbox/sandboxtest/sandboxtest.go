// Package sandboxtest starts a real apsandbox inside the test process, on
// a loopback port, for Go tests that should not need Docker.
//
// The sandbox is the one `apsandbox serve` runs — same operator API, same
// vendor calls — with its journal in memory, so that starting one costs a
// few milliseconds and every test can have its own:
//
//	func TestRenewal(t *testing.T) {
//		vendor := httptest.NewServer(myservice.Handler()) // the code under test
//		defer vendor.Close()
//		sb := sandboxtest.New(t, sandboxtest.WithVendor(vendor.URL))
//
//		res, err := sb.Client().Order(t.Context(), client.OrderRequest{TenantID: 1008, PlanID: 1037})
//		…
//	}
//
// New stops the sandbox when the test ends. Start is the same without a
// testing.TB, for TestMain, examples and tools; its caller calls Close.
package sandboxtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/platform"
)

// readyTimeout bounds the wait for the first answer; a loopback server
// that has not answered by then never will.
const readyTimeout = 5 * time.Second

// Option changes how a sandbox is started.
type Option func(*config)

type config struct {
	seed      int64
	vendorURL string
	workspace string
	token     string
	logger    *slog.Logger
}

// WithVendor sets the vendor's base URL (the integration's api_path) of
// the default workspace, and of the one WithWorkspace creates. Without it
// operations fail as a vendor that cannot be reached would.
func WithVendor(url string) Option { return func(c *config) { c.vendorURL = url } }

// WithSeed sets the seed of the generated world; the same seed gives the
// same distributors, tenants, plans and ids. 0 means the default, 1.
//
// The platform's ap_guid comes from the seed too, so a vendor serving
// several sandboxes of one seed sees a single platform, and may take an
// order in the second for a retry of the first. Give each sandbox its
// own seed, or its own vendor, when the vendor must tell them apart.
func WithSeed(seed int64) Option { return func(c *config) { c.seed = seed } }

// WithWorkspace creates the workspace name, with the same seed and
// vendor, and makes it the one Workspace names and Client uses. Tests
// that share one sandbox can each take a workspace of their own; "default"
// (which always exists) is the default.
func WithWorkspace(name string) Option { return func(c *config) { c.workspace = name } }

// WithLogger sends the sandbox's logs to l. By default New logs to the
// test's output under go test -v and discards them otherwise; Start
// discards them.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithControlToken sets the sandbox's control token (--control-token),
// which callers send as a bearer token to read exchanges unredacted.
// Client sends it.
func WithControlToken(token string) Option { return func(c *config) { c.token = token } }

// Sandbox is a sandbox serving on a loopback port.
type Sandbox struct {
	srv       *sandbox.Server
	url       string
	workspace string
	session   *client.Session
	cancel    context.CancelFunc
	served    chan error
	// Own transports, so that Close leaves no idle connection (and no
	// goroutine) behind, and parallel sandboxes share nothing.
	api, vendor *http.Transport

	closeOnce sync.Once
	closeErr  error
}

// New starts a sandbox for t and stops it when t ends (t.Cleanup). It
// fails t at once when the sandbox cannot start.
func New(t testing.TB, opts ...Option) *Sandbox {
	t.Helper()
	var out *testWriter
	if testing.Verbose() {
		out = &testWriter{w: t.Output()}
		opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(out, nil)))}, opts...)
	}
	s, err := Start(opts...)
	if err != nil {
		out.close()
		t.Fatalf("sandboxtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("sandboxtest: %v", err)
		}
		out.close()
	})
	return s
}

// Start starts a sandbox and returns once it answers on its URL. The
// caller must Close it.
func Start(opts ...Option) (*Sandbox, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.workspace == "" {
		cfg.workspace = client.DefaultWorkspace
	}
	if cfg.seed == 0 {
		cfg.seed = 1
	}
	s := &Sandbox{
		workspace: cfg.workspace,
		api:       newTransport(),
		vendor:    newTransport(),
		served:    make(chan error, 1),
	}
	srv, err := sandbox.New(sandbox.Config{
		Seed:         cfg.seed,
		VendorURL:    cfg.vendorURL,
		Logger:       cfg.logger,
		HTTPClient:   &http.Client{Transport: s.vendor},
		ControlToken: cfg.token,
	})
	if err != nil {
		return nil, err
	}
	s.srv = srv
	if cfg.workspace != client.DefaultWorkspace {
		_, err := srv.Platform().CreateWorkspace(context.Background(),
			platform.CreateWorkspace{Name: cfg.workspace, Seed: cfg.seed, VendorURL: cfg.vendorURL})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("create workspace %q: %w", cfg.workspace, err), srv.Close())
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	s.url = "http://" + ln.Addr().String()
	copts := []client.ClientOption{client.WithHTTPClient(&http.Client{Transport: s.api})}
	if cfg.token != "" {
		copts = append(copts, client.WithControlToken(cfg.token))
	}
	session, err := client.NewSession(s.url, copts...)
	if err != nil {
		return nil, errors.Join(err, ln.Close(), srv.Close())
	}
	s.session = session.In(cfg.workspace)

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.served <- srv.Serve(ctx, ln) }()
	if err := s.waitReady(); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// waitReady asks /readyz once: the listener is open before Serve starts,
// so the request waits in its backlog rather than failing, and one answer
// means the server serves.
func (s *Sandbox) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	r, err := s.session.ReadyzWithResponse(ctx)
	if err == nil {
		err = client.ResponseError(r)
	}
	if err != nil {
		select {
		case serr := <-s.served:
			s.served <- serr // for Close
			if serr != nil {
				return fmt.Errorf("serve: %w", serr)
			}
		default:
		}
		return fmt.Errorf("sandbox not ready on %s: %w", s.url, err)
	}
	return nil
}

// URL is the sandbox's base URL, e.g. http://127.0.0.1:41234; the
// operator API is under /api/v1.
func (s *Sandbox) URL() string { return s.url }

// Workspace names the workspace Client is bound to: the one WithWorkspace
// created, or "default".
func (s *Sandbox) Workspace() string { return s.workspace }

// Client is a client.Session on the sandbox, bound to Workspace and
// sending the control token when one was set. Its In method reaches
// other workspaces.
func (s *Sandbox) Client() *client.Session { return s.session }

// Server is the running sandbox, for in-process access to its platform.
func (s *Sandbox) Server() *sandbox.Server { return s.srv }

// Close stops serving — requests in flight finish first — and releases
// the sandbox. After Close, requests to URL fail. It may be called more
// than once.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		s.api.CloseIdleConnections()
		s.cancel()
		err := <-s.served
		s.vendor.CloseIdleConnections()
		s.closeErr = errors.Join(err, s.srv.Close())
	})
	return s.closeErr
}

// newTransport is the default transport's settings (proxy from the
// environment, which never applies to loopback) in a transport of its own.
func newTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment}
}

// testWriter writes to a test's output until closed, and drops what comes
// later: a test's output panics when written after the test ended, and a
// vendor call that outlives it may still log.
type testWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return len(p), nil
	}
	return w.w.Write(p)
}

func (w *testWriter) close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
