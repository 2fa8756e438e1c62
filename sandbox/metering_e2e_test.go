package sandbox_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/operator"
)

// The optional call families against the example vendor over real HTTP:
// resource validation, usage, consumption and order attributes with
// their validation. Every body the vendor receives is checked against
// the webhooks of openapi.yaml.

type refusal struct {
	Stage   string `json:"stage"`
	Message string `json:"message"`
}

type charge struct {
	Resource   string    `json:"resource"`
	Units      string    `json:"units"`
	UnitPrice  int64     `json:"unit_price"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	ExchangeID int64     `json:"exchange_id"`
}

type meteredSub struct {
	subscription
	Start          time.Time        `json:"start_date"`
	Usage          map[string]int64 `json:"usage"`
	UsageUpdatedAt *time.Time       `json:"usage_updated_at"`
	Charges        []charge         `json:"charges"`
	ConsumedTo     *time.Time       `json:"consumed_to"`
}

type meterResult struct {
	Subscription meteredSub `json:"subscription"`
	Order        *order     `json:"order"`
	ExchangeIDs  []int64    `json:"exchange_ids"`
	Warnings     []string   `json:"warnings"`
	Refusal      *refusal   `json:"refusal"`
	From         time.Time  `json:"from"`
	To           time.Time  `json:"to"`
	Charges      []charge   `json:"charges"`
}

// integrate changes integration settings: PUT replaces them wholesale,
// so the current ones are read and edited.
func (e *env) integrate(edit map[string]any) {
	e.t.Helper()
	var set map[string]any
	e.do("GET", e.ws("/integration"), nil, &set)
	for k, v := range edit {
		set[k] = v
	}
	if code := e.do("PUT", e.ws("/integration"), set, nil); code != 200 {
		e.t.Fatalf("PUT integration %v: %d", edit, code)
	}
}

// checkVendorBodies validates every body the example vendor received
// against its webhook in openapi.yaml; the event is named by the path.
func (e *env) checkVendorBodies() {
	e.t.Helper()
	for _, r := range e.vendor.Requests() {
		checkWebhook(e.t, r.Path, r.Body)
	}
}

func checkWebhook(t *testing.T, path string, body []byte) {
	t.Helper()
	event := strings.ReplaceAll(strings.Trim(path, "/"), "/", ".")
	if event == "check" {
		return
	}
	if err := operator.ValidateWebhookBody(event, body); err != nil {
		t.Errorf("%s body: %v\n%s", path, err, body)
	}
}

// orderRecurring orders a monthly recurring plan with quantity q of its
// first resource, provisioned by the example vendor.
func (e *env) orderRecurring(q int64) (opResult, plan) {
	e.t.Helper()
	p := e.findPlan(recurringMonthly)
	r := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID, "resources": map[string]int64{p.Resources[0].Key: q}})
	if r.Subscription.Status != "active" {
		e.t.Fatalf("order: %+v", r)
	}
	return r, p
}

func (e *env) subscriptionCount() int {
	var l struct{ Items []subscription }
	e.do("GET", e.ws("/subscriptions"), nil, &l)
	return len(l.Items)
}

// TestResourceValidation: change-resources, switch-plan and renewals
// with new quantities ask /subscription/resource_validation first; the
// vendor's refusal, or its silence, leaves the subscription and its
// orders untouched.
func TestResourceValidation(t *testing.T) {
	e := newEnv(t, 1)
	e.integrate(map[string]any{"allow_resource_validation": true, "timeout_ms": 1000})
	created, p := e.orderRecurring(10) // the example vendor reports 5 in use
	id, key := created.Subscription.ID, p.Resources[0].Key
	other := e.findPlan(func(q plan) bool {
		return recurringMonthly(q) && q.ID != p.ID && len(q.Resources) > 0 && q.Resources[0].Key == key
	})

	tests := []struct {
		name       string
		fault      *examplevendor.Fault
		path       string
		body       any
		wantCode   int
		wantEvents []string // the exchanges the answer lists
		wantRefuse string   // in refusal.message; "" for none
		wantQty    int64
	}{
		{"below what is in use", nil, "/change-resources", map[string]any{"resources": map[string]int64{key: 4}}, 200,
			[]string{"subscription.resource_validation"}, "4 is below the 5 in use", 10},
		{"allowed", nil, "/change-resources", map[string]any{"resources": map[string]int64{key: 12}}, 200,
			[]string{"subscription.resource_validation", "subscription.update"}, "", 12},
		{"vendor timeout", &examplevendor.Fault{Endpoint: "subscription/resource_validation", Delay: 2 * time.Second}, "/change-resources",
			map[string]any{"resources": map[string]int64{key: 14}}, 200, []string{"subscription.resource_validation"}, "did not answer within", 12},
		{"vendor refusal", &examplevendor.Fault{Endpoint: "subscription/resource_validation", Status: 409, Message: "tenant is migrating"}, "/change-resources",
			map[string]any{"resources": map[string]int64{key: 14}}, 200, []string{"subscription.resource_validation"}, "tenant is migrating", 12},
		{"renewal with the same quantities is not validated", nil, "/renew", nil, 200, []string{"subscription.renew"}, "", 12},
		{"renewal with new quantities", nil, "/renew", map[string]any{"resources": map[string]int64{key: 3}}, 200,
			[]string{"subscription.resource_validation"}, "3 is below the 6 in use", 12},
		{"switch plan", nil, "/switch-plan", map[string]any{"plan_id": other.ID, "resources": map[string]int64{key: 12}}, 200,
			[]string{"subscription.resource_validation", "subscription.update"}, "", 12},
		{"bad input calls nobody", nil, "/change-resources", map[string]any{"resources": map[string]int64{"nope": 1}}, 400, nil, "", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.vendor.ClearFaults()
			if tt.fault != nil {
				if err := e.vendor.SetFault(*tt.fault); err != nil {
					t.Fatal(err)
				}
			}
			before := e.sub(id)
			var ordersBefore struct{ Items []order }
			e.do("GET", e.ws(fmt.Sprintf("/orders?subscription_id=%d", id)), nil, &ordersBefore)
			var r meterResult
			if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d%s", id, tt.path)), tt.body, &r); code != tt.wantCode {
				t.Fatalf("status %d, want %d: %+v", code, tt.wantCode, r)
			}
			if tt.wantCode != 200 {
				return
			}
			var events []string
			for _, xid := range r.ExchangeIDs {
				events = append(events, e.exchange(xid).Event)
			}
			if strings.Join(events, ",") != strings.Join(tt.wantEvents, ",") {
				t.Errorf("exchanges %v, want %v", events, tt.wantEvents)
			}
			var ordersAfter struct{ Items []order }
			e.do("GET", e.ws(fmt.Sprintf("/orders?subscription_id=%d", id)), nil, &ordersAfter)
			if tt.wantRefuse != "" {
				switch {
				case r.Refusal == nil || r.Refusal.Stage != "resource_validation" || !strings.Contains(r.Refusal.Message, tt.wantRefuse):
					t.Errorf("refusal %+v, want resource_validation %q", r.Refusal, tt.wantRefuse)
				case r.Order != nil || len(ordersAfter.Items) != len(ordersBefore.Items):
					t.Errorf("a refusal made an order: %+v, %d orders before, %d after", r.Order, len(ordersBefore.Items), len(ordersAfter.Items))
				}
				after := e.sub(id)
				if after.Status != before.Status || after.LastError != before.LastError || after.PlanID != before.PlanID {
					t.Errorf("a refusal changed the subscription: %+v → %+v", before, after)
				}
			} else if r.Refusal != nil || r.Order == nil || r.Subscription.Status != "active" {
				t.Errorf("want the operation done: %+v", r)
			}
			if got := e.sub(id).Resources[key]; got != tt.wantQty {
				t.Errorf("%s = %d, want %d", key, got, tt.wantQty)
			}
		})
	}
	e.t = t
	e.vendor.ClearFaults()
	e.checkVendorBodies()

	// With the toggle off, nothing is validated.
	e.integrate(map[string]any{"allow_resource_validation": false})
	var r opResult
	e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/change-resources", id)), map[string]any{"resources": map[string]int64{key: 2}}, &r)
	if len(r.ExchangeIDs) != 1 || e.exchange(r.ExchangeIDs[0]).Event != "subscription.update" || r.Subscription.Resources[key] != 2 {
		t.Errorf("toggle off: %+v", r)
	}
}

// TestUsage: POST …/usage stores what the vendor reports in use.
func TestUsage(t *testing.T) {
	e := newEnv(t, 1)
	created, p := e.orderRecurring(10)
	id, key := created.Subscription.ID, p.Resources[0].Key
	path := e.ws(fmt.Sprintf("/subscriptions/%d/usage", id))

	var ae apiError
	if code := e.do("POST", path, nil, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "allow_usage_url") {
		t.Errorf("toggle off: %d %+v", code, ae)
	}
	e.integrate(map[string]any{"allow_usage_url": true, "timeout_ms": 1000})

	if _, err := e.vendor.SetUsage(created.Subscription.ExternalID, map[string]int64{key: 7}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		fault       *examplevendor.Fault
		wantUsage   int64
		wantRefusal string
	}{
		{"pulled", nil, 7, ""},
		{"vendor refusal keeps the last usage", &examplevendor.Fault{Endpoint: "subscription/usage", Status: 503, Message: "metering offline"}, 7, "metering offline"},
		{"vendor timeout keeps the last usage", &examplevendor.Fault{Endpoint: "subscription/usage", Delay: 2 * time.Second}, 7, "did not answer within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.vendor.ClearFaults()
			if tt.fault != nil {
				e.vendor.SetFault(*tt.fault)
			}
			var r meterResult
			if code := e.do("POST", path, nil, &r); code != 200 {
				t.Fatalf("status %d", code)
			}
			gotRefusal := ""
			if r.Refusal != nil {
				gotRefusal = r.Refusal.Message
				if r.Refusal.Stage != "usage" {
					t.Errorf("stage %q", r.Refusal.Stage)
				}
			}
			if (tt.wantRefusal == "") != (gotRefusal == "") || !strings.Contains(gotRefusal, tt.wantRefusal) {
				t.Errorf("refusal %q, want %q", gotRefusal, tt.wantRefusal)
			}
			if got := r.Subscription.Usage[key]; got != tt.wantUsage || r.Subscription.UsageUpdatedAt == nil || len(r.ExchangeIDs) != 1 {
				t.Errorf("usage %v at %v, exchanges %v; want %s=%d", r.Subscription.Usage, r.Subscription.UsageUpdatedAt, r.ExchangeIDs, key, tt.wantUsage)
			}
			if x := e.exchange(r.ExchangeIDs[0]); x.Event != "subscription.usage" || x.SubscriptionID != id {
				t.Errorf("exchange %+v", x)
			}
		})
	}
	e.t = t
	e.vendor.ClearFaults()
	e.checkVendorBodies()

	// A subscription the vendor never provisioned has no usage.
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/create", Status: 500, Message: "down", Times: 1})
	failed := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID})
	if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/usage", failed.Subscription.ID)), nil, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "never provisioned") {
		t.Errorf("unprovisioned: %d %+v", code, ae)
	}
	if code := e.do("POST", e.ws("/subscriptions/999999/usage"), nil, &ae); code != http.StatusNotFound {
		t.Errorf("unknown subscription: %d", code)
	}
}

// meteringVendor answers /subscription/usage and /subscription/consumption
// with a body the test sets, and passes every other call to the example
// vendor: the example vendor cannot be made to answer fractions or
// garbage, and the seeded pay-as-you-go subscription is not on its books.
type meteringVendor struct {
	t      *testing.T
	mu     sync.Mutex
	answer map[string]string // path → body
	bodies []json.RawMessage // consumption bodies received
}

func (m *meteringVendor) set(path, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answer[path] = body
}

func (m *meteringVendor) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		body, ok := m.answer[r.URL.Path]
		m.mu.Unlock()
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		checkWebhook(m.t, r.URL.Path, raw)
		m.mu.Lock()
		m.bodies = append(m.bodies, raw)
		m.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	})
}

// seededPAYG is seed 1's pay-as-you-go subscription: active since
// before the workspace clock, so it has consumption to pull.
func (e *env) seededPAYG() (meteredSub, plan) {
	e.t.Helper()
	p := e.findPlan(func(p plan) bool { return p.BillingType == "pay_as_you_go" })
	var l struct{ Items []meteredSub }
	e.do("GET", e.ws(fmt.Sprintf("/subscriptions?plan_id=%d&status=active", p.ID)), nil, &l)
	if len(l.Items) == 0 {
		e.t.Fatal("seed 1 has no active pay-as-you-go subscription")
	}
	return l.Items[0], p
}

// TestConsumption: consumed units are charged exactly at the plan's unit
// prices; bad answers change nothing; periods never overlap.
func TestConsumption(t *testing.T) {
	mv := &meteringVendor{t: t, answer: map[string]string{}}
	e := newEnvWith(t, 1, nil, mv.wrap)
	s, p := e.seededPAYG()
	path := e.ws(fmt.Sprintf("/subscriptions/%d/consumption", s.ID))
	var ws struct{ Clock time.Time }
	e.do("GET", e.ws(""), nil, &ws)

	var ae apiError
	if code := e.do("POST", path, nil, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "allow_consumption_url") {
		t.Fatalf("toggle off: %d %+v", code, ae)
	}
	e.integrate(map[string]any{"allow_consumption_url": true})

	// Unit prices of seed 1's compute plan: vcpu_hours 4, storage_gb_months 10, egress_gb 9.
	mid := s.Start.Add(24 * time.Hour)
	steps := []struct {
		name        string
		body        any
		answer      string
		wantCode    int
		wantField   string // of a 400
		wantRefusal string
		wantCharges []charge // resource, units, amount
		wantTo      time.Time
	}{
		{"to before from", map[string]any{"to": s.Start.Add(-time.Hour)}, "", 400, "to", "", nil, time.Time{}},
		{"to in the future", map[string]any{"to": ws.Clock.Add(time.Hour)}, "", 400, "to", "", nil, time.Time{}},
		{"from before the start", map[string]any{"from": s.Start.Add(-time.Hour), "to": mid}, "", 400, "from", "", nil, time.Time{}},
		{"negative", map[string]any{"to": mid}, `{"resources":[{"key":"vcpu_hours","consumed":-1}]}`, 200, "", "resource vcpu_hours: consumed -1 is negative", nil, time.Time{}},
		{"not a number", map[string]any{"to": mid}, `{"resources":[{"key":"egress_gb","consumed":"12"}]}`, 200, "", "resource egress_gb: consumed", nil, time.Time{}},
		{"overflow", map[string]any{"to": mid}, `{"resources":[{"key":"storage_gb_months","consumed":9.3e17}]}`, 200, "", "resource storage_gb_months", nil, time.Time{}},
		{"not the shape", map[string]any{"to": mid}, `[1,2]`, 200, "", "not a JSON object", nil, time.Time{}},
		{"exact decimals, first day", map[string]any{"to": mid},
			`{"resources":[{"key":"vcpu_hours","consumed":123.5},{"key":"storage_gb_months","consumed":0.05},{"key":"egress_gb","consumed":1.5E1},{"key":"gpu","consumed":3}]}`,
			200, "", "", []charge{{Resource: "vcpu_hours", Units: "123.5", Amount: 494}, {Resource: "storage_gb_months", Units: "0.05", Amount: 1}, {Resource: "egress_gb", Units: "15", Amount: 135}}, mid},
		{"overlapping from", map[string]any{"from": s.Start, "to": ws.Clock}, "", 400, "from", "", nil, time.Time{}},
		{"the rest, by default", nil, `{"resources":[{"key":"vcpu_hours","consumed":0.125}]}`, 200, "", "",
			[]charge{{Resource: "vcpu_hours", Units: "0.125", Amount: 1}}, ws.Clock},
		{"nothing left to pull", nil, "", 400, "to", "", nil, time.Time{}},
	}
	var all []charge
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.t = t
			mv.set("/subscription/consumption", st.answer)
			_, before := e.raw("GET", e.ws(fmt.Sprintf("/subscriptions/%d", s.ID)))
			var r meterResult
			var ae apiError
			code := e.do("POST", path, st.body, &r)
			if code != st.wantCode {
				t.Fatalf("status %d, want %d", code, st.wantCode)
			}
			if code == 400 {
				e.do("POST", path, st.body, &ae)
				if len(ae.Error.Details) == 0 || ae.Error.Details[0].Field != st.wantField {
					t.Errorf("error %+v, want field %s", ae, st.wantField)
				}
				return
			}
			if st.wantRefusal != "" {
				if r.Refusal == nil || r.Refusal.Stage != "consumption" || !strings.Contains(r.Refusal.Message, st.wantRefusal) {
					t.Errorf("refusal %+v, want %q", r.Refusal, st.wantRefusal)
				}
				if _, after := e.raw("GET", e.ws(fmt.Sprintf("/subscriptions/%d", s.ID))); len(r.Charges) != 0 || after != before {
					t.Errorf("a refusal charged: %+v\n%s\n%s", r, before, after)
				}
				return
			}
			if r.Refusal != nil || len(r.ExchangeIDs) != 1 {
				t.Fatalf("result %+v", r)
			}
			if len(r.Charges) != len(st.wantCharges) {
				t.Fatalf("charges %+v, want %+v", r.Charges, st.wantCharges)
			}
			for i, want := range st.wantCharges {
				got := r.Charges[i]
				if got.Resource != want.Resource || got.Units != want.Units || got.Amount != want.Amount || got.Currency != "USD" ||
					got.ExchangeID != r.ExchangeIDs[0] || !got.To.Equal(st.wantTo) || !got.From.Equal(r.From) {
					t.Errorf("charge %d: %+v, want %+v to %s", i, got, want, st.wantTo)
				}
			}
			all = append(all, r.Charges...)
			if len(r.Subscription.Charges) != len(all) || r.Subscription.ConsumedTo == nil || !r.Subscription.ConsumedTo.Equal(st.wantTo) {
				t.Errorf("subscription charges %d (want %d), consumed_to %v (want %s)", len(r.Subscription.Charges), len(all), r.Subscription.ConsumedTo, st.wantTo)
			}
			if len(r.Warnings) > 0 != strings.Contains(st.answer, "gpu") {
				t.Errorf("warnings %v", r.Warnings)
			}
			x := e.exchange(r.ExchangeIDs[0])
			var body struct {
				ExternalID string `json:"external_id"`
				Period     struct{ From, To time.Time }
			}
			json.Unmarshal(x.Request.Body, &body)
			if x.Event != "subscription.consumption" || body.ExternalID != s.ExternalID || !body.Period.From.Equal(r.From) || !body.Period.To.Equal(r.To) {
				t.Errorf("exchange %s %s", x.Event, x.Request.Body)
			}
		})
	}
	e.t = t

	// Only pay-as-you-go plans are charged for consumption.
	created, _ := e.orderRecurring(3)
	if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/consumption", created.Subscription.ID)), nil, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "pay-as-you-go") {
		t.Errorf("recurring plan: %d %+v", code, ae)
	}
	_ = p
	e.checkVendorBodies()
}

type attrsResult struct {
	OK              bool   `json:"ok"`
	Message         string `json:"message"`
	ExchangeID      int64  `json:"exchange_id"`
	OrderAttributes []struct {
		Key      string   `json:"key"`
		Required bool     `json:"required"`
		Values   []string `json:"values"`
	} `json:"order_attributes"`
}

// TestOrderAttributes: with order attributes allowed, an order is checked
// against the vendor's definitions, and validated by the vendor when the
// installation supports it; a refusal creates nothing.
func TestOrderAttributes(t *testing.T) {
	mv := &meteringVendor{t: t, answer: map[string]string{}}
	e := newEnvWith(t, 1, nil, mv.wrap)
	tenant := e.firstTenant()
	p := e.findPlan(recurringMonthly)
	ask := map[string]any{"tenant_id": tenant, "plan_id": p.ID}

	var ae apiError
	if code := e.do("POST", e.ws("/order-attributes"), ask, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "allow_order_attributes") {
		t.Fatalf("toggle off: %d %+v", code, ae)
	}
	e.integrate(map[string]any{"allow_order_attributes": true, "timeout_ms": 1000})

	var ar attrsResult
	if code := e.do("POST", e.ws("/order-attributes"), ask, &ar); code != 200 || !ar.OK || len(ar.OrderAttributes) != 1 ||
		ar.OrderAttributes[0].Key != "domain" || !ar.OrderAttributes[0].Required || e.exchange(ar.ExchangeID).Event != "order.attributes" {
		t.Fatalf("definitions: %d %+v", code, ar)
	}
	if code := e.do("POST", e.ws("/order-attributes"), map[string]any{"tenant_id": tenant, "plan_id": 999999}, &ae); code != 400 || ae.Error.Details[0].Field != "plan_id" {
		t.Errorf("unknown plan: %d %+v", code, ae)
	}

	order := func(attrs map[string]string) map[string]any {
		body := map[string]any{"tenant_id": tenant, "plan_id": p.ID}
		if attrs != nil {
			body["attributes"] = attrs
		}
		return body
	}
	tests := []struct {
		name        string
		validate    bool
		fault       *examplevendor.Fault
		answer      string // of /order/attributes_validation, when set
		body        map[string]any
		wantCode    int
		wantField   string
		wantStage   string
		wantRefusal string
		wantEvents  []string
	}{
		{"required attribute missing", false, nil, "", order(nil), 400, "attributes.domain", "", "", []string{"order.attributes"}},
		{"unknown attribute", false, nil, "", order(map[string]string{"domain": "a.example", "color": "red"}), 400, "attributes.color", "", "", []string{"order.attributes"}},
		{"definitions refused", false, &examplevendor.Fault{Endpoint: "order/attributes", Status: 503, Message: "catalogue offline"}, "",
			order(map[string]string{"domain": "a.example"}), 200, "", "order_attributes", "catalogue offline", []string{"order.attributes"}},
		{"definitions time out", false, &examplevendor.Fault{Endpoint: "order/attributes", Delay: 2 * time.Second}, "",
			order(map[string]string{"domain": "a.example"}), 200, "", "order_attributes", "did not answer within", []string{"order.attributes"}},
		{"ordered", false, nil, "", order(map[string]string{"domain": "a.example"}), 201, "", "", "", []string{"order.attributes", "subscription.create"}},
		{"validated and ordered", true, nil, "", order(map[string]string{"domain": "b.example"}), 201, "", "", "",
			[]string{"order.attributes", "order.attributes_validation", "subscription.create"}},
		{"validation refused", true, &examplevendor.Fault{Endpoint: "order/attributes_validation", Status: 422, Message: "domain is taken"}, "",
			order(map[string]string{"domain": "c.example"}), 200, "", "attributes_validation", "domain is taken", []string{"order.attributes", "order.attributes_validation"}},
		{"found invalid", true, nil, `{"valid":false,"errors":[{"domain":"already taken"}]}`,
			order(map[string]string{"domain": "d.example"}), 200, "", "attributes_validation", "domain: already taken", []string{"order.attributes", "order.attributes_validation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.vendor.ClearFaults()
			if tt.fault != nil {
				e.vendor.SetFault(*tt.fault)
			}
			mv.mu.Lock()
			delete(mv.answer, "/order/attributes_validation")
			mv.mu.Unlock()
			if tt.answer != "" {
				mv.set("/order/attributes_validation", tt.answer)
			}
			e.integrate(map[string]any{"attributes_validation": tt.validate})
			count := e.subscriptionCount()
			lastX := e.exchanges("")
			var r meterResult
			var ae apiError
			code := e.do("POST", e.ws("/subscriptions"), tt.body, &r)
			if code != tt.wantCode {
				t.Fatalf("status %d, want %d: %+v", code, tt.wantCode, r)
			}
			if code == 400 {
				e.do("POST", e.ws("/subscriptions"), tt.body, &ae)
				if len(ae.Error.Details) == 0 || ae.Error.Details[0].Field != tt.wantField {
					t.Errorf("error %+v, want field %s", ae, tt.wantField)
				}
				// The definitions were asked for (and recorded) twice, once
				// per attempt.
				var events []string
				for _, x := range e.exchanges("")[len(lastX):] {
					events = append(events, x.Event)
				}
				if strings.Join(events, ",") != "order.attributes,order.attributes" {
					t.Errorf("exchanges recorded %v", events)
				}
			} else {
				var events []string
				for _, id := range r.ExchangeIDs {
					events = append(events, e.exchange(id).Event)
				}
				if strings.Join(events, ",") != strings.Join(tt.wantEvents, ",") {
					t.Errorf("exchanges %v, want %v", events, tt.wantEvents)
				}
			}
			wantCount := count
			if code == 201 {
				wantCount++
				if r.Subscription.Status != "active" || r.Refusal != nil {
					t.Errorf("order: %+v", r)
				}
			}
			if code == 200 && (r.Refusal == nil || r.Refusal.Stage != tt.wantStage || !strings.Contains(r.Refusal.Message, tt.wantRefusal) || r.Subscription.ID != 0 || r.Order != nil) {
				t.Errorf("refusal: %+v, want %s %q and the draft", r, tt.wantStage, tt.wantRefusal)
			}
			if got := e.subscriptionCount(); got != wantCount {
				t.Errorf("%d subscriptions, want %d", got, wantCount)
			}
		})
	}
	e.t = t
	e.vendor.ClearFaults()
	// The values travel in the create body's attributes.
	subs := e.vendor.Subscriptions()
	if last := subs[len(subs)-1]; !strings.Contains(string(last.OrderAttributes), `"domain":"b.example"`) {
		t.Errorf("the vendor got order attributes %s", last.OrderAttributes)
	}
	e.checkVendorBodies()
}

// TestExampleVendorValidatesAttributes: the example vendor's
// /order/attributes_validation judges the values against its definitions.
func TestExampleVendorValidatesAttributes(t *testing.T) {
	v := examplevendor.New(examplevendor.Config{OrderAttributes: []examplevendor.OrderAttribute{
		{Key: "domain", Required: true},
		{Key: "region", Values: []string{"eu", "us"}},
	}})
	url := serveOn(t, v.Handler())
	tests := []struct {
		attrs string
		want  string
	}{
		{`{"domain":"a.example","region":"eu"}`, `{"errors":[],"valid":true}`},
		{`{"region":"mars","extra":"x"}`, `{"errors":[{"domain":"is required"},{"region":"must be one of eu, us"},{"extra":"is not an attribute of this service"}],"valid":false}`},
	}
	for _, tt := range tests {
		body := `{"reseller":{},"distributor":{},"attributes_for":"manager","plan":{},"attributes":` + tt.attrs + `}`
		resp, err := http.Post(url+"/order/attributes_validation?ap_guid=g&reseller_id=1", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(raw)); resp.StatusCode != 200 || got != tt.want {
			t.Errorf("%s: %d %s, want %s", tt.attrs, resp.StatusCode, got, tt.want)
		}
	}
}

// TestResourceValidationRechecks: the vendor call is made without the
// workspace lock, so the world may change meanwhile; the operation the
// vendor allowed begins only if the subscription still allows it, and a
// reset drops it.
func TestResourceValidationRechecks(t *testing.T) {
	tests := []struct {
		name     string
		meantime func(e *env, id int64)
		wantMsg  string
	}{
		{"stopped meanwhile", func(e *env, id int64) {
			if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/stop", id)), nil, nil); code != 200 {
				e.t.Errorf("stop: %d", code)
			}
		}, "cannot change resources"},
		{"reset meanwhile", func(e *env, id int64) {
			if code := e.do("POST", e.ws("/reset"), nil, nil); code != 200 {
				e.t.Errorf("reset: %d", code)
			}
		}, "was reset while the vendor call ran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 1)
			created, p := e.orderRecurring(10)
			id, key := created.Subscription.ID, p.Resources[0].Key
			e.integrate(map[string]any{"allow_resource_validation": true})
			e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/resource_validation", Delay: 400 * time.Millisecond})
			type answer struct {
				code int
				body apiError
			}
			done := make(chan answer, 1)
			go func() {
				body, _ := json.Marshal(map[string]any{"resources": map[string]int64{key: 12}})
				resp, err := http.Post(e.base+e.ws(fmt.Sprintf("/subscriptions/%d/change-resources", id)), "application/json", strings.NewReader(string(body)))
				if err != nil {
					done <- answer{}
					return
				}
				defer resp.Body.Close()
				var a answer
				a.code = resp.StatusCode
				json.NewDecoder(resp.Body).Decode(&a.body)
				done <- a
			}()
			time.Sleep(100 * time.Millisecond)
			tt.meantime(e, id)
			a := <-done
			if a.code != http.StatusConflict || !strings.Contains(a.body.Error.Message, tt.wantMsg) {
				t.Errorf("change-resources: %d %+v, want 409 %q", a.code, a.body, tt.wantMsg)
			}
			var orders struct{ Items []order }
			e.do("GET", e.ws(fmt.Sprintf("/orders?subscription_id=%d", id)), nil, &orders)
			for _, o := range orders.Items {
				if o.Type == "change" {
					t.Errorf("an order was made: %+v", o)
				}
			}
			// The validation is recorded all the same.
			if xs := e.exchanges("?event=subscription.resource_validation"); len(xs) != 1 && tt.name != "reset meanwhile" {
				t.Errorf("%d validation exchanges recorded, want 1", len(xs))
			}
		})
	}
}

// TestUsageAnswers: what the platform makes of the vendor's usage answer.
func TestUsageAnswers(t *testing.T) {
	mv := &meteringVendor{t: t, answer: map[string]string{}}
	e := newEnvWith(t, 1, nil, mv.wrap)
	s, _ := e.seededPAYG()
	e.integrate(map[string]any{"allow_usage_url": true})
	path := e.ws(fmt.Sprintf("/subscriptions/%d/usage", s.ID))
	tests := []struct {
		name        string
		answer      string
		wantUsage   map[string]int64
		wantWarning bool
		wantRefusal string
	}{
		{"stored", `{"resources":[{"key":"vcpu_hours","usage":7},{"key":"egress_gb","usage":0}]}`, map[string]int64{"vcpu_hours": 7, "egress_gb": 0}, false, ""},
		{"unknown keys are warnings", `{"resources":[{"key":"vcpu_hours","usage":8},{"key":"gpu","usage":1}]}`, map[string]int64{"vcpu_hours": 8}, true, ""},
		{"negative", `{"resources":[{"key":"vcpu_hours","usage":-1}]}`, map[string]int64{"vcpu_hours": 8}, false, "resource vcpu_hours: usage must be a non-negative integer"},
		{"fractional", `{"resources":[{"key":"vcpu_hours","usage":1.5}]}`, map[string]int64{"vcpu_hours": 8}, false, "non-negative integer"},
		{"twice", `{"resources":[{"key":"vcpu_hours","usage":1},{"key":"vcpu_hours","usage":2}]}`, map[string]int64{"vcpu_hours": 8}, false, "appears twice"},
		{"no list", `{}`, map[string]int64{"vcpu_hours": 8}, false, `no "resources" list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			mv.set("/subscription/usage", tt.answer)
			var r meterResult
			if code := e.do("POST", path, nil, &r); code != 200 {
				t.Fatalf("status %d", code)
			}
			got := ""
			if r.Refusal != nil {
				got = r.Refusal.Message
			}
			if (got == "") != (tt.wantRefusal == "") || !strings.Contains(got, tt.wantRefusal) {
				t.Errorf("refusal %q, want %q", got, tt.wantRefusal)
			}
			if fmt.Sprint(r.Subscription.Usage) != fmt.Sprint(tt.wantUsage) || (len(r.Warnings) > 0) != tt.wantWarning {
				t.Errorf("usage %v warnings %v, want %v (warning %v)", r.Subscription.Usage, r.Warnings, tt.wantUsage, tt.wantWarning)
			}
		})
	}
}
