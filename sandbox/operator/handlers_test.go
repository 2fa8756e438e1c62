package operator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox"
	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

func ptr[T any](v T) *T { return &v }

// TestEveryOperation calls every operation of openapi.yaml through the
// engine, checks each answer against the document (harness.do) and checks
// what reached the platform.
func TestEveryOperation(t *testing.T) {
	const ws = "/api/v1/workspaces/default"
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		want     int
		wantCall any // what the platform received; nil to skip the check
	}{
		{"healthz", "GET", "/healthz", "", 200, nil},
		{"readyz", "GET", "/readyz", "", 200, nil},
		{"openapi", "GET", "/openapi.yaml", "", 200, nil},

		{"list workspaces", "GET", "/api/v1/workspaces", "", 200, nil},
		{"create workspace", "POST", "/api/v1/workspaces", `{"name":"qa-1","seed":7,"vendor_url":"http://vendor.example"}`, 201,
			platform.CreateWorkspace{Name: "qa-1", Seed: 7, VendorURL: "http://vendor.example"}},
		{"create workspace, name only", "POST", "/api/v1/workspaces", `{"name":"qa-2"}`, 201, platform.CreateWorkspace{Name: "qa-2"}},
		{"create workspace with its own ap_guid", "POST", "/api/v1/workspaces", `{"name":"qa-3","ap_guid":"a1b2-c3"}`, 201, platform.CreateWorkspace{Name: "qa-3", APGUID: "a1b2-c3"}},
		{"create workspace with a bad ap_guid", "POST", "/api/v1/workspaces", `{"name":"qa-4","ap_guid":"a b"}`, 400, nil},
		{"create existing workspace", "POST", "/api/v1/workspaces", `{"name":"default"}`, 409, nil},
		{"get workspace", "GET", ws, "", 200, nil},
		{"get unknown workspace", "GET", "/api/v1/workspaces/nope", "", 404, nil},
		{"delete default workspace", "DELETE", ws, "", 409, nil},
		{"reset workspace", "POST", ws + "/reset", "", 200, nil},
		{"world", "GET", ws + "/world", "", 200, nil},

		{"get integration", "GET", ws + "/integration", "", 200, nil},
		{"put integration", "PUT", ws + "/integration",
			`{"mode":"manual","notification_email":"ops@vendor.example","api_path":"https://vendor.example/ap","allow_order_attributes":true,"allow_usage_url":true,"allow_consumption_url":true,"allow_resource_validation":true,"attributes_validation":true,"paths":{"subscription.renew":"/subscription/update"},"headers":{"X-Token":"t"},"timeout_ms":2500,"subscription_id_as_string":true,"omit_create_query":true}`,
			200, vendorapi.Settings{
				Mode: "manual", NotificationEmail: "ops@vendor.example", APIPath: "https://vendor.example/ap",
				AllowOrderAttributes: true, AllowUsageURL: true, AllowConsumptionURL: true, AllowResourceValidation: true, AttributesValidation: true,
				Paths: map[string]string{"subscription.renew": "/subscription/update"}, Headers: map[string]string{"X-Token": "t"},
				TimeoutMS: 2500, SubscriptionIDAsString: true, OmitCreateQuery: true,
			}},
		{"put integration, partial", "PUT", ws + "/integration", `{"api_path":"http://vendor.example"}`, 200,
			vendorapi.Settings{APIPath: "http://vendor.example"}},
		{"put integration the platform refuses", "PUT", ws + "/integration", `{"api_path":"vendor.example"}`, 400, nil},
		{"check integration", "POST", ws + "/integration/check", "", 200, nil},

		{"list distributors", "GET", ws + "/distributors", "", 200, nil},
		{"get distributor", "GET", ws + "/distributors/2", "", 200, int64(2)},
		{"get unknown distributor", "GET", ws + "/distributors/999", "", 404, nil},
		{"list resellers", "GET", ws + "/resellers", "", 200, nil},
		{"get reseller", "GET", ws + "/resellers/3", "", 200, int64(3)},
		{"list tenants", "GET", ws + "/tenants", "", 200, nil},
		{"get tenant", "GET", ws + "/tenants/4", "", 200, int64(4)},
		{"list users", "GET", ws + "/users", "", 200, nil},
		{"get user", "GET", ws + "/users/6", "", 200, int64(6)},
		{"create user", "POST", ws + "/users", `{"tenant_id":4,"email":"kim@example.com","first_name":"Kim","last_name":"Park","role":"admin","password":"Secret-123"}`, 201,
			platform.CreateUserRequest{TenantID: 4, Email: "kim@example.com", FirstName: "Kim", LastName: "Park", Role: "admin", Password: "Secret-123"}},
		{"create user, minimal", "POST", ws + "/users", `{"tenant_id":4,"email":"kim@example.com","first_name":"Kim","last_name":"Park"}`, 201,
			platform.CreateUserRequest{TenantID: 4, Email: "kim@example.com", FirstName: "Kim", LastName: "Park"}},
		{"create user with an unknown role", "POST", ws + "/users", `{"tenant_id":4,"email":"k@example.com","first_name":"K","last_name":"P","role":"boss"}`, 400, nil},
		{"create user with a short password", "POST", ws + "/users", `{"tenant_id":4,"email":"k@example.com","first_name":"K","last_name":"P","password":"short"}`, 400, nil},
		{"update user", "PATCH", ws + "/users/5", `{"first_name":"Jon"}`, 200, platform.UserPatch{FirstName: ptr("Jon")}},
		{"update user with nothing", "PATCH", ws + "/users/5", `{}`, 400, nil},
		{"delete user", "DELETE", ws + "/users/6", "", 200, userCall{Op: "delete", ID: 6}},
		{"attach user", "POST", ws + "/users/6/attach", `{"password":"Secret-123"}`, 200, userCall{Op: "attach", ID: 6, Password: "Secret-123"}},
		{"attach user, generated password", "POST", ws + "/users/6/attach", "", 200, userCall{Op: "attach", ID: 6}},
		{"activate user", "POST", ws + "/users/6/activate", "", 200, userCall{Op: "activate", ID: 6}},
		{"deactivate user", "POST", ws + "/users/5/deactivate", "", 200, userCall{Op: "deactivate", ID: 5}},
		{"reset password", "POST", ws + "/users/5/reset-password", `{}`, 200, userCall{Op: "reset-password", ID: 5}},
		{"reset password to a given one", "POST", ws + "/users/5/reset-password", `{"password":"N3w$Pass!"}`, 200, userCall{Op: "reset-password", ID: 5, Password: "N3w$Pass!"}},
		{"reset password of an unknown user", "POST", ws + "/users/999/reset-password", "", 404, nil},
		{"list plans", "GET", ws + "/plans", "", 200, nil},
		{"get plan", "GET", ws + "/plans/12", "", 200, int64(12)},
		{"list orders", "GET", ws + "/orders", "", 200, int64(0)},
		{"list orders of a subscription", "GET", ws + "/orders?subscription_id=15", "", 200, int64(15)},
		{"get order", "GET", ws + "/orders/17", "", 200, int64(17)},

		{"list subscriptions", "GET", ws + "/subscriptions", "", 200, platform.SubscriptionFilter{}},
		{"list subscriptions, filtered", "GET", ws + "/subscriptions?tenant_id=4&plan_id=12&status=installation_failed", "", 200,
			platform.SubscriptionFilter{TenantID: 4, PlanID: 12, Status: world.StatusInstallationFailed}},
		{"get subscription", "GET", ws + "/subscriptions/14", "", 200, int64(14)},
		{"get failed subscription", "GET", ws + "/subscriptions/15", "", 200, int64(15)},
		{"get unknown subscription", "GET", ws + "/subscriptions/999", "", 404, nil},
		{"place order", "POST", ws + "/subscriptions",
			`{"tenant_id":4,"plan_id":8,"period_id":9,"resources":{"user_licenses":60},"attributes":{"domain":"john.example"},"name":"Backup","auto_renew":false}`,
			201, platform.OrderRequest{
				TenantID: 4, PlanID: 8, PeriodID: 9, Resources: map[string]int64{"user_licenses": 60},
				Attributes: map[string]string{"domain": "john.example"}, Name: "Backup", AutoRenew: ptr(false),
			}},
		{"place minimal order", "POST", ws + "/subscriptions", `{"tenant_id":4,"plan_id":8}`, 201, platform.OrderRequest{TenantID: 4, PlanID: 8}},
		{"place order for an unknown tenant", "POST", ws + "/subscriptions", `{"tenant_id":999,"plan_id":8}`, 400, nil},
		{"patch subscription", "PATCH", ws + "/subscriptions/14", `{"name":"Renamed","auto_renew":false,"auto_renew_locked":true}`, 200,
			platform.SubscriptionPatch{Name: ptr("Renamed"), AutoRenew: ptr(false), AutoRenewLocked: ptr(true)}},
		{"renew", "POST", ws + "/subscriptions/14/renew", "", 200, platform.RenewRequest{}},
		{"renew with a period and quantities", "POST", ws + "/subscriptions/14/renew", `{"period_id":9,"resources":{"user_licenses":70}}`, 200,
			platform.RenewRequest{PeriodID: 9, Resources: map[string]int64{"user_licenses": 70}}},
		{"change resources", "POST", ws + "/subscriptions/14/change-resources", `{"resources":{"user_licenses":0}}`, 200,
			map[string]int64{"user_licenses": 0}},
		{"switch plan", "POST", ws + "/subscriptions/14/switch-plan", `{"plan_id":12}`, 200, platform.SwitchRequest{PlanID: 12}},
		{"switch plan with period and quantities", "POST", ws + "/subscriptions/14/switch-plan", `{"plan_id":12,"period_id":13,"resources":{}}`, 200,
			platform.SwitchRequest{PlanID: 12, PeriodID: 13, Resources: map[string]int64{}}},
		{"stop", "POST", ws + "/subscriptions/14/stop", "", 200, int64(14)},
		{"activate an active subscription", "POST", ws + "/subscriptions/14/activate", "", 409, int64(14)},
		{"delete", "POST", ws + "/subscriptions/14/delete", "", 200, int64(14)},
		{"retry", "POST", ws + "/subscriptions/15/retry", "", 200, int64(15)},
		{"retry unknown", "POST", ws + "/subscriptions/999/retry", "", 404, nil},
		{"pull usage", "POST", ws + "/subscriptions/14/usage", "", 200, int64(14)},
		{"pull consumption", "POST", ws + "/subscriptions/14/consumption", "", 200, platform.ConsumptionRequest{}},
		{"pull consumption of a period", "POST", ws + "/subscriptions/14/consumption", `{"from":"2025-03-01T09:30:00Z","to":"2025-04-01T00:00:00Z"}`, 200,
			platform.ConsumptionRequest{From: ptr(time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)), To: ptr(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC))}},
		{"pull consumption, bad time", "POST", ws + "/subscriptions/14/consumption", `{"from":"yesterday"}`, 400, nil},
		{"pull consumption of a plan that is not pay-as-you-go", "POST", ws + "/subscriptions/15/consumption", `{}`, 409, nil},
		{"order attributes", "POST", ws + "/order-attributes", `{"tenant_id":4,"plan_id":8}`, 200, platform.OrderAttributesRequest{TenantID: 4, PlanID: 8}},
		{"order attributes without a plan", "POST", ws + "/order-attributes", `{"tenant_id":4}`, 400, nil},
		{"order attributes of an unknown tenant", "POST", ws + "/order-attributes", `{"tenant_id":999,"plan_id":8}`, 400, nil},

		{"run a built-in scenario", "POST", ws + "/scenario-runs", `{"name":"integration-check"}`, 201, nil},
		{"run the conformance suite", "POST", ws + "/scenario-runs", `{"name":"conformance","budget_ms":500}`, 201, nil},
		{"run an inline scenario that does not parse", "POST", ws + "/scenario-runs", `{"source":"version: 1\nname: x\nsteps:\n  - renw: {}"}`, 400, nil},
		{"run a scenario named and inline", "POST", ws + "/scenario-runs", `{"name":"a","source":"b"}`, 400, nil},
		{"run nothing", "POST", ws + "/scenario-runs", `{}`, 400, nil},
		{"run with an unknown field", "POST", ws + "/scenario-runs", `{"scenario":"a"}`, 400, nil},
		{"get a scenario run", "GET", ws + "/scenario-runs/1", "", 200, nil},
		{"get an unknown scenario run", "GET", ws + "/scenario-runs/9", "", 404, nil},

		{"get clock", "GET", ws + "/clock", "", 200, nil},
		{"advance clock by", "POST", ws + "/clock/advance", `{"by":"1mo"}`, 200, platform.AdvanceRequest{By: "1mo"}},
		{"advance clock to", "POST", ws + "/clock/advance", `{"to":"2026-03-01T00:00:00Z"}`, 200,
			platform.AdvanceRequest{To: ptr(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}},
		{"advance clock with an unknown field", "POST", ws + "/clock/advance", `{"days":3}`, 400, nil},
		{"advance clock with nothing", "POST", ws + "/clock/advance", `{}`, 400, nil},
		{"complete a create", "POST", ws + "/subscriptions/15/complete", `{"external_id":"ext-15","attributes":{"region":"eu"}}`, 200,
			platform.CompleteRequest{ExternalID: "ext-15", Attributes: map[string]string{"region": "eu"}}},
		{"complete without a body", "POST", ws + "/subscriptions/14/complete", "", 200, platform.CompleteRequest{}},
		{"complete with an unknown field", "POST", ws + "/subscriptions/14/complete", `{"id":"x"}`, 400, nil},
		{"fail", "POST", ws + "/subscriptions/14/fail", `{"message":"no capacity"}`, 200, "no capacity"},
		{"fail without a message", "POST", ws + "/subscriptions/14/fail", `{}`, 400, nil},
		{"approve", "POST", ws + "/subscriptions/14/approve", "", 200, int64(14)},
		{"decline", "POST", ws + "/subscriptions/14/decline", "", 200, int64(14)},
		{"decline a subscription not waiting", "POST", ws + "/subscriptions/15/decline", "", 409, int64(15)},
		{"list outbox", "GET", ws + "/outbox", "", 200, platform.OutboxFilter{Limit: defaultOutboxLimit + 1}},
		{"list outbox, filtered", "GET", ws + "/outbox?operation=renew&subscription_id=14&user_id=5&after_id=1&limit=2", "", 200,
			platform.OutboxFilter{Operation: "renew", SubscriptionID: 14, UserID: 5, AfterID: 1, Limit: 3}},
		{"list outbox, bad limit", "GET", ws + "/outbox?limit=0", "", 400, nil},

		{"list exchanges", "GET", ws + "/exchanges", "", 200, journal.Filter{Limit: defaultExchangeLimit + 1}},
		{"list exchanges, filtered", "GET", ws + "/exchanges?event=subscription.renew&subscription_id=14&order_id=18&user_id=5&outcome=refused&after_id=1&limit=10", "", 200,
			journal.Filter{Event: "subscription.renew", SubscriptionID: 14, OrderID: 18, UserID: 5, Outcome: "refused", AfterID: 1, Limit: 11}},
		{"get exchange", "GET", ws + "/exchanges/2", "", 200, int64(2)},
		{"get exchange with a response", "GET", ws + "/exchanges/3", "", 200, int64(3)},
		{"list exchanges, every filter", "GET", ws + "/exchanges?status=422&action=renew&run_id=r1&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z" +
			"&virtual_from=2025-02-01T00:00:00Z&virtual_to=2025-12-01T00:00:00Z&until_id=9", "", 200,
			journal.Filter{Status: 422, Action: "renew", RunID: "r1", From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
				VirtualFrom: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), VirtualTo: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), UntilID: 9, Limit: defaultExchangeLimit + 1}},
		{"list exchanges without an answer", "GET", ws + "/exchanges?status=0", "", 200, journal.Filter{Status: -1, Limit: defaultExchangeLimit + 1}},
		{"export jsonl", "GET", ws + "/exchanges/export?format=jsonl", "", 200, journal.Filter{Limit: exportPage}},
		{"export har", "GET", ws + "/exchanges/export?format=har&event=subscription.renew", "", 200, journal.Filter{Event: "subscription.renew", Limit: maxHAR + 1}},
		{"replay", "POST", ws + "/replays", `{"vendor_url":"http://127.0.0.1:9091","ignore":["/note"],"filter":{"event":"subscription.renew"},"timeout_ms":500}`, 200,
			platform.ReplayRequest{VendorURL: "http://127.0.0.1:9091", Ignore: []string{"/note"}, Filter: journal.Filter{Event: "subscription.renew"}, Timeout: 500 * time.Millisecond}},
		{"replay everything", "POST", ws + "/replays", `{}`, 200, platform.ReplayRequest{}},
		{"replay with a bad ignore rule", "POST", ws + "/replays", `{"ignore":["id"]}`, 400, nil},
	}

	h := newHarness(t)
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			got, _, raw := h.do(tt.method, tt.path, tt.body)
			if got != tt.want {
				t.Errorf("%s %s: status %d, want %d\n%s", tt.method, tt.path, got, tt.want, raw)
			}
			if tt.wantCall != nil {
				if call := h.fake.lastCall(); !reflect.DeepEqual(call, tt.wantCall) {
					t.Errorf("%s %s: the platform got %#v, want %#v", tt.method, tt.path, call, tt.wantCall)
				}
			}
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if route, _, err := h.rv.spec.router.FindRoute(req); err == nil {
				covered[route.Operation.OperationID] = true
			}
		})
	}
	h.t = t

	// The import takes JSON Lines, not JSON.
	var jsonl bytes.Buffer
	if err := journal.WriteJSONL(&jsonl, fixtureExchanges()); err != nil {
		t.Fatal(err)
	}
	if code, _, raw := h.doType("POST", ws+"/exchanges/import", "application/x-ndjson", jsonl.String()); code != 200 {
		t.Errorf("import: %d %s", code, raw)
	} else if xs, ok := h.fake.lastCall().([]journal.Exchange); !ok || !reflect.DeepEqual(xs, fixtureExchanges()) {
		t.Errorf("import: the platform got %#v, want the fixture's exchanges", h.fake.lastCall())
	}
	covered["importExchanges"] = true

	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !covered[op.OperationID] {
				t.Errorf("%s %s (%s) is not exercised by this test", method, path, op.OperationID)
			}
		}
	}
}

