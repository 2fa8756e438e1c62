package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/operator"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
)

// doDelivery is e.do with the X-Apsandbox-Delivery header set to faults.
func (e *env) doDelivery(faults, method, path string, body any, out any) int {
	e.t.Helper()
	return e.doWith(http.Header{operator.DeliveryHeader: {faults}}, method, path, body, out)
}

// deliveryStep is one operation of TestDeliveryFaults: an order, or a
// renew of a subscription ordered before without faults.
type deliveryStep struct {
	name string
	// run makes the operation with faults ("" for none) and returns its
	// result.
	run func(e *env, faults string) opResult
}

var deliverySteps = []deliveryStep{
	{"order", func(e *env, faults string) opResult {
		var r opResult
		body := map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID}
		if code := e.doDelivery(faults, "POST", e.ws("/subscriptions"), body, &r); code != http.StatusCreated {
			e.t.Fatalf("order: %d %+v", code, r)
		}
		return r
	}},
	{"renew", func(e *env, faults string) opResult {
		s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID}).Subscription
		var r opResult
		if code := e.doDelivery(faults, "POST", e.ws(fmt.Sprintf("/subscriptions/%d/renew", s.ID)), nil, &r); code != http.StatusOK {
			e.t.Fatalf("renew: %d %+v", code, r)
		}
		return r
	}},
}

