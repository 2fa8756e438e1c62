package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/operator"
)

// TestLifecycle drives one subscription through its whole life against the
// example vendor and checks every call the platform made.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, 1)
	p := e.findPlan(recurringMonthly)
	var other plan
	for _, q := range e.plans() {
		if q.ID != p.ID && q.BillingType == "recurring" && len(q.Resources) > 0 {
			other = q
			break
		}
	}
	if other.ID == 0 {
		t.Fatal("no second recurring plan to switch to")
	}
	tenant := e.firstTenant()

	// Order.
	r := e.order(map[string]any{"tenant_id": tenant, "plan_id": p.ID})
	s := r.Subscription
	if s.Status != "active" || s.ExternalID == "" || r.Order == nil || r.Order.Type != "sales" || r.Order.Status != "completed" {
		t.Fatalf("after order: %+v order %+v", s, r.Order)
	}
	if s.ExpirationDate == nil {
		t.Error("a monthly subscription has no expiration date")
	}
	create := e.exchange(r.ExchangeIDs[0])
	checkCall(t, create, "subscription.create", "/subscription/create")
	var body map[string]json.RawMessage
	json.Unmarshal(create.Request.Body, &body)
	for _, k := range []string{"distributor", "reseller", "tenant", "plan", "subscription", "attributes"} {
		if _, ok := body[k]; !ok {
			t.Errorf("create body lacks %q: %s", k, create.Request.Body)
		}
	}
	if _, ok := body["external_id"]; ok {
		t.Errorf("create body carries external_id before the vendor named one")
	}
	if create.Response == nil || create.Response.Status != 201 {
		t.Errorf("create answered %+v, want 201", create.Response)
	}

	// Change resources: one more of the first resource, within max.
	res := p.Resources[0]
	want := s.Resources[res.Key] + 1
	if res.Max > 0 && want > res.Max {
		want = s.Resources[res.Key] - 1
	}
	r = e.op(s.ID, "change-resources", map[string]any{"resources": map[string]int64{res.Key: want}}, "active")
	if got := r.Subscription.Resources[res.Key]; got != want {
		t.Errorf("after change %s = %d, want %d", res.Key, got, want)
	}
	x := e.exchange(r.ExchangeIDs[0])
	checkCall(t, x, "subscription.update", "/subscription/update")
	if !strings.Contains(string(x.Request.Body), fmt.Sprintf(`{"key":%q,"quantity":%d}`, res.Key, want)) {
		t.Errorf("update body lacks the new quantity: %s", x.Request.Body)
	}
	if r.Order == nil || r.Order.Type != "change" {
		t.Errorf("change order %+v", r.Order)
	}

	// Switch plan.
	r = e.op(s.ID, "switch-plan", map[string]any{"plan_id": other.ID}, "active")
	if r.Subscription.PlanID != other.ID || r.Order == nil || r.Order.Type != "switch_plan" {
		t.Errorf("after switch: %+v order %+v", r.Subscription, r.Order)
	}
	x = e.exchange(r.ExchangeIDs[0])
	checkCall(t, x, "subscription.update", "/subscription/update")
	if !strings.Contains(string(x.Request.Body), `"sku":"`+other.SKU+`"`) {
		t.Errorf("switch body does not name the new plan's sku %q: %s", other.SKU, x.Request.Body)
	}

	// Renew: the seed-002 body, external_id first.
	before := e.sub(s.ID)
	r = e.op(s.ID, "renew", map[string]any{}, "active")
	x = e.exchange(r.ExchangeIDs[0])
	checkCall(t, x, "subscription.renew", "/subscription/renew")
	if !strings.HasPrefix(string(x.Request.Body), `{"external_id":"`+s.ExternalID+`","distributor":{`) {
		t.Errorf("renew body does not open like seed 002: %.120s", x.Request.Body)
	}
	if before.ExpirationDate != nil && !r.Subscription.ExpirationDate.After(*before.ExpirationDate) {
		t.Errorf("renewal did not move expiration: %v → %v", before.ExpirationDate, r.Subscription.ExpirationDate)
	}
	if r.Order == nil || r.Order.Type != "renewal" || r.Order.Status != "completed" {
		t.Errorf("renewal order %+v", r.Order)
	}

	// Stop, activate, delete.
	r = e.op(s.ID, "stop", nil, "stopped")
	checkCall(t, e.exchange(r.ExchangeIDs[0]), "subscription.stop", "/subscription/stop")
	r = e.op(s.ID, "activate", nil, "active")
	checkCall(t, e.exchange(r.ExchangeIDs[0]), "subscription.activate", "/subscription/activate")
	if e.termTypes()[other.ID][1] == "manual" {
		// The plan's service term deletes only with a manager's
		// approval (manual_e2e_test.go tests it).
		e.op(s.ID, "delete", nil, "waiting_for_manual_approve")
		r = e.op(s.ID, "approve", nil, "deleted")
	} else {
		r = e.op(s.ID, "delete", nil, "deleted")
	}
	checkCall(t, e.exchange(r.ExchangeIDs[0]), "subscription.delete", "/subscription/delete")
	if r.Subscription.Ability["renew"] || r.Subscription.Ability["activate"] {
		t.Errorf("a deleted subscription can still do things: %v", r.Subscription.Ability)
	}

	// The journal has exactly these calls, in order.
	var got []string
	for _, x := range e.exchanges(fmt.Sprintf("?subscription_id=%d", s.ID)) {
		got = append(got, x.Event)
	}
	wantEvents := "subscription.create subscription.update subscription.update subscription.renew subscription.stop subscription.activate subscription.delete"
	if strings.Join(got, " ") != wantEvents {
		t.Errorf("exchanges %v, want %s", got, wantEvents)
	}
	// And the vendor saw the same, each with ap_guid and reseller_id.
	var seen []string
	for _, rq := range e.vendor.Requests() {
		if strings.HasPrefix(rq.Path, "/subscription/") {
			seen = append(seen, rq.Path)
		}
	}
	if len(seen) != 7 {
		t.Errorf("vendor received %v, want 7 subscription calls", seen)
	}
}