// TestGeneratedWorlds: whole generated worlds, across seeds, answer in
// the documented shape.
func TestGeneratedWorlds(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 42} {
		h := newHarness(t)
		h.fake.w = world.Generate(seed, t0())
		for _, path := range []string{"/world", "/subscriptions", "/plans", "/orders", "/tenants", "/users", "/resellers", "/distributors"} {
			if code, _, raw := h.do("GET", "/api/v1/workspaces/default"+path, ""); code != 200 {
				t.Errorf("seed %d: GET %s: %d %s", seed, path, code, raw)
			}
		}
	}
}

// TestOpenAPIServed: /openapi.yaml is the embedded document.
func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t)
	code, header, raw := h.do("GET", "/openapi.yaml", "")
	if code != 200 || header.Get("Content-Type") != "text/yaml" || string(raw) != string(apsandbox.OpenAPI) {
		t.Errorf("GET /openapi.yaml: %d %q, %d bytes; want 200 text/yaml and the embedded document", code, header.Get("Content-Type"), len(raw))
	}
}

// TestReadyz: /readyz follows the readiness function.
func TestReadyz(t *testing.T) {
	for _, tt := range []struct {
		ready      bool
		wantStatus int
		wantBody   string
	}{
		{true, 200, "ok"},
		{false, 503, "unavailable"},
	} {
		h := newHarness(t, WithReadiness(func() bool { return tt.ready }))
		code, _, raw := h.do("GET", "/readyz", "")
		var got struct{ Status string }
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if code != tt.wantStatus || got.Status != tt.wantBody {
			t.Errorf("ready=%v: /readyz %d %q, want %d %q", tt.ready, code, got.Status, tt.wantStatus, tt.wantBody)
		}
		if code, _, _ := h.do("GET", "/healthz", ""); code != 200 {
			t.Errorf("ready=%v: /healthz %d, want 200", tt.ready, code)
		}
	}
}

