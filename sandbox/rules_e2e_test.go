package sandbox_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

func examplevendorFault(endpoint string, status int, msg string) examplevendor.Fault {
	return examplevendor.Fault{Endpoint: endpoint, Status: status, Message: msg}
}

// refused asserts an operation is answered with the given code and the
// error shape, names the field when one is wanted, and changes nothing:
// the world and the journal are the same before and after.
func (e *env) refused(method, path string, body any, wantStatus int, wantCode, wantField string) apiError {
	e.t.Helper()
	before, xs := e.world(), len(e.exchanges(""))
	reqs := len(e.vendor.Requests())
	var ae apiError
	if code := e.do(method, path, body, &ae); code != wantStatus {
		e.t.Errorf("%s %s: status %d (%+v), want %d", method, path, code, ae, wantStatus)
	}
	if ae.Error.Code != wantCode || ae.Error.Message == "" {
		e.t.Errorf("%s %s: error %+v, want code %q with a message", method, path, ae.Error, wantCode)
	}
	if wantField != "" {
		found := false
		for _, d := range ae.Error.Details {
			found = found || d.Field == wantField
		}
		if !found && !strings.Contains(ae.Error.Message, wantField) {
			e.t.Errorf("%s %s: error %+v does not name field %q", method, path, ae.Error, wantField)
		}
	}
	if after := e.world(); after != before {
		e.t.Errorf("%s %s: a refused request changed the world", method, path)
	}
	if n := len(e.exchanges("")); n != xs {
		e.t.Errorf("%s %s: a refused request made %d exchanges", method, path, n-xs)
	}
	if n := len(e.vendor.Requests()); n != reqs {
		e.t.Errorf("%s %s: a refused request reached the vendor", method, path)
	}
	return ae
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, 1)
	p := e.findPlan(recurringMonthly)
	tenant := e.firstTenant()
	s := e.order(map[string]any{"tenant_id": tenant, "plan_id": p.ID}).Subscription
	subs := "/subscriptions"
	one := fmt.Sprintf("/subscriptions/%d", s.ID)
	key := p.Resources[0].Key

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		field  string
	}{
		{"malformed json", "POST", subs, `{"tenant_id": 1,`, 400, "invalid_argument", ""},
		{"wrong type", "POST", subs, `{"tenant_id": "seven", "plan_id": 1}`, 400, "invalid_argument", "tenant_id"},
		{"missing plan", "POST", subs, map[string]any{"tenant_id": tenant}, 400, "invalid_argument", "plan_id"},
		{"unknown field", "POST", subs, map[string]any{"tenant_id": tenant, "plan_id": p.ID, "colour": "red"}, 400, "invalid_argument", "colour"},
		{"unknown tenant", "POST", subs, map[string]any{"tenant_id": 999999, "plan_id": p.ID}, 400, "invalid_argument", "tenant_id"},
		{"unknown plan", "POST", subs, map[string]any{"tenant_id": tenant, "plan_id": 999999}, 400, "invalid_argument", "plan_id"},
		{"unknown period", "POST", subs, map[string]any{"tenant_id": tenant, "plan_id": p.ID, "period_id": 999999}, 400, "invalid_argument", "period_id"},
		{"unknown resource key", "POST", subs, map[string]any{"tenant_id": tenant, "plan_id": p.ID, "resources": map[string]int{"unicorns": 3}}, 400, "invalid_argument", "resources.unicorns"},
		{"negative quantity", "POST", subs, map[string]any{"tenant_id": tenant, "plan_id": p.ID, "resources": map[string]int{key: -1}}, 400, "invalid_argument", "resources." + key},
		{"negative change", "POST", one + "/change-resources", map[string]any{"resources": map[string]int{key: -5}}, 400, "invalid_argument", "resources." + key},
		{"unknown key change", "POST", one + "/change-resources", map[string]any{"resources": map[string]int{"nope": 1}}, 400, "invalid_argument", "resources.nope"},
		{"switch to unknown plan", "POST", one + "/switch-plan", map[string]any{"plan_id": 424242}, 400, "invalid_argument", "plan_id"},
		{"renew unknown period", "POST", one + "/renew", map[string]any{"period_id": 424242}, 400, "invalid_argument", "period_id"},
		{"unknown subscription", "POST", "/subscriptions/987654/renew", nil, 404, "not_found", ""},
		{"non-integer id", "GET", "/subscriptions/abc", nil, 400, "invalid_argument", "id"},
		{"unknown tenant get", "GET", "/tenants/987654", nil, 404, "not_found", ""},
		{"empty name patch", "PATCH", one, map[string]any{"name": "  "}, 400, "invalid_argument", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.refused(tt.method, e.ws(tt.path), tt.body, tt.status, tt.code, tt.field)
		})
	}
	e.t = t
	var ae apiError
	if code := e.do("GET", "/api/v1/workspaces/nope/plans", nil, &ae); code != 404 || ae.Error.Code != "not_found" {
		t.Errorf("unknown workspace: %d %+v", code, ae)
	}
	if code := e.do("GET", "/api/v1/nothing-here", nil, &ae); code != 404 {
		t.Errorf("unknown route: %d", code)
	}
}

