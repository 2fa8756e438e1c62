package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/operator"
)

// env is a real sandbox and a real example vendor, talking over loopback
// HTTP, as a vendor's QA engineer runs them.
type env struct {
	t         *testing.T
	base      string // sandbox base URL
	vendorURL string
	vendor    *examplevendor.Vendor
	validator *operator.ResponseValidator
}

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

func newEnv(t *testing.T, seed int64) *env {
	t.Helper()
	return newEnvWith(t, seed, nil)
}

// newEnvWith is newEnv with the sandbox's config adjusted by edit, and
// the vendor handler wrapped by wrap when given.
func newEnvWith(t *testing.T, seed int64, edit func(*sandbox.Config), wrap ...func(http.Handler) http.Handler) *env {
	t.Helper()
	v := examplevendor.New(examplevendor.Config{})
	var h http.Handler = v.Handler()
	for _, w := range wrap {
		h = w(h)
	}
	vendorURL := serveOn(t, h)
	cfg := sandbox.Config{Seed: seed, VendorURL: vendorURL}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rv, err := operator.NewResponseValidator()
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, base: serveOn(t, srv.Handler()), vendorURL: vendorURL, vendor: v, validator: rv}
}

// do sends a request to the operator API, validates the answer against
// openapi.yaml and decodes it into out (when not nil).
func (e *env) do(method, path string, body any, out any) int {
	e.t.Helper()
	return e.doWith(nil, method, path, body, out)
}

// doWith is do with extra request headers.
func (e *env) doWith(h http.Header, method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := e.validator.Validate(req, resp.StatusCode, resp.Header, raw); err != nil {
		e.t.Errorf("%s %s: response does not match openapi.yaml: %v\n%s", method, path, err, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func (e *env) ws(path string) string { return "/api/v1/workspaces/default" + path }

// The JSON shapes the tests read.
type subscription struct {
	ID             int64            `json:"id"`
	TenantID       int64            `json:"tenant_id"`
	PlanID         int64            `json:"plan_id"`
	PeriodID       int64            `json:"period_id"`
	Status         string           `json:"status"`
	Trial          bool             `json:"trial"`
	AutoRenew      bool             `json:"auto_renew"`
	ExternalID     string           `json:"external_id"`
	ExpirationDate *time.Time       `json:"expiration_date"`
	Resources      map[string]int64 `json:"resources"`
	LastError      string           `json:"last_error"`
	Ability        map[string]bool  `json:"ability"`
}

type order struct {
	ID     int64  `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Total  int64  `json:"total"`
}

type opResult struct {
	Subscription subscription `json:"subscription"`
	Order        *order       `json:"order"`
	ExchangeIDs  []int64      `json:"exchange_ids"`
	Warnings     []string     `json:"warnings"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field   string `json:"field"`
			Problem string `json:"problem"`
		} `json:"details"`
	} `json:"error"`
}

type period struct {
	ID      int64  `json:"id"`
	Value   int    `json:"value"`
	Type    string `json:"type"`
	Trial   bool   `json:"trial"`
	Endless bool   `json:"endless"`
}

type resource struct {
	Key      string `json:"key"`
	Included int64  `json:"included"`
	Min      int64  `json:"min"`
	Max      int64  `json:"max"`
}

type plan struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	SKU         string     `json:"sku"`
	BillingType string     `json:"billing_type"`
	Periods     []period   `json:"periods"`
	Resources   []resource `json:"resources"`
}

type exchange struct {
	ID             int64     `json:"id"`
	Event          string    `json:"event"`
	SubscriptionID int64     `json:"subscription_id"`
	UserID         int64     `json:"user_id"`
	Outcome        string    `json:"outcome"`
	Error          string    `json:"error"`
	Action         string    `json:"action"`
	VirtualTime    time.Time `json:"virtual_time"`
	StartedAt      time.Time `json:"started_at"`
	Request        struct {
		Method string            `json:"method"`
		URL    string            `json:"url"`
		Path   string            `json:"path"`
		Query  map[string]string `json:"query"`
		Body   json.RawMessage   `json:"body"`
	} `json:"request"`
	Response *struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	} `json:"response"`
}

func (e *env) plans() []plan {
	var l struct{ Items []plan }
	e.do("GET", e.ws("/plans"), nil, &l)
	return l.Items
}

// findPlan returns the first plan passing keep.
func (e *env) findPlan(keep func(plan) bool) plan {
	e.t.Helper()
	for _, p := range e.plans() {
		if keep(p) {
			return p
		}
	}
	e.t.Fatal("no plan in the seeded catalogue fits")
	return plan{}
}

func recurringMonthly(p plan) bool {
	if p.BillingType != "recurring" || len(p.Resources) == 0 {
		return false
	}
	for _, pd := range p.Periods {
		if pd.Type == "month" && !pd.Trial && !pd.Endless {
			return true
		}
	}
	return false
}

func (e *env) firstTenant() int64 {
	var l struct {
		Items []struct{ ID int64 }
	}
	e.do("GET", e.ws("/tenants"), nil, &l)
	if len(l.Items) == 0 {
		e.t.Fatal("no tenants")
	}
	return l.Items[0].ID
}

// order places an order and insists it succeeded.
func (e *env) order(body map[string]any) opResult {
	e.t.Helper()
	var r opResult
	if code := e.do("POST", e.ws("/subscriptions"), body, &r); code != http.StatusCreated {
		e.t.Fatalf("order: status %d, result %+v", code, r)
	}
	return r
}

func (e *env) sub(id int64) subscription {
	var s subscription
	if code := e.do("GET", e.ws(fmt.Sprintf("/subscriptions/%d", id)), nil, &s); code != 200 {
		e.t.Fatalf("get subscription %d: %d", id, code)
	}
	return s
}

func (e *env) exchanges(query string) []exchange {
	var l struct{ Items []exchange }
	e.do("GET", e.ws("/exchanges"+query), nil, &l)
	return l.Items
}

func (e *env) exchange(id int64) exchange {
	var x exchange
	if code := e.do("GET", e.ws(fmt.Sprintf("/exchanges/%d", id)), nil, &x); code != 200 {
		e.t.Fatalf("get exchange %d: %d", id, code)
	}
	return x
}

func (e *env) world() string {
	_, raw := e.raw("GET", e.ws("/world"))
	return raw
}

func (e *env) raw(method, path string) (int, string) {
	req, _ := http.NewRequest(method, e.base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var _ = context.Background
