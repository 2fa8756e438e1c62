package sandbox_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/operator"
)

const opsMail = "ops@vendor.example"

type mail struct {
	ID             int64     `json:"id"`
	To             string    `json:"to"`
	Subject        string    `json:"subject"`
	Body           string    `json:"body"`
	Operation      string    `json:"operation"`
	SubscriptionID int64     `json:"subscription_id"`
	UserID         int64     `json:"user_id"`
	CreatedAt      time.Time `json:"created_at"`
}

type mailList struct {
	Items      []mail `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// pendingSub is a subscription with the operation it waits for.
type pendingSub struct {
	subscription
	Pending *struct {
		Kind       string `json:"kind"`
		PrevStatus string `json:"prev_status"`
		Manual     bool   `json:"manual"`
	} `json:"pending"`
}

// setMode switches the default workspace's provisioning mode, keeping
// every other setting.
func (e *env) setMode(mode, email string) {
	e.t.Helper()
	var set map[string]any
	e.do("GET", e.ws("/integration"), nil, &set)
	set["mode"], set["notification_email"] = mode, email
	if code := e.do("PUT", e.ws("/integration"), set, nil); code != 200 {
		e.t.Fatalf("set mode %s: %d", mode, code)
	}
}

func (e *env) outbox(query string) mailList {
	e.t.Helper()
	var l mailList
	if code := e.do("GET", e.ws("/outbox"+query), nil, &l); code != 200 {
		e.t.Fatalf("outbox%s: %d", query, code)
	}
	return l
}

// manualOp posts a subscription operation and wants the status code.
func (e *env) manualOp(path string, body any, want int) opResult {
	e.t.Helper()
	var r opResult
	if code := e.do("POST", e.ws(path), body, &r); code != want {
		e.t.Fatalf("POST %s: %d, want %d (%+v)", path, code, want, r)
	}
	return r
}

func (e *env) pending(id int64) pendingSub {
	e.t.Helper()
	var s pendingSub
	if code := e.do("GET", e.ws(fmt.Sprintf("/subscriptions/%d", id)), nil, &s); code != 200 {
		e.t.Fatalf("get subscription %d: %d", id, code)
	}
	return s
}

// termTypes are the stop and delete types of each plan's service term,
// from the world (plans carry only the term's id).
func (e *env) termTypes() map[int64][2]string {
	e.t.Helper()
	var w struct {
		Plans []struct {
			ID            int64 `json:"id"`
			ServiceTermID int64 `json:"service_term_id"`
		} `json:"plans"`
		ServiceTerms []struct {
			ID         int64  `json:"id"`
			StopType   string `json:"stop_type"`
			DeleteType string `json:"delete_type"`
		} `json:"service_terms"`
	}
	e.do("GET", e.ws("/world"), nil, &w)
	terms := map[int64][2]string{}
	for _, st := range w.ServiceTerms {
		terms[st.ID] = [2]string{st.StopType, st.DeleteType}
	}
	out := map[int64][2]string{}
	for _, p := range w.Plans {
		out[p.ID] = terms[p.ServiceTermID]
	}
	return out
}

// termPlan finds a recurring monthly plan whose service term stops and
// deletes as asked.
func (e *env) termPlan(stopType, deleteType string) plan {
	e.t.Helper()
	types := e.termTypes()
	return e.findPlan(func(p plan) bool { return types[p.ID] == [2]string{stopType, deleteType} && recurringMonthly(p) })
}

func noAbility(a map[string]bool) bool {
	for _, v := range a {
		if v {
			return false
		}
	}
	return true
}

// TestManualModeLifecycle: in manual mode every subscription operation
// makes no call, mails the notification address and waits in its
// transitional status until the operator completes or fails it, which
// lands as the vendor's answer would. The same operations on the same
// seed give the same world and the same outbox.
func TestManualModeLifecycle(t *testing.T) {
	run := func(e *env) (world string, outbox mailList) {
		e.setMode("manual", opsMail)
		pl := e.termPlan("automatic", "automatic")
		tenant := e.firstTenant()
		before := len(e.vendor.Requests())

		r := e.order(map[string]any{"tenant_id": tenant, "plan_id": pl.ID})
		id := r.Subscription.ID
		if got := (struct {
			status, order string
			xs            int
			idle          bool
		}{r.Subscription.Status, r.Order.Status, len(r.ExchangeIDs), noAbility(r.Subscription.Ability)}); got.status != "installing" || got.order != "provisioning" || got.xs != 0 || !got.idle {
			t.Fatalf("order in manual mode: got %+v, want installing, provisioning, no exchange, no ability", got)
		}
		if p := e.pending(id).Pending; p == nil || !p.Manual || p.Kind != "create" {
			t.Errorf("pending after order: %+v, want a manual create", p)
		}
		e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/renew", id)), nil, http.StatusConflict, "conflict", "")
		e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/complete", id)), map[string]any{}, http.StatusBadRequest, "invalid_argument", "external_id")
		e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/complete", id)), map[string]any{"external_id": "x", "attributes": map[string]string{"": "v"}}, http.StatusBadRequest, "invalid_argument", "attributes")
		if s := e.sub(id); s.Status != "installing" {
			t.Errorf("a refused complete changed the status to %s", s.Status)
		}
		r = e.manualOp(fmt.Sprintf("/subscriptions/%d/complete", id), map[string]any{"external_id": "vendor-42", "attributes": map[string]string{"region": "eu"}}, 200)
		if r.Subscription.Status != "active" || r.Subscription.ExternalID != "vendor-42" || r.Order.Status != "completed" || len(r.ExchangeIDs) != 0 {
			t.Errorf("complete: %+v %+v", r.Subscription, r.Order)
		}
		e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/complete", id)), nil, http.StatusConflict, "conflict", "")
		e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/fail", id)), map[string]any{"message": "x"}, http.StatusConflict, "conflict", "")

		res := pl.Resources[0]
		steps := []struct {
			name, path   string
			body         any
			transitional string
			mailOp       string
			finish       string // complete or fail
			want         string
		}{
			{"renew, refused", "renew", nil, "renewing", "renew", "fail", "renewing_failed"},
			{"retry the renewal", "retry", nil, "renewing", "renew", "complete", "active"},
			{"change resources", "change-resources", map[string]any{"resources": map[string]int64{res.Key: max(res.Included, res.Min) + 1}}, "updating", "change_resources", "complete", "active"},
			{"stop", "stop", nil, "stopping", "stop", "complete", "stopped"},
			{"activate", "activate", nil, "activating", "activate", "complete", "active"},
			{"delete", "delete", nil, "deleting", "delete", "complete", "deleted"},
		}
		for _, st := range steps {
			r := e.manualOp(fmt.Sprintf("/subscriptions/%d/%s", id, st.path), st.body, 200)
			if r.Subscription.Status != st.transitional || len(r.ExchangeIDs) != 0 {
				t.Errorf("%s: status %s, %d exchanges; want %s and none", st.name, r.Subscription.Status, len(r.ExchangeIDs), st.transitional)
			}
			l := e.outbox(fmt.Sprintf("?subscription_id=%d", id)).Items
			if last := l[len(l)-1]; last.Operation != st.mailOp || last.To != opsMail || last.SubscriptionID != id {
				t.Errorf("%s: last mail %+v, want %s to %s", st.name, last, st.mailOp, opsMail)
			}
			body := map[string]any{}
			if st.finish == "fail" {
				e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/fail", id)), map[string]any{"message": "  "}, http.StatusBadRequest, "invalid_argument", "message")
				e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/complete", id)), map[string]any{"external_id": "again"}, http.StatusBadRequest, "invalid_argument", "external_id")
				body["message"] = "no capacity in region eu"
			}
			r = e.manualOp(fmt.Sprintf("/subscriptions/%d/%s", id, st.finish), body, 200)
			if r.Subscription.Status != st.want {
				t.Errorf("%s: %s → %s, want %s", st.name, st.finish, r.Subscription.Status, st.want)
			}
			if st.finish == "fail" && (r.Subscription.LastError != "no capacity in region eu" || r.Order.Status != "provisioning_failed") {
				t.Errorf("%s: last_error %q, order %+v", st.name, r.Subscription.LastError, r.Order)
			}
		}
		if n := len(e.vendor.Requests()) - before; n != 0 {
			t.Errorf("the vendor got %d requests in manual mode, want none", n)
		}
		if xs := e.exchanges(""); len(xs) != 0 {
			t.Errorf("%d exchanges recorded in manual mode, want none", len(xs))
		}
		return e.world(), e.outbox("")
	}
	w1, o1 := run(newEnv(t, 1))
	w2, o2 := run(newEnv(t, 1))
	var ops []string
	for _, m := range o1.Items {
		ops = append(ops, m.Operation)
	}
	if got, want := strings.Join(ops, " "), "create renew renew change_resources stop activate delete"; got != want {
		t.Errorf("outbox operations: got %s, want %s", got, want)
	}
	if w1 != w2 || !reflect.DeepEqual(o1, o2) {
		t.Errorf("the same seed and operations gave different worlds or outboxes")
	}
}

// TestManualModeSwitch: manual mode needs a notification address; a bad
// switch changes nothing.
func TestManualModeSwitch(t *testing.T) {
	e := newEnv(t, 1)
	tests := []struct {
		name      string
		body      map[string]any
		wantCode  int
		wantField string
		wantMode  string
	}{
		{"manual without e-mail", map[string]any{"mode": "manual"}, 400, "notification_email", "automatic"},
		{"manual with an empty e-mail", map[string]any{"mode": "manual", "notification_email": ""}, 400, "notification_email", "automatic"},
		{"manual with a bad e-mail", map[string]any{"mode": "manual", "notification_email": "ops\u200b@vendor.example"}, 400, "notification_email", "automatic"},
		{"manual", map[string]any{"mode": "manual", "notification_email": opsMail}, 200, "", "manual"},
		{"back to automatic", map[string]any{"mode": "automatic", "api_path": e.vendorURL}, 200, "", "automatic"},
	}
	for _, tt := range tests {
		var a apiError
		code := e.do("PUT", e.ws("/integration"), tt.body, &a)
		var set struct{ Mode string }
		e.do("GET", e.ws("/integration"), nil, &set)
		field := ""
		if len(a.Error.Details) > 0 {
			field = a.Error.Details[0].Field
		}
		if code != tt.wantCode || field != tt.wantField || set.Mode != tt.wantMode {
			t.Errorf("%s: got %d %q mode %s, want %d %q mode %s", tt.name, code, field, set.Mode, tt.wantCode, tt.wantField, tt.wantMode)
		}
	}
	// Back in automatic mode the vendor is called again.
	r := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID})
	if r.Subscription.Status != "active" || len(r.ExchangeIDs) != 1 {
		t.Errorf("order after switching back: %+v", r)
	}
}

// TestManualApproval: a stop or delete under a service term that says
// manual waits in waiting_for_manual_approve with no call and nothing else
// allowed; approve makes the call as an automatic one would, decline puts
// the subscription back.
func TestManualApproval(t *testing.T) {
	tests := []struct {
		name     string
		op       string
		from     string // "active" or "stopped"
		decision string
		fault    bool
		want     string
		wantPath string // the vendor call made, "" for none
	}{
		{"stop, approved", "stop", "active", "approve", false, "stopped", "/subscription/stop"},
		{"stop, declined", "stop", "active", "decline", false, "active", ""},
		{"stop, approved, refused by the vendor", "stop", "active", "approve", true, "stopping_failed", "/subscription/stop"},
		{"delete, approved", "delete", "active", "approve", false, "deleted", "/subscription/delete"},
		{"delete, declined", "delete", "active", "decline", false, "active", ""},
		{"delete of a stopped one, declined", "delete", "stopped", "decline", false, "stopped", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 1)
			pl := e.termPlan("manual", "manual")
			id := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": pl.ID}).Subscription.ID
			if tt.from == "stopped" {
				e.manualOp(fmt.Sprintf("/subscriptions/%d/stop", id), nil, 200)
				if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/approve", id), nil, 200); r.Subscription.Status != "stopped" {
					t.Fatalf("stop first: %s", r.Subscription.Status)
				}
			}
			e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/approve", id)), nil, http.StatusConflict, "conflict", "")
			e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/decline", id)), nil, http.StatusConflict, "conflict", "")
			before := len(e.vendor.Requests())

			r := e.manualOp(fmt.Sprintf("/subscriptions/%d/%s", id, tt.op), nil, 200)
			if r.Subscription.Status != "waiting_for_manual_approve" || len(r.ExchangeIDs) != 0 || !noAbility(r.Subscription.Ability) || len(r.Warnings) == 0 {
				t.Fatalf("%s: %+v, want waiting, no exchange, no ability, a warning", tt.op, r)
			}
			if p := e.pending(id).Pending; p == nil || p.Kind != tt.op || p.PrevStatus != tt.from {
				t.Errorf("pending while waiting: %+v", p)
			}
			for _, other := range []string{"renew", "stop", "activate", "delete", "retry", "complete"} {
				e.refused("POST", e.ws(fmt.Sprintf("/subscriptions/%d/%s", id, other)), nil, http.StatusConflict, "conflict", "")
			}
			e.refused("PATCH", e.ws(fmt.Sprintf("/subscriptions/%d", id)), map[string]any{"auto_renew": false}, http.StatusConflict, "conflict", "")
			if n := len(e.vendor.Requests()) - before; n != 0 {
				t.Fatalf("%d vendor calls while waiting for approval", n)
			}
			if tt.fault {
				if err := e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/" + tt.op, Status: 422, Message: "has running backups"}); err != nil {
					t.Fatal(err)
				}
			}
			r = e.manualOp(fmt.Sprintf("/subscriptions/%d/%s", id, tt.decision), nil, 200)
			var paths []string
			for _, rq := range e.vendor.Requests()[before:] {
				paths = append(paths, rq.Path)
			}
			wantPaths := []string{}
			if tt.wantPath != "" {
				wantPaths = []string{tt.wantPath}
			}
			if r.Subscription.Status != tt.want || fmt.Sprint(paths) != fmt.Sprint(wantPaths) || len(r.ExchangeIDs) != len(wantPaths) {
				t.Errorf("%s: status %s, calls %v, exchanges %v; want %s, %v", tt.decision, r.Subscription.Status, paths, r.ExchangeIDs, tt.want, wantPaths)
			}
			if tt.decision == "decline" && e.pending(id).Pending != nil {
				t.Errorf("decline left a pending operation")
			}
			if tt.fault {
				// Retrying the approved stop does not ask again.
				e.vendor.ClearFaults()
				if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/retry", id), nil, 200); r.Subscription.Status != "stopped" {
					t.Errorf("retry after the refusal: %s, want stopped", r.Subscription.Status)
				}
			}
		})
	}
}

// TestManualApprovalKeepsFailedOperation: a stop parked from a failed
// renewal and declined leaves the renewal retryable.
func TestManualApprovalKeepsFailedOperation(t *testing.T) {
	e := newEnv(t, 1)
	pl := e.termPlan("manual", "manual")
	id := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": pl.ID}).Subscription.ID
	if err := e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "card declined"}); err != nil {
		t.Fatal(err)
	}
	if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/renew", id), nil, 200); r.Subscription.Status != "renewing_failed" {
		t.Fatalf("renew: %s", r.Subscription.Status)
	}
	e.vendor.ClearFaults()
	e.manualOp(fmt.Sprintf("/subscriptions/%d/stop", id), nil, 200)
	r := e.manualOp(fmt.Sprintf("/subscriptions/%d/decline", id), nil, 200)
	if p := e.pending(id).Pending; r.Subscription.Status != "renewing_failed" || r.Subscription.LastError != "card declined" || p == nil || p.Kind != "renew" {
		t.Fatalf("declined: %s %q pending %+v", r.Subscription.Status, r.Subscription.LastError, p)
	}
	if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/retry", id), nil, 200); r.Subscription.Status != "active" {
		t.Errorf("retry of the renewal: %s", r.Subscription.Status)
	}
}

// TestManualApprovalInManualMode: an approved stop goes to the outbox
// like any other operation, and waits to be completed.
func TestManualApprovalInManualMode(t *testing.T) {
	e := newEnv(t, 1)
	pl := e.termPlan("manual", "manual")
	id := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": pl.ID}).Subscription.ID
	e.setMode("manual", opsMail)
	before := len(e.vendor.Requests())
	e.manualOp(fmt.Sprintf("/subscriptions/%d/stop", id), nil, 200)
	if l := e.outbox("").Items; len(l) != 0 {
		t.Errorf("waiting for approval mailed the vendor: %+v", l)
	}
	steps := []struct{ action, want, mailOps string }{
		{"approve", "stopping", "stop"},
		{"complete", "stopped", "stop"},
	}
	for _, st := range steps {
		r := e.manualOp(fmt.Sprintf("/subscriptions/%d/%s", id, st.action), nil, 200)
		var ops []string
		for _, m := range e.outbox("").Items {
			ops = append(ops, m.Operation)
		}
		if r.Subscription.Status != st.want || strings.Join(ops, " ") != st.mailOps {
			t.Errorf("%s: %s with mails %v, want %s with %s", st.action, r.Subscription.Status, ops, st.want, st.mailOps)
		}
	}
	if n := len(e.vendor.Requests()) - before; n != 0 {
		t.Errorf("%d vendor calls in manual mode", n)
	}
}

// TestManualModeUsers: user operations in manual mode apply at once and
// mail the vendor; attach, which only calls the vendor, is refused.
func TestManualModeUsers(t *testing.T) {
	e := newEnv(t, 1)
	e.setMode("manual", opsMail)
	before := len(e.vendor.Requests())
	created := e.userOp("POST", "/users", map[string]any{"tenant_id": e.firstTenant(), "email": "kim.park@example.com", "first_name": "Kim", "last_name": "Park"}, http.StatusCreated)
	u := created.User
	steps := []struct {
		name, method, path string
		body               any
		want               int
		mailOp             string
	}{
		{"rename", "PATCH", fmt.Sprintf("/users/%d", u.ID), map[string]any{"last_name": "Parker"}, 200, "user_update"},
		{"deactivate", "POST", fmt.Sprintf("/users/%d/deactivate", u.ID), nil, 200, "user_deactivate"},
		{"activate", "POST", fmt.Sprintf("/users/%d/activate", u.ID), nil, 200, "user_activate"},
		{"reset password", "POST", fmt.Sprintf("/users/%d/reset-password", u.ID), map[string]any{}, 200, "user_password_reset"},
		{"attach", "POST", fmt.Sprintf("/users/%d/attach", u.ID), nil, 409, ""},
		{"delete", "DELETE", fmt.Sprintf("/users/%d", u.ID), nil, 200, "user_delete"},
	}
	wantOps := []string{"user_create"}
	for _, st := range steps {
		if code := e.do(st.method, e.ws(st.path), st.body, nil); code != st.want {
			t.Errorf("%s: %d, want %d", st.name, code, st.want)
		}
		if st.mailOp != "" {
			wantOps = append(wantOps, st.mailOp)
		}
	}
	var ops []string
	for _, m := range e.outbox(fmt.Sprintf("?user_id=%d", u.ID)).Items {
		ops = append(ops, m.Operation)
		if strings.Contains(m.Body, created.Password) && created.Password != "" {
			t.Errorf("mail %d carries the password", m.ID)
		}
	}
	if strings.Join(ops, " ") != strings.Join(wantOps, " ") {
		t.Errorf("user mails: got %v, want %v", ops, wantOps)
	}
	var got user
	e.do("GET", e.ws(fmt.Sprintf("/users/%d", u.ID)), nil, &got)
	if got.Status != "deleted" || got.LastName != "Parker" || got.VendorID != "" {
		t.Errorf("user after the operations: %+v", got)
	}
	if n := len(e.vendor.Requests()) - before; n != 0 {
		t.Errorf("%d vendor calls in manual mode", n)
	}
}

// TestOutboxFiltersAndPaging: filters, forward paging with after_id and
// next_cursor, bad parameters, and the cap keeping the newest mails.
func TestOutboxFiltersAndPaging(t *testing.T) {
	e := newEnvWith(t, 1, func(c *sandbox.Config) { c.OutboxCap = 4 })
	e.setMode("manual", opsMail)
	pl := e.termPlan("automatic", "automatic")
	tenant := e.firstTenant()
	var ids []int64
	for range 3 {
		id := e.order(map[string]any{"tenant_id": tenant, "plan_id": pl.ID}).Subscription.ID
		e.manualOp(fmt.Sprintf("/subscriptions/%d/complete", id), map[string]any{"external_id": fmt.Sprint("v-", id)}, 200)
		ids = append(ids, id)
	}
	e.manualOp(fmt.Sprintf("/subscriptions/%d/renew", ids[0]), nil, 200)
	e.manualOp(fmt.Sprintf("/subscriptions/%d/stop", ids[1]), nil, 200)
	// Five mails, a cap of four: the first order's mail is gone.
	mailIDs := func(l mailList) string {
		var out []string
		for _, m := range l.Items {
			out = append(out, fmt.Sprint(m.ID))
		}
		return strings.Join(out, ",") + "|" + l.NextCursor
	}
	tests := []struct {
		query string
		want  string
	}{
		{"", "2,3,4,5|"},
		{"?operation=create", "2,3|"},
		{fmt.Sprintf("?subscription_id=%d", ids[0]), "4|"},
		{fmt.Sprintf("?subscription_id=%d&operation=stop", ids[1]), "5|"},
		{fmt.Sprintf("?subscription_id=%d&operation=create", ids[1]), "2|"},
		{"?limit=2", "2,3|3"},
		{"?limit=2&after_id=3", "4,5|"},
		{"?after_id=5", "|"},
		{"?operation=create&limit=1", "2|2"},
	}
	for _, tt := range tests {
		if got := mailIDs(e.outbox(tt.query)); got != tt.want {
			t.Errorf("outbox%s: got %s, want %s", tt.query, got, tt.want)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?subscription_id=0", "?after_id=-1", "?operation="} {
		e.refused("GET", e.ws("/outbox"+q), nil, http.StatusBadRequest, "invalid_argument", "")
	}
	var clock struct {
		Clock time.Time `json:"clock"`
	}
	e.do("GET", "/api/v1/workspaces/default", nil, &clock)
	for _, m := range e.outbox("").Items {
		if !m.CreatedAt.Equal(clock.Clock) || m.To != opsMail || m.Subject == "" || m.Body == "" {
			t.Errorf("mail %d: %+v (workspace clock %s)", m.ID, m, clock.Clock)
		}
	}
	// The outbox belongs to the world.
	e.do("POST", e.ws("/reset"), nil, nil)
	if got := mailIDs(e.outbox("")); got != "|" {
		t.Errorf("after reset: %s", got)
	}
}

// TestManualRestart: operations waiting for the operator (a manual
// create, a stop waiting for approval) and the outbox come back after a
// restart as they were, and can be finished there.
func TestManualRestart(t *testing.T) {
	v := examplevendor.New(examplevendor.Config{})
	vendorURL := serveOn(t, v.Handler())
	dir := t.TempDir()
	start := func() (*env, *sandbox.Server) {
		srv, err := sandbox.New(sandbox.Config{Seed: 1, VendorURL: vendorURL, DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		rv, err := operator.NewResponseValidator()
		if err != nil {
			t.Fatal(err)
		}
		return &env{t: t, base: serveOn(t, srv.Handler()), vendorURL: vendorURL, vendor: v, validator: rv}, srv
	}
	e, srv := start()
	pl := e.termPlan("manual", "manual")
	tenant := e.firstTenant()
	approved := e.order(map[string]any{"tenant_id": tenant, "plan_id": pl.ID}).Subscription.ID
	e.manualOp(fmt.Sprintf("/subscriptions/%d/stop", approved), nil, 200)
	e.setMode("manual", opsMail)
	created := e.order(map[string]any{"tenant_id": tenant, "plan_id": pl.ID}).Subscription.ID
	worldBefore, outboxBefore := e.world(), e.outbox("")
	srv.Close()

	e, srv = start()
	defer srv.Close()
	if got := e.world(); got != worldBefore {
		t.Errorf("world after restart differs:\n got %.300s\nwant %.300s", got, worldBefore)
	}
	if got := e.outbox(""); !reflect.DeepEqual(got, outboxBefore) || len(got.Items) != 1 {
		t.Errorf("outbox after restart: got %+v, want %+v", got, outboxBefore)
	}
	tests := []struct {
		id         int64
		before     string
		path       string
		body       any
		wantStatus string
	}{
		{created, "installing", "complete", map[string]any{"external_id": "after-restart"}, "active"},
		{approved, "waiting_for_manual_approve", "decline", nil, "active"},
	}
	for _, tt := range tests {
		if s := e.sub(tt.id); s.Status != tt.before {
			t.Errorf("subscription %d after restart: %s, want %s", tt.id, s.Status, tt.before)
		}
		if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/%s", tt.id, tt.path), tt.body, 200); r.Subscription.Status != tt.wantStatus {
			t.Errorf("%s %d after restart: %s, want %s", tt.path, tt.id, r.Subscription.Status, tt.wantStatus)
		}
	}
	// New mails continue the ids.
	e.manualOp(fmt.Sprintf("/subscriptions/%d/renew", created), nil, 200)
	if l := e.outbox("").Items; len(l) != 2 || l[1].ID != 2 || l[1].Operation != "renew" {
		t.Errorf("outbox after a new operation: %+v", l)
	}
}