func TestBadIntegrationSettings(t *testing.T) {
	e := newEnv(t, 1)
	base := map[string]any{"mode": "automatic", "api_path": e.vendorURL, "timeout_ms": 1000}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"bad mode", with("mode", "sometimes"), "mode"},
		{"relative api_path", with("api_path", "vendor.example/api"), "api_path"},
		{"unknown event route", with("paths", map[string]string{"subscription.explode": "/x"}), "paths.subscription.explode"},
		{"invisible character in e-mail", with("notification_email", "ops\u200b@vendor.example"), "notification_email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			var before, after map[string]any
			e.do("GET", e.ws("/integration"), nil, &before)
			e.refused("PUT", e.ws("/integration"), tt.body, 400, "invalid_argument", tt.field)
			e.do("GET", e.ws("/integration"), nil, &after)
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Errorf("refused settings changed the integration: %v → %v", before, after)
			}
		})
	}
}

// TestPlatformRules: the ability set refuses what the platform forbids,
// with 409 and no change.
func TestPlatformRules(t *testing.T) {
	e := newEnv(t, 1)
	tenant := e.firstTenant()
	sub := func(id int64, op string) string { return e.ws(fmt.Sprintf("/subscriptions/%d/%s", id, op)) }

	// Non-recurring: delivered, never renewed, changed or switched.
	nr := e.findPlan(func(p plan) bool { return p.BillingType == "non_recurring" })
	r := e.order(map[string]any{"tenant_id": tenant, "plan_id": nr.ID})
	if r.Subscription.Status != "delivered" || r.Subscription.ExpirationDate != nil || r.Subscription.AutoRenew {
		t.Errorf("non-recurring order: %+v", r.Subscription)
	}
	rec := e.findPlan(recurringMonthly)
	e.refused("POST", sub(r.Subscription.ID, "renew"), nil, 409, "conflict", "")
	e.refused("POST", sub(r.Subscription.ID, "switch-plan"), map[string]any{"plan_id": rec.ID}, 409, "conflict", "")
	if len(nr.Resources) > 0 {
		e.refused("POST", sub(r.Subscription.ID, "change-resources"), map[string]any{"resources": map[string]int64{nr.Resources[0].Key: nr.Resources[0].Min}}, 409, "conflict", "")
	}

	// Trial: cannot add resources.
	trial := e.findPlan(func(p plan) bool {
		for _, pd := range p.Periods {
			if pd.Trial {
				return len(p.Resources) > 0
			}
		}
		return false
	})
	var trialPeriod int64
	for _, pd := range trial.Periods {
		if pd.Trial {
			trialPeriod = pd.ID
		}
	}
	tr := e.order(map[string]any{"tenant_id": tenant, "plan_id": trial.ID, "period_id": trialPeriod}).Subscription
	if !tr.Trial {
		t.Errorf("ordered a trial period but trial=%v", tr.Trial)
	}
	res := trial.Resources[0]
	if res.Max == 0 || tr.Resources[res.Key] < res.Max {
		e.refused("POST", sub(tr.ID, "change-resources"), map[string]any{"resources": map[string]int64{res.Key: tr.Resources[res.Key] + 1}}, 409, "conflict", "")
	}

	// Endless: cannot renew.
	endless := e.findPlan(func(p plan) bool {
		for _, pd := range p.Periods {
			if pd.Endless {
				return true
			}
		}
		return false
	})
	var endlessPeriod int64
	for _, pd := range endless.Periods {
		if pd.Endless {
			endlessPeriod = pd.ID
		}
	}
	en := e.order(map[string]any{"tenant_id": tenant, "plan_id": endless.ID, "period_id": endlessPeriod}).Subscription
	if en.ExpirationDate != nil || en.Ability["renew"] {
		t.Errorf("endless subscription: %+v", en)
	}
	e.refused("POST", sub(en.ID, "renew"), nil, 409, "conflict", "")

	// Stopped cannot be stopped again; deleted can do nothing.
	s := e.order(map[string]any{"tenant_id": tenant, "plan_id": rec.ID}).Subscription
	e.op(s.ID, "stop", nil, "stopped")
	e.refused("POST", sub(s.ID, "stop"), nil, 409, "conflict", "")
	e.op(s.ID, "delete", nil, "deleted")
	for _, op := range []string{"activate", "renew", "stop", "delete", "retry"} {
		e.refused("POST", sub(s.ID, op), nil, 409, "conflict", "")
	}
}

