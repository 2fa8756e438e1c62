package sandboxtest_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtest"
)

// serveVendor serves the example vendor on a loopback port of its own,
// over real HTTP, as a vendor's service would run next to its tests.
func serveVendor(t *testing.T) (*examplevendor.Vendor, string) {
	t.Helper()
	v := examplevendor.New(examplevendor.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: v.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return v, "http://" + ln.Addr().String()
}

// get answers the status and body of GET url, on a connection of its
// own so that no kept-alive connection hides a closed listener.
func get(url string) (int, string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), err
}

// worldJSON is the world of the sandbox's workspace as the API answers it.
func worldJSON(t *testing.T, sb *sandboxtest.Sandbox) string {
	t.Helper()
	r, err := sb.Client().GetWorldWithResponse(t.Context(), sb.Workspace())
	if err == nil {
		err = client.ResponseError(r)
	}
	if err != nil {
		t.Fatalf("get world: %v", err)
	}
	return string(r.Body)
}

func TestNewServes(t *testing.T) {
	sb := sandboxtest.New(t)
	if !strings.HasPrefix(sb.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want http://127.0.0.1:port", sb.URL())
	}
	if got, want := sb.Workspace(), "default"; got != want {
		t.Errorf("Workspace() = %q, want %q", got, want)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		status, body, err := get(sb.URL() + path)
		if err != nil || status != http.StatusOK {
			t.Errorf("GET %s: %d %s %v, want 200", path, status, body, err)
		}
	}
	r, err := sb.Client().GetWorldWithResponse(t.Context(), sb.Workspace())
	if err != nil || r.JSON200 == nil {
		t.Fatalf("get world: %v %s", err, r.Body)
	}
	if got, want := r.JSON200.Seed, int64(1); got != want {
		t.Errorf("world seed = %d, want %d (the default)", got, want)
	}
	if len(r.JSON200.Tenants) == 0 || len(r.JSON200.Plans) == 0 {
		t.Errorf("world has %d tenants and %d plans, want some of each", len(r.JSON200.Tenants), len(r.JSON200.Plans))
	}
}

func TestWithSeed(t *testing.T) {
	tests := []struct {
		name     string
		a, b     int64
		wantSame bool
	}{
		{"same seed", 7, 7, true},
		{"default is 1", 0, 1, true},
		{"different seeds", 7, 8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := worldJSON(t, sandboxtest.New(t, sandboxtest.WithSeed(tt.a)))
			b := worldJSON(t, sandboxtest.New(t, sandboxtest.WithSeed(tt.b)))
			if got := a == b; got != tt.wantSame {
				t.Errorf("seeds %d and %d: same world = %v, want %v", tt.a, tt.b, got, tt.wantSame)
			}
		})
	}
}

