package examplevendor

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// q is the query the platform sends on every call.
const q = "?ap_guid=g-1&reseller_id=12"

func newServer(t *testing.T, cfg Config) (*Vendor, *httptest.Server) {
	t.Helper()
	v := New(cfg)
	srv := httptest.NewServer(v.Handler())
	t.Cleanup(srv.Close)
	return v, srv
}

// do sends one request and returns the status and the trimmed body.
func do(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// createBody is a seed-002 style create body; id is raw JSON.
func createBody(id, sku string, quantity int) string {
	return fmt.Sprintf(`{
		"distributor": {"id": 211, "name": "Dev Acc", "attributes": {}},
		"reseller": {"id": 12, "name": "Root", "core_attributes": {}},
		"tenant": {"id": 199, "company_name": "John GS", "contact": {"email": "test@example.com"}},
		"plan": {"name": "Cloud %[2]s", "description": "", "sku": %[2]q,
			"resources": [{"key": "users", "quantity": %[3]d}, {"key": "storage_gb", "quantity": 10}],
			"period": {"value": 1, "type": "month", "trial": false, "endless": false}, "attributes": {}},
		"subscription": {"id": %[1]s, "attributes": {"login": "x"}},
		"attributes": {"domain": "example.com"},
		"unknown_extra": [1, 2, 3]
	}`, id, sku, quantity)
}

func envelopeOf(msg string) string {
	b, _ := json.Marshal(taskEnvelope(msg))
	return string(b)
}

// step is one call of a scenario that runs in order against one vendor.
type step struct {
	name       string
	method     string // POST when empty
	path, body string
	wantStatus int
	wantBody   string
}

func run(t *testing.T, srv *httptest.Server, steps []step) {
	t.Helper()
	for _, s := range steps {
		method := s.method
		if method == "" {
			method = http.MethodPost
		}
		gotStatus, gotBody := do(t, srv, method, s.path, s.body)
		if gotStatus != s.wantStatus || gotBody != s.wantBody {
			t.Errorf("%s: %s %s = %d %s; want %d %s", s.name, method, s.path, gotStatus, gotBody, s.wantStatus, s.wantBody)
		}
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	v, srv := newServer(t, Config{})
	run(t, srv, []step{
		{name: "number id", path: "/subscription/create" + q, body: createBody(`3002619`, "S", 5), wantStatus: 201, wantBody: `{"id":"vs-000001"}`},
		{name: "same id as a string", path: "/subscription/create" + q, body: createBody(`"3002619"`, "S", 5), wantStatus: 201, wantBody: `{"id":"vs-000001"}`},
		{name: "same id, padded string", path: "/subscription/create" + q, body: createBody(`" 3002619 "`, "OTHER", 7), wantStatus: 201, wantBody: `{"id":"vs-000001"}`},
		{name: "another id", path: "/subscription/create" + q, body: createBody(`3002620`, "S", 5), wantStatus: 201, wantBody: `{"id":"vs-000002"}`},
		{name: "same id, another installation", path: "/subscription/create?ap_guid=g-2&reseller_id=12", body: createBody(`3002619`, "S", 5), wantStatus: 201, wantBody: `{"id":"vs-000003"}`},
		{name: "no query (documented heading)", path: "/subscription/create", body: createBody(`3002619`, "S", 5), wantStatus: 201, wantBody: `{"id":"vs-000004"}`},
		{name: "no query, retried", path: "/subscription/create", body: createBody(`"3002619"`, "S", 5), wantStatus: 201, wantBody: `{"id":"vs-000004"}`},
	})
	subs := v.Subscriptions()
	if len(subs) != 4 {
		t.Fatalf("%d subscriptions, want 4", len(subs))
	}
	got := subs[0]
	if got.PlatformID != "3002619" || got.APGUID != "g-1" || got.ResellerID != "12" || got.Status != StatusActive ||
		got.Plan.SKU != "S" || got.Plan.Name != "Cloud S" || len(got.Plan.Resources) != 2 || got.Plan.Period == nil || got.Plan.Period.Type != "month" {
		t.Errorf("first subscription %+v", got)
	}
	if string(got.Attributes) != `{"login": "x"}` || string(got.OrderAttributes) != `{"domain": "example.com"}` {
		t.Errorf("attributes %s, order attributes %s", got.Attributes, got.OrderAttributes)
	}
}

func TestCreateConcurrentRetries(t *testing.T) {
	v, srv := newServer(t, Config{})
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Go(func() {
			id := `77`
			if i%2 == 1 {
				id = `"77"`
			}
			_, ids[i] = do(t, srv, "POST", "/subscription/create"+q, createBody(id, "S", 1))
		})
	}
	wg.Wait()
	for i, got := range ids {
		if want := `{"id":"vs-000001"}`; got != want {
			t.Errorf("create %d = %s, want %s", i, got, want)
		}
	}
	if n := len(v.Subscriptions()); n != 1 {
		t.Errorf("%d subscriptions after concurrent retries, want 1", n)
	}
}

func TestCreateRejectsBadBodies(t *testing.T) {
	full := map[string]any{}
	if err := json.Unmarshal([]byte(createBody(`1`, "S", 5)), &full); err != nil {
		t.Fatal(err)
	}
	// without returns the full body with one field changed (nil deletes).
	without := func(path string, val any) string {
		m := map[string]any{}
		b, _ := json.Marshal(full)
		_ = json.Unmarshal(b, &m)
		parent, key := m, path
		if p, k, ok := strings.Cut(path, "."); ok {
			parent, key = m[p].(map[string]any), k
		}
		if val == nil {
			delete(parent, key)
		} else {
			parent[key] = val
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	tests := []struct {
		name, body string
		wantStatus int
		wantMsg    string
	}{
		{"no subscription", without("subscription", nil), 400, "missing required field subscription.id"},
		{"no subscription.id", without("subscription.id", nil), 400, "missing required field subscription.id"},
		{"empty subscription.id", without("subscription.id", ""), 400, "missing required field subscription.id"},
		{"bool subscription.id", without("subscription.id", true), 400, "field subscription.id must be a string or an integer, got true"},
		{"fractional subscription.id", without("subscription.id", 1.5), 400, "field subscription.id must be a string or an integer, got 1.5"},
		{"no plan", without("plan", nil), 400, "missing required field plan"},
		{"no plan.sku", without("plan.sku", nil), 400, "missing required field plan.sku"},
		{"blank plan.sku", without("plan.sku", " "), 400, "missing required field plan.sku"},
		{"no tenant", without("tenant", nil), 400, "missing required field tenant"},
		{"tenant not an object", without("tenant", "t"), 400, "field tenant must be an object"},
		{"no reseller", without("reseller", nil), 400, "missing required field reseller"},
		{"plan not an object", without("plan", "gold"), 400, "field plan must be an object, got JSON string"},
		{"fractional quantity", without("plan.resources", []any{map[string]any{"key": "users", "quantity": 2.5}}), 400, "field plan.resources.quantity must be an integer, got JSON number 2.5"},
		{"negative quantity", without("plan.resources", []any{map[string]any{"key": "users", "quantity": -1}}), 400, "field plan.resources[0].quantity is negative: -1"},
		{"empty key", without("plan.resources", []any{map[string]any{"key": "", "quantity": 1}}), 400, "field plan.resources[0].key is empty"},
		{"duplicate key", without("plan.resources", []any{map[string]any{"key": "a", "quantity": 1}, map[string]any{"key": "a", "quantity": 2}}), 400, `field plan.resources: key "a" appears twice`},
		{"above the maximum", without("plan.resources", []any{map[string]any{"key": "users", "quantity": 101}}), 422, "users: 101 is above the maximum of 100"},
		{"malformed JSON", `{"plan": `, 400, "body is not valid JSON"},
		{"not an object", `[1]`, 400, "body must be a JSON object"},
		{"empty body", ``, 400, "missing required field subscription.id"},
	}
	v, srv := newServer(t, Config{MaxQuantity: map[string]int64{"users": 100}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotStatus, gotBody := do(t, srv, "POST", "/subscription/create"+q, tt.body)
			if gotStatus != tt.wantStatus || gotBody != envelopeOf(tt.wantMsg) {
				t.Errorf("got %d %s; want %d %s", gotStatus, gotBody, tt.wantStatus, envelopeOf(tt.wantMsg))
			}
		})
	}
	if n := len(v.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions created by bad bodies", n)
	}
}

func TestQueryArguments(t *testing.T) {
	_, srv := newServer(t, Config{})
	run(t, srv, []step{
		{name: "check", path: "/check" + q, wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "check without reseller_id", path: "/check?ap_guid=g", wantStatus: 400, wantBody: envelopeOf("missing query argument reseller_id")},
		{name: "renew without ap_guid", path: "/subscription/renew?reseller_id=1", body: `{"external_id":"vs-000001"}`, wantStatus: 400, wantBody: envelopeOf("missing query argument ap_guid")},
		{name: "user create with empty ap_guid", path: "/user/create?ap_guid=&reseller_id=1", body: `{}`, wantStatus: 400, wantBody: envelopeOf("missing query argument ap_guid")},
		{name: "order attributes without query", path: "/order/attributes", body: `{}`, wantStatus: 400, wantBody: envelopeOf("missing query argument ap_guid")},
		{name: "create without query", path: "/subscription/create", body: createBody(`1`, "S", 1), wantStatus: 201, wantBody: `{"id":"vs-000001"}`},
		{name: "unknown endpoint", path: "/subscription/resume" + q, body: `{}`, wantStatus: 404, wantBody: envelopeOf("unknown endpoint /subscription/resume")},
		{name: "wrong method", method: "GET", path: "/check" + q, wantStatus: 405, wantBody: envelopeOf("/check takes POST, not GET")},
	})
}

func TestSubscriptionLifecycle(t *testing.T) {
	v, srv := newServer(t, Config{MaxQuantity: map[string]int64{"users": 50}})
	ext := func(body string) string { return `{"external_id":"vs-000001"` + body + `}` }
	switchPlan := ext(`,"reseller":{},"plan":{"name":"Gold","sku":"GOLD","resources":[{"key":"users","quantity":20}],"period":{"value":1,"type":"year"}},"subscription":{"id":3002619}`)
	run(t, srv, []step{
		{name: "create", path: "/subscription/create" + q, body: createBody(`3002619`, "S", 10), wantStatus: 201, wantBody: `{"id":"vs-000001"}`},
		{name: "renew", path: "/subscription/renew" + q, body: ext(`,"plan":{"sku":"S","resources":[{"key":"users","quantity":12},{"key":"storage_gb","quantity":10}]}`), wantStatus: 200, wantBody: `{}`},
		{name: "renew with external_id as number", path: "/subscription/renew" + q, body: `{"external_id":1}`, wantStatus: 422, wantBody: envelopeOf("subscription 1 not found")},
		{name: "update switches plan", path: "/subscription/update" + q, body: switchPlan, wantStatus: 200, wantBody: `{}`},
		{name: "update without plan", path: "/subscription/update" + q, body: ext(``), wantStatus: 400, wantBody: envelopeOf("missing required field plan")},
		{name: "update without sku", path: "/subscription/update" + q, body: ext(`,"plan":{"resources":[]}`), wantStatus: 400, wantBody: envelopeOf("missing required field plan.sku")},
		{name: "update above maximum", path: "/subscription/update" + q, body: ext(`,"plan":{"sku":"GOLD","resources":[{"key":"users","quantity":51}]}`), wantStatus: 422, wantBody: envelopeOf("users: 51 is above the maximum of 50")},
		{name: "usage", path: "/subscription/usage" + q, body: ext(``), wantStatus: 200, wantBody: `{"resources":[{"key":"users","usage":10}]}`},
		{name: "consumption over 2.5 days", path: "/subscription/consumption" + q, body: ext(`,"period":{"from":"2026-01-01T00:00:00Z","to":"2026-01-03T12:00:00Z"}`), wantStatus: 200, wantBody: `{"resources":[{"key":"users","consumed":60}]}`},
		{name: "validation allows", path: "/subscription/resource_validation" + q, body: ext(`,"plan":{"resources":[{"key":"users","quantity":10},{"key":"new_key","quantity":0}]}`), wantStatus: 200, wantBody: `{"valid":true}`},
		{name: "validation denies below usage", path: "/subscription/resource_validation" + q, body: ext(`,"plan":{"resources":[{"key":"users","quantity":9}]}`), wantStatus: 422, wantBody: envelopeOf("users: 9 is below the 10 in use")},
		{name: "validation denies above maximum", path: "/subscription/resource_validation" + q, body: ext(`,"plan":{"resources":[{"key":"users","quantity":60}]}`), wantStatus: 422, wantBody: envelopeOf("users: 60 is above the maximum of 50")},
		{name: "validation without resources", path: "/subscription/resource_validation" + q, body: ext(``), wantStatus: 400, wantBody: envelopeOf("missing required field plan.resources")},
		{name: "stop", path: "/subscription/stop" + q, body: ext(``), wantStatus: 200, wantBody: `{}`},
		{name: "stop again is harmless", path: "/subscription/stop" + q, body: ext(``), wantStatus: 200, wantBody: `{}`},
		{name: "update while stopped", path: "/subscription/update" + q, body: switchPlan, wantStatus: 422, wantBody: envelopeOf("subscription vs-000001 is stopped: activate it before changing it")},
		{name: "renew while stopped", path: "/subscription/renew" + q, body: ext(``), wantStatus: 200, wantBody: `{}`},
		{name: "activate", path: "/subscription/activate" + q, body: ext(``), wantStatus: 200, wantBody: `{}`},
		{name: "activate again is harmless", path: "/subscription/activate" + q, body: ext(``), wantStatus: 200, wantBody: `{}`},
		{name: "delete", path: "/subscription/delete" + q, body: ext(``), wantStatus: 200, wantBody: `{}`},
	})
	want := Subscription{
		ID: "vs-000001", PlatformID: "3002619", APGUID: "g-1", ResellerID: "12", Status: StatusDeleted,
		Plan:     Plan{Name: "Gold", SKU: "GOLD", Resources: []Resource{{"users", 20}}, Period: &Period{Value: 1, Type: "year"}},
		Usage:    map[string]int64{"users": 10},
		Renewals: 2, Updates: 1,
	}
	got := v.Subscriptions()[0]
	if got.Plan.Period == nil || *got.Plan.Period != *want.Plan.Period {
		t.Errorf("period %+v, want %+v", got.Plan.Period, want.Plan.Period)
	}
	got.Attributes, got.OrderAttributes, got.Plan.Period, want.Plan.Period = nil, nil, nil, nil
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Errorf("state\n got %s\nwant %s", g, w)
	}
	// A deleted subscription refuses everything.
	for _, ep := range []string{"renew", "update", "stop", "activate", "delete", "resource_validation", "usage", "consumption"} {
		run(t, srv, []step{{name: ep + " after delete", path: "/subscription/" + ep + q, body: switchPlan, wantStatus: 422, wantBody: envelopeOf("subscription vs-000001 is deleted")}})
	}
}

func TestUnknownOrMissingExternalID(t *testing.T) {
	_, srv := newServer(t, Config{})
	for _, ep := range []string{"renew", "update", "stop", "activate", "delete", "resource_validation", "usage", "consumption"} {
		run(t, srv, []step{
			{name: ep + " unknown", path: "/subscription/" + ep + q, body: `{"external_id":"vs-404"}`, wantStatus: 422, wantBody: envelopeOf("subscription vs-404 not found")},
			{name: ep + " missing", path: "/subscription/" + ep + q, body: `{"plan":{"sku":"S"}}`, wantStatus: 400, wantBody: envelopeOf("missing required field external_id")},
			{name: ep + " null", path: "/subscription/" + ep + q, body: `{"external_id":null}`, wantStatus: 400, wantBody: envelopeOf("missing required field external_id")},
			{name: ep + " object", path: "/subscription/" + ep + q, body: `{"external_id":{}}`, wantStatus: 400, wantBody: envelopeOf("field external_id must be a string or an integer, got {}")},
			{name: ep + " malformed", path: "/subscription/" + ep + q, body: `{"external_id":`, wantStatus: 400, wantBody: envelopeOf("body is not valid JSON")},
		})
	}
}

func TestUsageAndConsumption(t *testing.T) {
	v, srv := newServer(t, Config{})
	run(t, srv, []step{{name: "create", path: "/subscription/create" + q, body: createBody(`1`, "S", 7), wantStatus: 201, wantBody: `{"id":"vs-000001"}`}})
	if _, err := v.SetUsage("vs-000001", map[string]int64{"users": 6}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.SetUsage("vs-000001", map[string]int64{"users": -1}); err == nil {
		t.Error("negative usage accepted")
	}
	if _, err := v.SetUsage("vs-9", map[string]int64{"users": 1}); err == nil {
		t.Error("usage of an unknown subscription accepted")
	}
	period := func(from, to string) string {
		return fmt.Sprintf(`{"external_id":"vs-000001","period":{"from":%q,"to":%q}}`, from, to)
	}
	run(t, srv, []step{
		{name: "usage set and default", path: "/subscription/usage" + q, body: `{"external_id":"vs-000001"}`, wantStatus: 200, wantBody: `{"resources":[{"key":"users","usage":6},{"key":"storage_gb","usage":5}]}`},
		{name: "validation against set usage", path: "/subscription/resource_validation" + q, body: `{"external_id":"vs-000001","plan":{"resources":[{"key":"users","quantity":5},{"key":"storage_gb","quantity":4}]}}`, wantStatus: 422, wantBody: envelopeOf("users: 5 is below the 6 in use; storage_gb: 4 is below the 5 in use")},
		{name: "one day", path: "/subscription/consumption" + q, body: period("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"), wantStatus: 200, wantBody: `{"resources":[{"key":"users","consumed":7},{"key":"storage_gb","consumed":10}]}`},
		{name: "empty period", path: "/subscription/consumption" + q, body: period("2026-01-01T00:00:00+02:00", "2026-01-01T00:00:00+02:00"), wantStatus: 200, wantBody: `{"resources":[{"key":"users","consumed":0},{"key":"storage_gb","consumed":0}]}`},
		{name: "no period", path: "/subscription/consumption" + q, body: `{"external_id":"vs-000001"}`, wantStatus: 400, wantBody: envelopeOf("missing required field period")},
		{name: "no period.to", path: "/subscription/consumption" + q, body: `{"external_id":"vs-000001","period":{"from":"2026-01-01T00:00:00Z"}}`, wantStatus: 400, wantBody: envelopeOf("missing required field period.to")},
		{name: "not RFC 3339", path: "/subscription/consumption" + q, body: period("2026-01-01", "2026-01-02T00:00:00Z"), wantStatus: 400, wantBody: envelopeOf(`field period.from must be an RFC 3339 time, got "2026-01-01"`)},
		{name: "backwards", path: "/subscription/consumption" + q, body: period("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"), wantStatus: 400, wantBody: envelopeOf("period.to (2026-01-01T00:00:00Z) is before period.from (2026-01-02T00:00:00Z)")},
	})
}

func TestOrderAttributes(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"default", Config{}, `{"order_attributes":[{"key":"domain","label":"Domain","type":"string","required":true,"values":[]}]}`},
		{"configured", Config{OrderAttributes: []OrderAttribute{{Key: "region", Label: "Region", Type: "string", Values: []string{"eu", "us"}}}},
			`{"order_attributes":[{"key":"region","label":"Region","type":"string","required":false,"values":["eu","us"]}]}`},
		{"none", Config{OrderAttributes: []OrderAttribute{}}, `{"order_attributes":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newServer(t, tt.cfg)
			run(t, srv, []step{{name: tt.name, path: "/order/attributes" + q, body: `{"reseller":{"id":1},"distributor":{"id":2},"attributes_for":"customer"}`, wantStatus: 200, wantBody: tt.want}})
		})
	}
}

func TestUsers(t *testing.T) {
	v, srv := newServer(t, Config{})
	create := `{"password":"S3cret!","email":"john.doe@example.com","first_name":"John","last_name":"Doe"}`
	run(t, srv, []step{
		{name: "create", path: "/user/create" + q, body: create, wantStatus: 201, wantBody: `{"id":"vu-000001"}`},
		{name: "create second", path: "/user/create" + q, body: create, wantStatus: 201, wantBody: `{"id":"vu-000002"}`},
		{name: "create without password", path: "/user/create" + q, body: `{"email":"a@b.c","first_name":"A","last_name":"B"}`, wantStatus: 400, wantBody: envelopeOf("missing required field password")},
		{name: "create without email", path: "/user/create" + q, body: `{"password":"p","first_name":"A","last_name":"B"}`, wantStatus: 400, wantBody: envelopeOf("missing required field email")},
		{name: "create without first_name", path: "/user/create" + q, body: `{"password":"p","email":"a@b.c","last_name":"B"}`, wantStatus: 400, wantBody: envelopeOf("missing required field first_name")},
		{name: "create with blank last_name", path: "/user/create" + q, body: `{"password":"p","email":"a@b.c","first_name":"A","last_name":" "}`, wantStatus: 400, wantBody: envelopeOf("missing required field last_name")},
		{name: "create with numeric email", path: "/user/create" + q, body: `{"password":"p","email":5,"first_name":"A","last_name":"B"}`, wantStatus: 400, wantBody: envelopeOf("field email must be a string, got JSON number")},
		{name: "update", path: "/user/update" + q, body: `{"id":"vu-000001","first_name":"Johnny","last_name":"Doe-Roe","extra":true}`, wantStatus: 200, wantBody: `{}`},
		{name: "update without last_name", path: "/user/update" + q, body: `{"id":"vu-000001","first_name":"J"}`, wantStatus: 400, wantBody: envelopeOf("missing required field last_name")},
		{name: "deactivate", path: "/user/deactivate" + q, body: `{"id":"vu-000001"}`, wantStatus: 200, wantBody: `{}`},
		{name: "deactivate again", path: "/user/deactivate" + q, body: `{"id":"vu-000001"}`, wantStatus: 200, wantBody: `{}`},
		{name: "activate", path: "/user/activate" + q, body: `{"id":"vu-000001"}`, wantStatus: 200, wantBody: `{}`},
		{name: "password reset", path: "/user/password_reset" + q, body: `{"id":"vu-000001","password":"N3w$Pass"}`, wantStatus: 200, wantBody: `{}`},
		{name: "password reset without password", path: "/user/password_reset" + q, body: `{"id":"vu-000001"}`, wantStatus: 400, wantBody: envelopeOf("missing required field password")},
		{name: "deactivate second", path: "/user/deactivate" + q, body: `{"id":"vu-000002"}`, wantStatus: 200, wantBody: `{}`},
		{name: "delete second", path: "/user/delete" + q, body: `{"id":"vu-000002"}`, wantStatus: 200, wantBody: `{}`},
	})
	for _, ep := range []string{"update", "delete", "activate", "deactivate", "password_reset"} {
		body := `{"id":"%s","first_name":"A","last_name":"B","password":"p"}`
		run(t, srv, []step{
			{name: ep + " unknown", path: "/user/" + ep + q, body: fmt.Sprintf(body, "vu-404"), wantStatus: 422, wantBody: envelopeOf("user vu-404 not found")},
			{name: ep + " deleted", path: "/user/" + ep + q, body: fmt.Sprintf(body, "vu-000002"), wantStatus: 422, wantBody: envelopeOf("user vu-000002 is deleted")},
			{name: ep + " without id", path: "/user/" + ep + q, body: `{}`, wantStatus: 400, wantBody: envelopeOf("missing required field id")},
		})
	}
	want := []User{
		{ID: "vu-000001", Email: "john.doe@example.com", FirstName: "Johnny", LastName: "Doe-Roe", APGUID: "g-1", ResellerID: "12", Status: StatusActive, PasswordResets: 1},
		{ID: "vu-000002", Email: "john.doe@example.com", FirstName: "John", LastName: "Doe", APGUID: "g-1", ResellerID: "12", Status: StatusDeleted},
	}
	if got := v.Users(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("users\n got %+v\nwant %+v", got, want)
	}
}