// TestDeliveryFaults runs an order and a renew under each delivery fault
// against the example vendor, next to a twin sandbox running the same
// steps without faults: the exchanges show the fault, and the world ends
// the same as the twin's, because only the first answer is applied.
func TestDeliveryFaults(t *testing.T) {
	type want struct {
		actions  []string // of the operation's exchanges, in order
		warnings []string // parts of the warnings, one each
	}
	tests := []struct {
		faults string
		want   map[string]want // by step
		// check looks further at the exchanges, next to the twin's.
		check func(t *testing.T, e *env, step string, xs, twin []exchange)
	}{
		{
			faults: "duplicate",
			want: map[string]want{
				"order": {actions: []string{"order", "order.duplicate"}},
				"renew": {actions: []string{"renew", "renew.duplicate"}},
			},
			check: func(t *testing.T, e *env, step string, xs, _ []exchange) {
				if !bytes.Equal(xs[0].Request.Body, xs[1].Request.Body) || xs[0].Request.URL != xs[1].Request.URL {
					t.Errorf("the duplicate is not the identical request:\n%s %s\n%s %s", xs[0].Request.URL, xs[0].Request.Body, xs[1].Request.URL, xs[1].Request.Body)
				}
				if step == "order" {
					// The example vendor creates idempotently: one
					// subscription, the same id twice.
					if got, want := createdID(t, xs[1]), createdID(t, xs[0]); got != want || got == "" {
						t.Errorf("duplicate create answered id %q, first %q", got, want)
					}
					if n := len(e.vendor.Subscriptions()); n != 1 {
						t.Errorf("the vendor holds %d subscriptions after a duplicate create, want 1", n)
					}
				}
			},
		},
		{
			faults: "extra_fields",
			want: map[string]want{
				"order": {actions: []string{"order"}},
				"renew": {actions: []string{"renew"}},
			},
			check: func(t *testing.T, e *env, _ string, xs, twin []exchange) {
				var body map[string]any
				if err := json.Unmarshal(xs[0].Request.Body, &body); err != nil {
					t.Fatal(err)
				}
				for _, at := range [][]string{{}, {"plan"}, {"plan", "period"}, {"subscription"}, {"tenant"}, {"reseller"}} {
					if got := member(body, at...)[vendorapi.ProbeKey]; got != vendorapi.ProbeValue {
						t.Errorf("body%v: probe %v, want %q", at, got, vendorapi.ProbeValue)
					}
				}
				// Without the probes the body is the twin's; the vendor
				// got what was recorded.
				var got, want any
				json.Unmarshal(xs[0].Request.Body, &got)
				json.Unmarshal(twin[0].Request.Body, &want)
				if !reflect.DeepEqual(stripProbe(got), want) {
					t.Errorf("body without probes differs from the fault-free one:\n got %s\nwant %s", xs[0].Request.Body, twin[0].Request.Body)
				}
				// The vendor got the probes the journal shows (the
				// journal's copy is redacted, so count rather than compare).
				rs := e.vendor.Requests()
				probe := []byte(vendorapi.ProbeKey)
				if got, want := bytes.Count(rs[len(rs)-1].Body, probe), bytes.Count(xs[0].Request.Body, probe); got != want || got < 6 {
					t.Errorf("the vendor got %d probes, the journal shows %d", got, want)
				}
			},
		},
		{
			faults: "late",
			want: map[string]want{
				"order": {actions: []string{"order"}, warnings: []string{"late: the subscription had no earlier vendor call"}},
				"renew": {actions: []string{"renew", "order.late"}},
			},
			check: func(t *testing.T, e *env, step string, xs, _ []exchange) {
				if step != "renew" {
					return
				}
				// The stale call is the subscription's create, again.
				creates := e.exchanges(fmt.Sprintf("?subscription_id=%d&action=order", xs[0].SubscriptionID))
				if len(creates) != 1 {
					t.Fatalf("%d create exchanges, want 1", len(creates))
				}
				prev, late := creates[0], xs[1]
				if late.Event != "subscription.create" || late.Request.Path != prev.Request.Path || late.Request.URL != prev.Request.URL {
					t.Errorf("late call %s %s, want %s %s", late.Event, late.Request.URL, prev.Event, prev.Request.URL)
				}
				if !bytes.Equal(late.Request.Body, prev.Request.Body) {
					t.Errorf("late body\n%s\nwant the earlier exchange's\n%s", late.Request.Body, prev.Request.Body)
				}
				if late.Outcome != "ok" || late.ID <= xs[0].ID {
					t.Errorf("late exchange %d outcome %q (%s), after %d", late.ID, late.Outcome, late.Error, xs[0].ID)
				}
			},
		},
		{
			faults: "timeout_ms=5000",
			want: map[string]want{
				"order": {actions: []string{"order"}},
				"renew": {actions: []string{"renew"}},
			},
		},
		{
			faults: "duplicate,extra_fields",
			want: map[string]want{
				"order": {actions: []string{"order", "order.duplicate"}},
				"renew": {actions: []string{"renew", "renew.duplicate"}},
			},
			check: func(t *testing.T, _ *env, _ string, xs, _ []exchange) {
				// The duplicate carries the same probes: identical bytes.
				if !bytes.Equal(xs[0].Request.Body, xs[1].Request.Body) || !bytes.Contains(xs[1].Request.Body, []byte(vendorapi.ProbeKey)) {
					t.Errorf("duplicate body %s, first %s", xs[1].Request.Body, xs[0].Request.Body)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, step := range deliverySteps {
			t.Run(tt.faults+"/"+step.name, func(t *testing.T) {
				e, twin := newEnv(t, 1), newEnv(t, 1)
				r := step.run(e, tt.faults)
				tr := step.run(twin, "")
				if r.Subscription.Status != "active" {
					t.Errorf("status %q (%s), want active", r.Subscription.Status, r.Subscription.LastError)
				}
				w := tt.want[step.name]
				xs := make([]exchange, len(r.ExchangeIDs))
				var actions []string
				for i, id := range r.ExchangeIDs {
					xs[i] = e.exchange(id)
					actions = append(actions, xs[i].Action)
				}
				if !reflect.DeepEqual(actions, w.actions) {
					t.Fatalf("exchange actions %v, want %v", actions, w.actions)
				}
				for _, x := range xs {
					if x.Outcome != "ok" {
						t.Errorf("exchange %d (%s): outcome %q (%s)", x.ID, x.Action, x.Outcome, x.Error)
					}
				}
				if len(r.Warnings) != len(w.warnings) {
					t.Errorf("warnings %q, want %d like %q", r.Warnings, len(w.warnings), w.warnings)
				}
				for i := range min(len(r.Warnings), len(w.warnings)) {
					if !strings.Contains(r.Warnings[i], w.warnings[i]) {
						t.Errorf("warning %q, want it to contain %q", r.Warnings[i], w.warnings[i])
					}
				}
				twinXs := []exchange{}
				for _, id := range tr.ExchangeIDs {
					twinXs = append(twinXs, twin.exchange(id))
				}
				if tt.check != nil {
					tt.check(t, e, step.name, xs, twinXs)
				}
				if got, want := e.world(), twin.world(); got != want {
					t.Errorf("the world after %q differs from the fault-free twin's:\n got %.600s\nwant %.600s", tt.faults, got, want)
				}
			})
		}
	}
}

// TestDeliveryDuplicateCreateOtherID: a vendor that creates twice answers
// the duplicate with another id; the operation keeps the first and says so.
func TestDeliveryDuplicateCreateOtherID(t *testing.T) {
	var creates atomic.Int32
	careless := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/subscription/create" && creates.Add(1) == 2 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				w.Write([]byte(`{"id":"second-copy"}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnvWith(t, 1, nil, careless)
	r := deliverySteps[0].run(e, "duplicate")
	first := createdID(t, e.exchange(r.ExchangeIDs[0]))
	if r.Subscription.ExternalID != first || first == "" {
		t.Errorf("external_id %q, want the first answer's %q", r.Subscription.ExternalID, first)
	}
	want := fmt.Sprintf("the vendor answered the duplicate create with another id: %q, first %q", "second-copy", first)
	if !reflect.DeepEqual(r.Warnings, []string{want}) {
		t.Errorf("warnings %q, want [%q]", r.Warnings, want)
	}
}

// TestDeliveryTimeout: timeout_ms bounds the request's calls instead of
// the workspace's timeout: a vendor slower than it times out, and the
// same vendor without the header answers in time.
func TestDeliveryTimeout(t *testing.T) {
	e := newEnv(t, 1)
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID}).Subscription
	if err := e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Delay: 600 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var r opResult
	if code := e.doDelivery("timeout_ms=100", "POST", e.ws(fmt.Sprintf("/subscriptions/%d/renew", s.ID)), nil, &r); code != http.StatusOK {
		t.Fatalf("renew: %d", code)
	}
	if r.Subscription.Status != "renewing_failed" || !strings.Contains(r.Subscription.LastError, "did not answer within 100ms") {
		t.Errorf("subscription %s, last_error %q; want renewing_failed after 100ms", r.Subscription.Status, r.Subscription.LastError)
	}
	if x := e.exchange(r.ExchangeIDs[0]); x.Outcome != "timeout" {
		t.Errorf("exchange outcome %q, want timeout", x.Outcome)
	}
	// The workspace's own timeout (10s) waits for the same vendor.
	r2 := e.op(s.ID, "retry", nil, "active")
	if x := e.exchange(r2.ExchangeIDs[0]); x.Outcome != "ok" {
		t.Errorf("retry without the header: outcome %q (%s)", x.Outcome, x.Error)
	}
}

// TestDeliveryBadHeader: a bad header is 400 naming the header and the
// problem; nothing is called and nothing changes.
func TestDeliveryBadHeader(t *testing.T) {
	e := newEnv(t, 1)
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID}).Subscription
	tests := []struct{ header, problem string }{
		{"reorder", `has unknown item "reorder"`},
		{"timeout_ms=0", "timeout_ms must be an integer from 1 to 300000"},
		{"timeout_ms=999999", "timeout_ms must be an integer from 1 to 300000"},
		{"timeout_ms", "timeout_ms needs a value"},
		{"late,late", "names late twice"},
		{"duplicate,", "empty item"},
		{"extra_fields=1", "extra_fields takes no value"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			world, calls := e.world(), len(e.vendor.Requests())
			var ae apiError
			code := e.doDelivery(tt.header, "POST", e.ws(fmt.Sprintf("/subscriptions/%d/renew", s.ID)), nil, &ae)
			if code != http.StatusBadRequest || ae.Error.Code != "invalid_argument" {
				t.Fatalf("status %d %+v, want 400 invalid_argument", code, ae)
			}
			if len(ae.Error.Details) != 1 || ae.Error.Details[0].Field != operator.DeliveryHeader || !strings.Contains(ae.Error.Details[0].Problem, tt.problem) {
				t.Errorf("details %+v, want field %s with %q", ae.Error.Details, operator.DeliveryHeader, tt.problem)
			}
			if !strings.HasPrefix(ae.Error.Message, operator.DeliveryHeader+": ") {
				t.Errorf("message %q does not name the header", ae.Error.Message)
			}
			if got := len(e.vendor.Requests()); got != calls {
				t.Errorf("the vendor got %d calls", got-calls)
			}
			if e.world() != world {
				t.Error("the world changed")
			}
		})
	}
}