// TestExchangePaging: limit and after_id page forward; next_cursor says
// where the next page starts and is empty on the last.
func TestExchangePaging(t *testing.T) {
	h := newHarness(t)
	type page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	tests := []struct {
		query      string
		wantIDs    []int64
		wantCursor string
	}{
		{"?limit=2", []int64{1, 2}, "2"},
		{"?limit=2&after_id=2", []int64{3}, ""},
		{"?limit=3", []int64{1, 2, 3}, ""},
		{"?limit=1000&after_id=3", nil, ""},
		{"?outcome=refused", []int64{3}, ""},
	}
	for _, tt := range tests {
		code, _, raw := h.do("GET", "/api/v1/workspaces/default/exchanges"+tt.query, "")
		var p page
		if err := json.Unmarshal(raw, &p); err != nil || code != 200 {
			t.Fatalf("%s: %d %s %v", tt.query, code, raw, err)
		}
		var ids []int64
		for _, x := range p.Items {
			ids = append(ids, x.ID)
		}
		if !slices.Equal(ids, tt.wantIDs) || p.NextCursor != tt.wantCursor {
			t.Errorf("%s: ids %v cursor %q, want %v %q", tt.query, ids, p.NextCursor, tt.wantIDs, tt.wantCursor)
		}
	}
}