func TestWithWorkspace(t *testing.T) {
	v, vendorURL := serveVendor(t)
	sb := sandboxtest.New(t, sandboxtest.WithWorkspace("team-a"), sandboxtest.WithSeed(1), sandboxtest.WithVendor(vendorURL))
	if got, want := sb.Workspace(), "team-a"; got != want {
		t.Errorf("Workspace() = %q, want %q", got, want)
	}
	if got, want := sb.Client().Workspace(), "team-a"; got != want {
		t.Errorf("Client().Workspace() = %q, want %q", got, want)
	}
	info, err := sb.Client().GetWorkspaceWithResponse(t.Context(), "team-a")
	if err != nil || info.JSON200 == nil {
		t.Fatalf("get workspace team-a: %v %s", err, info.Body)
	}
	if info.JSON200.Seed != 1 || info.JSON200.VendorURL != vendorURL {
		t.Errorf("workspace team-a: seed %d vendor %q, want 1 %q", info.JSON200.Seed, info.JSON200.VendorURL, vendorURL)
	}

	res, err := sb.Client().Order(t.Context(), client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Subscription.Status, client.SubscriptionStatusActive; got != want {
		t.Errorf("ordered in team-a: status %s (%s), want %s", got, res.Subscription.LastError, want)
	}
	if got := v.Requests(); len(got) != 1 || got[0].Path != "/subscription/create" {
		t.Errorf("vendor requests = %+v, want one /subscription/create", got)
	}
	// The order went to team-a, not to default.
	if _, err := sb.Client().In("default").Subscription(t.Context(), res.Subscription.ID); !isCode(err, client.ErrorCodeNotFound) {
		t.Errorf("subscription %d in default: %v, want not_found", res.Subscription.ID, err)
	}
}

func TestWithVendor(t *testing.T) {
	v, vendorURL := serveVendor(t)
	sb := sandboxtest.New(t, sandboxtest.WithVendor(vendorURL))
	res, err := sb.Client().Order(t.Context(), client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		t.Fatal(err)
	}
	subs := v.Subscriptions()
	if len(subs) != 1 {
		t.Fatalf("vendor has %d subscriptions, want 1", len(subs))
	}
	if got, want := res.Subscription.ExternalID, subs[0].ID; got != want {
		t.Errorf("external id = %q, want the vendor's id %q", got, want)
	}
}

func TestWithControlToken(t *testing.T) {
	sb := sandboxtest.New(t, sandboxtest.WithControlToken("s3cret"))
	raw := true
	params := &client.ListExchangesParams{Raw: &raw}
	if _, err := sb.Client().Exchanges(t.Context(), params); err != nil {
		t.Errorf("raw exchanges with the token: %v", err)
	}
	anon, err := client.NewSession(sb.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Exchanges(t.Context(), params); !isCode(err, client.ErrorCodeForbidden) {
		t.Errorf("raw exchanges without the token: %v, want forbidden", err)
	}
}

func TestWithLogger(t *testing.T) {
	var buf syncBuffer
	sb := sandboxtest.New(t, sandboxtest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if _, err := sb.Client().Subscription(t.Context(), 1); err == nil {
		t.Fatal("subscription 1 exists, want not found")
	}
	if got := buf.String(); !strings.Contains(got, "apsandbox listening") || !strings.Contains(got, "status=404") {
		t.Errorf("log = %q, want the listening line and the request", got)
	}
}

func TestStartRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts []sandboxtest.Option
		want string
	}{
		{"bad workspace name", []sandboxtest.Option{sandboxtest.WithWorkspace("Not A Name")}, `create workspace "Not A Name"`},
		{"negative seed", []sandboxtest.Option{sandboxtest.WithSeed(-1)}, "seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, err := sandboxtest.Start(tt.opts...)
			if err == nil {
				sb.Close()
				t.Fatalf("Start: no error, want one mentioning %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start: %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestCleanupStopsServing(t *testing.T) {
	var url string
	t.Run("sandbox", func(t *testing.T) {
		url = sandboxtest.New(t).URL()
		if status, _, err := get(url + "/healthz"); err != nil || status != http.StatusOK {
			t.Fatalf("GET /healthz while running: %d %v", status, err)
		}
	})
	if status, _, err := get(url + "/healthz"); err == nil {
		t.Errorf("GET /healthz after the test: %d, want a connection error", status)
	}
}

func TestCloseTwice(t *testing.T) {
	sb, err := sandboxtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := sb.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestParallelSandboxesAreIsolated(t *testing.T) {
	v, vendorURL := serveVendor(t)
	var (
		mu   sync.Mutex
		urls = map[string]bool{}
	)
	for _, name := range []string{"a", "b", "c"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := sandboxtest.New(t, sandboxtest.WithVendor(vendorURL))
			mu.Lock()
			if urls[sb.URL()] {
				t.Errorf("URL %s served twice", sb.URL())
			}
			urls[sb.URL()] = true
			mu.Unlock()
			// Every sandbox has the same world, so each hands out the
			// same first id: nothing leaks from one to another.
			res, err := sb.Client().Order(t.Context(), client.OrderRequest{TenantID: 1008, PlanID: 1037})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Subscription.ID, int64(1108); got != want {
				t.Errorf("first new subscription id = %d, want %d", got, want)
			}
			xs, err := sb.Client().Exchanges(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(xs) != 1 {
				t.Errorf("%d exchanges, want this sandbox's one", len(xs))
			}
		})
	}
	t.Cleanup(func() {
		// Each sandbox called the vendor. The vendor keeps one
		// subscription for the three: same seed, same ap_guid and id, so
		// to it they are one platform retrying (see WithSeed).
		if got := len(v.Requests()); got != 3 {
			t.Errorf("vendor got %d requests, want 3", got)
		}
	})
}

func isCode(err error, code client.ErrorCode) bool {
	var e *client.APIError
	return errors.As(err, &e) && e.Code == code
}

// syncBuffer is a bytes.Buffer the server's goroutines can log to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