// TestRenewToTrialAndStopped: renewing to a trial period is allowed with a
// warning (seed 000), and renewing a stopped subscription activates it.
func TestRenewToTrialAndStopped(t *testing.T) {
	e := newEnv(t, 1)
	trial := e.findPlan(func(p plan) bool {
		hasTrial, hasPaid := false, false
		for _, pd := range p.Periods {
			hasTrial = hasTrial || pd.Trial
			hasPaid = hasPaid || (!pd.Trial && !pd.Endless)
		}
		return p.BillingType == "recurring" && hasTrial && hasPaid
	})
	var trialPeriod int64
	for _, pd := range trial.Periods {
		if pd.Trial {
			trialPeriod = pd.ID
		}
	}
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": trial.ID}).Subscription
	r := e.op(s.ID, "renew", map[string]any{"period_id": trialPeriod}, "active")
	if !r.Subscription.Trial || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "financial loss") {
		t.Errorf("renew to trial: trial=%v warnings=%v", r.Subscription.Trial, r.Warnings)
	}
	if r.Order == nil || r.Order.Total != 0 {
		t.Errorf("a trial renewal costs %+v", r.Order)
	}

	e.op(s.ID, "stop", nil, "stopped")
	r = e.op(s.ID, "renew", map[string]any{"period_id": trialPeriod}, "active")
	if len(r.ExchangeIDs) != 2 {
		t.Fatalf("renewing a stopped subscription made %d exchanges, want renew + activate", len(r.ExchangeIDs))
	}
	if x := e.exchange(r.ExchangeIDs[1]); x.Event != "subscription.activate" {
		t.Errorf("second call %s, want subscription.activate", x.Event)
	}
}

// TestAutoRenewLock: the reseller's lock forbids changing auto-renew.
func TestAutoRenewLock(t *testing.T) {
	e := newEnv(t, 1)
	p := e.findPlan(recurringMonthly)
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID}).Subscription
	path := e.ws(fmt.Sprintf("/subscriptions/%d", s.ID))
	var got subscription
	if code := e.do("PATCH", path, map[string]any{"auto_renew": !s.AutoRenew}, &got); code != 200 || got.AutoRenew == s.AutoRenew {
		t.Fatalf("toggle auto-renew: %d %+v", code, got)
	}
	if code := e.do("PATCH", path, map[string]any{"auto_renew_locked": true}, &got); code != 200 {
		t.Fatalf("lock: %d", code)
	}
	ae := e.refused("PATCH", path, map[string]any{"auto_renew": s.AutoRenew}, 409, "conflict", "")
	if !strings.Contains(ae.Error.Message, "locked") {
		t.Errorf("message %q does not say it is locked", ae.Error.Message)
	}
	if code := e.do("PATCH", path, map[string]any{"auto_renew_locked": false, "auto_renew": s.AutoRenew}, &got); code != 200 || got.AutoRenew != s.AutoRenew {
		t.Errorf("unlock and toggle: %d %+v", code, got)
	}
}