// op runs a subscription operation, insists on 200 and the wanted status,
// and checks each exchange's body against its webhook schema.
func (e *env) op(id int64, name string, body any, wantStatus string) opResult {
	e.t.Helper()
	var r opResult
	if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/%s", id, name)), body, &r); code != http.StatusOK {
		e.t.Fatalf("%s: status %d", name, code)
	}
	if r.Subscription.Status != wantStatus {
		e.t.Fatalf("%s: status %q (last_error %q), want %q", name, r.Subscription.Status, r.Subscription.LastError, wantStatus)
	}
	return r
}

func checkCall(t *testing.T, x exchange, event, path string) {
	t.Helper()
	if x.Event != event || x.Request.Method != "POST" || x.Request.Path != path {
		t.Errorf("exchange %d: %s %s %s, want %s POST %s", x.ID, x.Event, x.Request.Method, x.Request.Path, event, path)
	}
	if x.Request.Query["ap_guid"] == "" || x.Request.Query["reseller_id"] == "" {
		t.Errorf("exchange %d: query %v lacks ap_guid or reseller_id", x.ID, x.Request.Query)
	}
	if err := operator.ValidateWebhookBody(event, x.Request.Body); err != nil {
		t.Errorf("exchange %d: %s body does not match its webhook schema: %v\n%s", x.ID, event, err, x.Request.Body)
	}
	if x.Outcome != "ok" {
		t.Errorf("exchange %d: outcome %q (%s)", x.ID, x.Outcome, x.Error)
	}
}

// TestVendorRefusalAndRetry: a vendor's 422 message shows on the
// subscription and its order; retry sends the same operation again.
func TestVendorRefusalAndRetry(t *testing.T) {
	e := newEnv(t, 1)
	p := e.findPlan(recurringMonthly)
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID}).Subscription

	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "Card declined by the vendor"})
	r := e.op(s.ID, "renew", nil, "renewing_failed")
	if r.Subscription.LastError != "Card declined by the vendor" {
		t.Errorf("last_error %q", r.Subscription.LastError)
	}
	if r.Order == nil || r.Order.Status != "provisioning_failed" || r.Order.Error != "Card declined by the vendor" {
		t.Errorf("order %+v", r.Order)
	}
	if !r.Subscription.Ability["retry"] || r.Subscription.Ability["renew"] {
		t.Errorf("ability after failure %v, want retry and not renew", r.Subscription.Ability)
	}
	x := e.exchange(r.ExchangeIDs[0])
	if x.Outcome != "refused" || x.Response == nil || x.Response.Status != 422 {
		t.Errorf("exchange %+v", x)
	}

	e.vendor.ClearFaults()
	r2 := e.op(s.ID, "retry", nil, "active")
	if r2.Order == nil || r2.Order.ID != r.Order.ID || r2.Order.Status != "completed" {
		t.Errorf("retry did not complete the same order: %+v vs %+v", r2.Order, r.Order)
	}
	if r2.Subscription.LastError != "" {
		t.Errorf("last_error kept after success: %q", r2.Subscription.LastError)
	}
	checkCall(t, e.exchange(r2.ExchangeIDs[0]), "subscription.renew", "/subscription/renew")

	// Nothing left to retry.
	var ae apiError
	if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/retry", s.ID)), nil, &ae); code != 409 || ae.Error.Code != "conflict" {
		t.Errorf("retry without failure: %d %+v", code, ae)
	}
}

