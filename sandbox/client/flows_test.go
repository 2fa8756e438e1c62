package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtest"
)

// Seed 1 (sandboxtest's default) has tenant 1008 and the monthly plan 1037.
var order1037 = client.OrderRequest{TenantID: 1008, PlanID: 1037}

// newEnv starts the example vendor on a loopback port and a sandbox
// calling it, and answers a Session on the sandbox.
func newEnv(t *testing.T, opts ...client.ClientOption) (*client.Session, *examplevendor.Vendor) {
	t.Helper()
	v := examplevendor.New(examplevendor.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: v.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	sb := sandboxtest.New(t, sandboxtest.WithVendor("http://"+ln.Addr().String()))
	s, err := client.NewSession(sb.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func TestSessionLifecycle(t *testing.T) {
	s, v := newEnv(t)
	ctx := t.Context()

	ordered, err := s.Order(ctx, order1037)
	if err != nil {
		t.Fatal(err)
	}
	id := ordered.Subscription.ID
	if got, want := ordered.Subscription.Status, client.SubscriptionStatusActive; got != want {
		t.Errorf("order: status %s, want %s", got, want)
	}
	if ordered.Order == nil || len(ordered.ExchangeIds) != 1 {
		t.Errorf("order: order %v, exchange ids %v, want an order and one exchange", ordered.Order, ordered.ExchangeIds)
	}

	renewed, err := s.Renew(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := renewed.Subscription.Status, client.SubscriptionStatusActive; got != want {
		t.Errorf("renew: status %s, want %s", got, want)
	}
	if !renewed.Subscription.ExpirationDate.After(*ordered.Subscription.ExpirationDate) {
		t.Errorf("renew: expiration %v, want after %v", renewed.Subscription.ExpirationDate, ordered.Subscription.ExpirationDate)
	}

	stopped, err := s.Stop(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stopped.Subscription.Status, client.SubscriptionStatusStopped; got != want {
		t.Errorf("stop: status %s, want %s", got, want)
	}

	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := s.WaitForStatus(ctx, id, client.SubscriptionStatusStopped)
	if err != nil || got.ID != id || got.Status != client.SubscriptionStatusStopped {
		t.Errorf("wait for stopped: %d %s %v, want %d stopped", got.ID, got.Status, err, id)
	}

	var paths []string
	for _, r := range v.Requests() {
		paths = append(paths, r.Path)
	}
	if want := []string{"/subscription/create", "/subscription/renew", "/subscription/stop"}; !slices.Equal(paths, want) {
		t.Errorf("vendor got %v, want %v", paths, want)
	}
}

// A vendor that refuses is the platform's business, not an API error: the
// operation answers the failed status and the vendor's message.
func TestVendorRefusalIsNotAnError(t *testing.T) {
	s, v := newEnv(t)
	ordered, err := s.Order(t.Context(), order1037)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "Card declined"}); err != nil {
		t.Fatal(err)
	}
	renewed, err := s.Renew(t.Context(), ordered.Subscription.ID)
	if err != nil {
		t.Fatalf("renew refused by the vendor: %v, want no error", err)
	}
	sub := renewed.Subscription
	if sub.Status != client.SubscriptionStatusRenewingFailed || !strings.Contains(sub.LastError, "Card declined") {
		t.Errorf("renew refused by the vendor: %s %q, want renewing_failed with the vendor's message", sub.Status, sub.LastError)
	}
}

func TestAPIErrors(t *testing.T) {
	s, _ := newEnv(t)
	ctx := t.Context()
	plans, err := s.ListPlansWithResponse(ctx, s.Workspace())
	if err := errors.Join(err, client.ResponseError(plans)); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(plans.JSON200.Items, func(p client.Plan) bool { return p.BillingType == client.PlanBillingTypeNonRecurring })
	if i < 0 {
		t.Fatal("seed 1 has no non-recurring plan")
	}
	oneOff, err := s.Order(ctx, client.OrderRequest{TenantID: 1008, PlanID: plans.JSON200.Items[i].ID})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		call       func() error
		wantStatus int
		wantCode   client.ErrorCode
		wantField  string // a detail's field, when the answer names one
	}{
		{"unknown tenant", func() error {
			_, err := s.Order(ctx, client.OrderRequest{TenantID: 1, PlanID: 1037})
			return err
		}, 400, client.ErrorCodeInvalidArgument, "tenant_id"},
		{"negative quantity", func() error {
			_, err := s.Order(ctx, client.OrderRequest{TenantID: 1008, PlanID: 1037, Resources: &client.QuantityMap{"x": -1}})
			return err
		}, 400, client.ErrorCodeInvalidArgument, "resources.x"},
		{"unknown subscription", func() error {
			_, err := s.Renew(ctx, 987654321)
			return err
		}, 404, client.ErrorCodeNotFound, ""},
		{"unknown workspace", func() error {
			_, err := s.In("nope").Stop(ctx, 1108)
			return err
		}, 404, client.ErrorCodeNotFound, ""},
		{"renew a non-recurring subscription", func() error {
			_, err := s.Renew(ctx, oneOff.Subscription.ID)
			return err
		}, 409, client.ErrorCodeConflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *client.APIError
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *APIError", err, err)
			}
			if e.Status != tt.wantStatus || e.Code != tt.wantCode || e.Message == "" {
				t.Errorf("got %d %s %q, want %d %s and a message", e.Status, e.Code, e.Message, tt.wantStatus, tt.wantCode)
			}
			if tt.wantField != "" {
				if !slices.ContainsFunc(e.Details, func(d client.ErrorDetail) bool { return d.Field == tt.wantField }) {
					t.Errorf("details %+v, want one on %s", e.Details, tt.wantField)
				}
				if !strings.Contains(err.Error(), tt.wantField) {
					t.Errorf("Error() = %q, want it to name %s", err.Error(), tt.wantField)
				}
			}
			if !strings.Contains(err.Error(), string(tt.wantCode)) || !strings.Contains(err.Error(), e.Message) {
				t.Errorf("Error() = %q, want the code and the message", err.Error())
			}
		})
	}
}