// TestResponseValidatorCatchesDrift: the validator the tests rely on
// refuses answers that differ from the document.
func TestResponseValidatorCatchesDrift(t *testing.T) {
	rv, err := NewResponseValidator()
	if err != nil {
		t.Fatal(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		method string
		path   string
		status int
		body   string
		ok     bool
	}{
		{"workspace list", "GET", "/api/v1/workspaces", 200, `{"items":[]}`, true},
		{"list without items", "GET", "/api/v1/workspaces", 200, `{}`, false},
		{"string id", "GET", "/api/v1/workspaces/default/plans/1", 200, `{"id":"1"}`, false},
		{"error as documented", "GET", "/api/v1/workspaces/default/plans/1", 404, `{"error":{"code":"not_found","message":"plan 1 not found"}}`, true},
		{"error with an unknown code", "GET", "/api/v1/workspaces/default/plans/1", 404, `{"error":{"code":"missing","message":"x"}}`, false},
		{"error in another shape", "GET", "/api/v1/workspaces/default/plans/1", 404, `{"msg":"not found"}`, false},
		{"unknown route, error shape", "GET", "/api/v1/nothing", 404, `{"error":{"code":"not_found","message":"no route"}}`, true},
		{"unknown route answered 200", "GET", "/api/v1/nothing", 200, `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://sandbox.example"+tt.path, nil)
			err := rv.Validate(req, tt.status, jsonHeader, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("Validate(%s %s → %d %s) = %v, want ok=%v", tt.method, tt.path, tt.status, tt.body, err, tt.ok)
			}
		})
	}
}