// TestVendorSlowOrDown: timeouts and refused connections become failed
// statuses with the transport error, and the sandbox keeps answering.
func TestVendorSlowOrDown(t *testing.T) {
	e := newEnv(t, 1)
	p := e.findPlan(recurringMonthly)
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID}).Subscription

	var set map[string]any
	e.do("GET", e.ws("/integration"), nil, &set)
	set["timeout_ms"] = 200
	if code := e.do("PUT", e.ws("/integration"), set, nil); code != 200 {
		t.Fatalf("put integration: %d", code)
	}
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/stop", Delay: 3 * time.Second})
	start := time.Now()
	r := e.op(s.ID, "stop", nil, "stopping_failed")
	if !strings.Contains(r.Subscription.LastError, "did not answer within 200ms") {
		t.Errorf("last_error %q", r.Subscription.LastError)
	}
	if time.Since(start) > 2500*time.Millisecond {
		t.Errorf("the sandbox waited %s for a vendor with a 200ms budget", time.Since(start))
	}
	if x := e.exchange(r.ExchangeIDs[0]); x.Outcome != "timeout" || x.Response != nil {
		t.Errorf("exchange %+v", x)
	}

	// Vendor down: nobody listens.
	ln, _ := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	set["api_path"] = dead
	e.do("PUT", e.ws("/integration"), set, nil)
	r = e.order2(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID})
	if r.Subscription.Status != "installation_failed" || !strings.Contains(r.Subscription.LastError, "cannot connect to the vendor") {
		t.Errorf("order against a dead vendor: %+v", r.Subscription)
	}
	if x := e.exchange(r.ExchangeIDs[0]); x.Outcome != "error" {
		t.Errorf("exchange outcome %q", x.Outcome)
	}
	// Bring the vendor back and retry the create.
	set["api_path"] = e.vendorURL
	e.do("PUT", e.ws("/integration"), set, nil)
	r = e.op(r.Subscription.ID, "retry", nil, "active")
	if r.Subscription.ExternalID == "" {
		t.Error("retried create has no external_id")
	}
}

// order2 places an order that may fail on the vendor side.
func (e *env) order2(body map[string]any) opResult {
	e.t.Helper()
	var r opResult
	if code := e.do("POST", e.ws("/subscriptions"), body, &r); code != http.StatusCreated {
		e.t.Fatalf("order: status %d", code)
	}
	return r
}

// TestTransitionalStatus: while the vendor works, the subscription shows
// the transitional status and refuses every other operation.
func TestTransitionalStatus(t *testing.T) {
	e := newEnv(t, 1)
	p := e.findPlan(recurringMonthly)
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID}).Subscription
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Delay: 1500 * time.Millisecond})
	done := make(chan opResult, 1)
	go func() {
		var r opResult
		e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/renew", s.ID)), nil, &r)
		done <- r
	}()
	deadline := time.Now().Add(5 * time.Second)
	for e.sub(s.ID).Status != "renewing" {
		if time.Now().After(deadline) {
			t.Fatal("never saw status renewing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mid := e.sub(s.ID)
	for k, v := range mid.Ability {
		if v {
			t.Errorf("ability %s open during renewing", k)
		}
	}
	var ae apiError
	if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/stop", s.ID)), nil, &ae); code != 409 || ae.Error.Code != "conflict" {
		t.Errorf("stop during renewing: %d %+v", code, ae)
	}
	if r := <-done; r.Subscription.Status != "active" {
		t.Errorf("after the slow renew: %+v", r.Subscription)
	}
	stops := 0
	for _, rq := range e.vendor.Requests() {
		if rq.Path == "/subscription/stop" {
			stops++
		}
	}
	if stops != 0 {
		t.Errorf("the refused stop reached the vendor %d times", stops)
	}
}