// TestDeliveryUsers: user operations take the faults too; late delivers
// the user's previous call again.
func TestDeliveryUsers(t *testing.T) {
	e := newEnv(t, 1)
	var r userResult
	code := e.doDelivery("duplicate,extra_fields", "POST", e.ws("/users"), map[string]any{
		"tenant_id": e.firstTenant(), "email": "dup.user@example.com", "first_name": "Dup", "last_name": "User", "role": "admin",
	}, &r)
	if code != http.StatusCreated || r.User.Status != "active" || len(r.ExchangeIDs) != 2 {
		t.Fatalf("create user: %d %+v", code, r)
	}
	a, b := e.exchange(r.ExchangeIDs[0]), e.exchange(r.ExchangeIDs[1])
	if b.Action != a.Action+".duplicate" {
		t.Errorf("actions %q, %q", a.Action, b.Action)
	}
	if !bytes.Equal(a.Request.Body, b.Request.Body) || !bytes.Contains(a.Request.Body, []byte(vendorapi.ProbeKey)) {
		t.Errorf("bodies %s / %s", a.Request.Body, b.Request.Body)
	}
	if n := len(e.vendor.Users()); n < 1 {
		t.Errorf("the vendor holds %d users", n)
	}

	var up userResult
	if code := e.doDelivery("late", "PATCH", e.ws(fmt.Sprintf("/users/%d", r.User.ID)), map[string]any{"first_name": "Late"}, &up); code != http.StatusOK || len(up.ExchangeIDs) != 2 {
		t.Fatalf("update user: %d %+v", code, up)
	}
	// The previous call of the user is the duplicate create: the most
	// recent before the update.
	late := e.exchange(up.ExchangeIDs[1])
	if late.Action != b.Action+".late" || late.Event != "user.create" || !bytes.Equal(late.Request.Body, b.Request.Body) || late.UserID != r.User.ID {
		t.Errorf("late exchange %s %s user %d, want a repeat of exchange %d (%s)", late.Action, late.Event, late.UserID, b.ID, b.Action)
	}
	if got := e.exchange(up.ExchangeIDs[0]); got.Event != "user.update" || got.Outcome != "ok" {
		t.Errorf("update exchange %s %s", got.Event, got.Outcome)
	}
}

// createdID is the id a create exchange's answer carried.
func createdID(t *testing.T, x exchange) string {
	t.Helper()
	if x.Response == nil {
		t.Fatalf("exchange %d has no answer", x.ID)
	}
	var a struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(x.Response.Body), &a); err != nil {
		t.Fatalf("exchange %d answer %q: %v", x.ID, x.Response.Body, err)
	}
	return a.ID
}

// member walks a decoded body down the named objects.
func member(body map[string]any, path ...string) map[string]any {
	for _, k := range path {
		next, _ := body[k].(map[string]any)
		body = next
	}
	return body
}

// stripProbe removes the probes from a decoded body.
func stripProbe(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, vendorapi.ProbeKey)
		for k, e := range v {
			v[k] = stripProbe(e)
		}
	case []any:
		for i, e := range v {
			v[i] = stripProbe(e)
		}
	}
	return v
}