// fakeResponse is a generated response as ResponseError sees it.
type fakeResponse struct {
	status int
	body   string
}

func (f fakeResponse) StatusCode() int { return f.status }
func (f fakeResponse) GetBody() []byte { return []byte(f.body) }

func TestResponseError(t *testing.T) {
	tests := []struct {
		name string
		r    fakeResponse
		want string // Error(); "" for no error
	}{
		{"ok", fakeResponse{200, `{}`}, ""},
		{"created", fakeResponse{201, `{}`}, ""},
		{"error shape", fakeResponse{409, `{"error":{"code":"conflict","message":"renewing is in progress"}}`},
			"apsandbox: 409 conflict: renewing is in progress"},
		{"details", fakeResponse{400, `{"error":{"code":"invalid_argument","message":"invalid request","details":[{"field":"tenant_id","problem":"tenant 1 not found"},{"field":"plan_id","problem":"required"}]}}`},
			"apsandbox: 400 invalid_argument: invalid request (tenant_id: tenant 1 not found; plan_id: required)"},
		{"not the error shape", fakeResponse{502, "<html>Bad Gateway</html>\n"}, "apsandbox: 502: <html>Bad Gateway</html>"},
		{"empty body", fakeResponse{503, ""}, "apsandbox: 503: Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := client.ResponseError(tt.r)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("ResponseError(%d %q) = %q, want %q", tt.r.status, tt.r.body, got, tt.want)
			}
		})
	}
}