// TestDeterministicWorld: the same seed gives byte-identical world JSON.
func TestDeterministicWorld(t *testing.T) {
	a, b, c := newEnv(t, 1), newEnv(t, 1), newEnv(t, 2)
	wa, wb, wc := a.world(), b.world(), c.world()
	if wa != wb {
		t.Error("seed 1 gave two different worlds")
	}
	if wa == wc {
		t.Error("seeds 1 and 2 gave the same world")
	}
	if !strings.Contains(wa, `"ap_guid"`) || len(wa) < 2000 {
		t.Errorf("world JSON looks empty: %.200s", wa)
	}
}

func TestWorkspaces(t *testing.T) {
	e := newEnv(t, 1)
	var ws map[string]any
	if code := e.do("POST", "/api/v1/workspaces", map[string]any{"name": "qa-1", "seed": 7, "vendor_url": e.vendorURL}, &ws); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, ws)
	}
	e.refused("POST", "/api/v1/workspaces", map[string]any{"name": "qa-1"}, 409, "conflict", "")
	e.refused("POST", "/api/v1/workspaces", map[string]any{"name": "Bad Name!"}, 400, "invalid_argument", "name")
	var list struct{ Items []struct{ Name string } }
	e.do("GET", "/api/v1/workspaces", nil, &list)
	if len(list.Items) != 2 || list.Items[0].Name != "default" || list.Items[1].Name != "qa-1" {
		t.Errorf("list %+v", list.Items)
	}
	// Isolation: an order in qa-1 leaves default alone.
	before := e.world()
	q := &env{t: t, base: e.base, vendorURL: e.vendorURL, vendor: e.vendor, validator: e.validator}
	var plans struct{ Items []plan }
	q.do("GET", "/api/v1/workspaces/qa-1/plans", nil, &plans)
	var tenants struct{ Items []struct{ ID int64 } }
	q.do("GET", "/api/v1/workspaces/qa-1/tenants", nil, &tenants)
	var r opResult
	var pid int64
	for _, p := range plans.Items {
		if recurringMonthly(p) {
			pid = p.ID
		}
	}
	if code := q.do("POST", "/api/v1/workspaces/qa-1/subscriptions", map[string]any{"tenant_id": tenants.Items[0].ID, "plan_id": pid}, &r); code != 201 || r.Subscription.Status != "active" {
		t.Fatalf("order in qa-1: %d %+v", code, r.Subscription)
	}
	if e.world() != before {
		t.Error("an order in qa-1 changed default")
	}
	// Reset brings qa-1 back to its seed.
	_, fresh := e.raw("GET", "/api/v1/workspaces/qa-1/world")
	if code := e.do("POST", "/api/v1/workspaces/qa-1/reset", nil, nil); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	_, afterReset := e.raw("GET", "/api/v1/workspaces/qa-1/world")
	if afterReset == fresh {
		t.Error("reset changed nothing although an order was placed")
	}
	if n := len(q.exchangesIn("qa-1")); n != 0 {
		t.Errorf("reset kept %d exchanges", n)
	}
	e.refused("DELETE", "/api/v1/workspaces/default", nil, 409, "conflict", "")
	if code := e.do("DELETE", "/api/v1/workspaces/qa-1", nil, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := e.raw("GET", "/api/v1/workspaces/qa-1"); code != 404 {
		t.Errorf("deleted workspace answers %d", code)
	}
}

func (e *env) exchangesIn(ws string) []exchange {
	var l struct{ Items []exchange }
	e.do("GET", "/api/v1/workspaces/"+ws+"/exchanges", nil, &l)
	return l.Items
}

func TestIntegrationCheck(t *testing.T) {
	e := newEnv(t, 1)
	var res struct {
		Ready      bool
		Message    string
		URL        string
		ExchangeID int64 `json:"exchange_id"`
	}
	if code := e.do("POST", e.ws("/integration/check"), nil, &res); code != 200 || !res.Ready || res.Message != "Your integration is ready to use." {
		t.Fatalf("check: %d %+v", code, res)
	}
	x := e.exchange(res.ExchangeID)
	if x.Event != "check" || x.Request.Path != "/check" || x.Request.Query["ap_guid"] == "" || x.Request.Query["reseller_id"] == "" {
		t.Errorf("check exchange %+v", x)
	}
	e.vendor.SetFault(examplevendorFault("check", 500, "maintenance window"))
	e.do("POST", e.ws("/integration/check"), nil, &res)
	if res.Ready || res.Message != "maintenance window" {
		t.Errorf("failing check: %+v", res)
	}
}