func TestWaitForStatus(t *testing.T) {
	s, _ := newEnv(t)
	ordered, err := s.Order(t.Context(), order1037)
	if err != nil {
		t.Fatal(err)
	}
	id := ordered.Subscription.ID

	t.Run("times out naming the last status", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		got, err := s.WaitForStatus(ctx, id, client.SubscriptionStatusStopped)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want one wrapping context.DeadlineExceeded", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "still status active") || !strings.Contains(msg, "want stopped") {
			t.Errorf("err = %q, want it to name the last status (active) and the wanted one", msg)
		}
		if got.Status != client.SubscriptionStatusActive {
			t.Errorf("subscription = %s, want the last seen, active", got.Status)
		}
	})

	t.Run("unknown subscription ends the wait", func(t *testing.T) {
		start := time.Now()
		_, err := s.WaitForStatus(t.Context(), 987654321, client.SubscriptionStatusActive)
		var e *client.APIError
		if !errors.As(err, &e) || e.Code != client.ErrorCodeNotFound {
			t.Errorf("err = %v, want not_found", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("gave up after %s, want at once", d)
		}
	})

	t.Run("sees a change made meanwhile", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		stopErr := make(chan error, 1)
		go func() {
			time.Sleep(30 * time.Millisecond)
			_, err := s.Stop(ctx, id)
			stopErr <- err
		}()
		got, err := s.WaitForStatus(ctx, id, client.SubscriptionStatusStopped)
		if err != nil || got.Status != client.SubscriptionStatusStopped {
			t.Errorf("wait: %s %v, want stopped", got.Status, err)
		}
		if err := <-stopErr; err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

// countingTransport counts the requests whose path ends in suffix.
type countingTransport struct {
	suffix string
	n      atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, c.suffix) {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestExchangesFollowsPages(t *testing.T) {
	ct := &countingTransport{suffix: "/exchanges"}
	s, _ := newEnv(t, client.WithHTTPClient(&http.Client{Transport: ct}))
	ctx := t.Context()
	ordered, err := s.Order(ctx, order1037)
	if err != nil {
		t.Fatal(err)
	}
	const renewals = 6
	for range renewals {
		if _, err := s.Renew(ctx, ordered.Subscription.ID); err != nil {
			t.Fatal(err)
		}
	}
	renew := client.EventSubscriptionRenew
	tests := []struct {
		name      string
		filter    *client.ListExchangesParams
		wantItems int
		wantPages int64
	}{
		{"all in one page", nil, 1 + renewals, 1},
		{"pages of 2", &client.ListExchangesParams{Limit: ptr(int64(2))}, 1 + renewals, 4},
		{"one full page", &client.ListExchangesParams{Limit: ptr(int64(7))}, 1 + renewals, 1},
		{"filtered pages of 4", &client.ListExchangesParams{Limit: ptr(int64(4)), Event: &renew}, renewals, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before client.ListExchangesParams
			if tt.filter != nil {
				before = *tt.filter
			}
			ct.n.Store(0)
			xs, err := s.Exchanges(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(xs) != tt.wantItems {
				t.Errorf("%d exchanges, want %d", len(xs), tt.wantItems)
			}
			if !slices.IsSortedFunc(xs, func(a, b client.Exchange) int { return int(a.ID - b.ID) }) ||
				len(slices.CompactFunc(slices.Clone(xs), func(a, b client.Exchange) bool { return a.ID == b.ID })) != len(xs) {
				t.Errorf("exchange ids not strictly ascending")
			}
			if got := ct.n.Load(); got != tt.wantPages {
				t.Errorf("%d requests, want %d pages", got, tt.wantPages)
			}
			if tt.filter != nil && *tt.filter != before {
				t.Errorf("filter changed to %+v", *tt.filter)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestSessionAdvance: a subscription ordered with auto-renew off lapses
// when the clock passes its expiry and its grace period (seven days on
// plan 1037's service term), and the advance says so (besides the
// billing-day notices).
func TestSessionAdvance(t *testing.T) {
	s, _ := newEnv(t)
	ctx := t.Context()
	off := false
	req := order1037
	req.AutoRenew = &off
	ordered, err := s.Order(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	id := ordered.Subscription.ID
	r, err := s.Advance(ctx, "1mo8d")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []client.ClockEventKind
	for _, ev := range r.Events {
		if ev.SubscriptionID == id && ev.Kind != client.ClockEventKindBillingNotice {
			kinds = append(kinds, ev.Kind)
		}
	}
	if want := []client.ClockEventKind{client.ClockEventKindExpire, client.ClockEventKindGraceEnd}; !slices.Equal(kinds, want) {
		t.Errorf("events of subscription %d: %v, want %v", id, kinds, want)
	}
	if got, err := s.Subscription(ctx, id); err != nil || got.Status != client.SubscriptionStatusStopped {
		t.Errorf("after the advance: %v %v, want stopped", got.Status, err)
	}
	if _, err := s.Advance(ctx, "soon"); !strings.Contains(fmt.Sprint(err), "by") {
		t.Errorf("a bad span: %v, want an error naming by", err)
	}
}
