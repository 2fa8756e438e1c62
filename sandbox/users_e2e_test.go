package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/operator"
)

type user struct {
	ID             int64  `json:"id"`
	TenantID       int64  `json:"tenant_id"`
	Email          string `json:"email"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Role           string `json:"role"`
	Status         string `json:"status"`
	VendorID       string `json:"vendor_id"`
	LastError      string `json:"last_error"`
	PasswordResets int64  `json:"password_resets"`
}

type userResult struct {
	User        user    `json:"user"`
	Password    string  `json:"password"`
	ExchangeIDs []int64 `json:"exchange_ids"`
}

// userOp sends a user operation and wants the status.
func (e *env) userOp(method, path string, body any, want int) userResult {
	e.t.Helper()
	var r userResult
	if code := e.do(method, e.ws(path), body, &r); code != want {
		e.t.Fatalf("%s %s: %d, want %d", method, path, code, want)
	}
	return r
}

// lastVendorCall is the vendor's most recent request, its body decoded.
func (e *env) lastVendorCall() (examplevendor.Request, map[string]any) {
	e.t.Helper()
	rs := e.vendor.Requests()
	if len(rs) == 0 {
		e.t.Fatal("the vendor got no request")
	}
	r := rs[len(rs)-1]
	var body map[string]any
	json.Unmarshal(r.Body, &body)
	return r, body
}

// TestUserLifecycle: create, update, deactivate, activate, reset the
// password (given and generated) and delete a user against the example
// vendor; each call carries the documented path, query and body, and the
// vendor's id becomes the user's vendor_id.
func TestUserLifecycle(t *testing.T) {
	e := newEnv(t, 1)
	tenant := e.firstTenant()

	created := e.userOp("POST", "/users", map[string]any{
		"tenant_id": tenant, "email": "kim.park@example.com", "first_name": "Kim", "last_name": "Park", "role": "admin",
	}, http.StatusCreated)
	u := created.User
	if u.VendorID == "" || u.Status != "active" || u.Role != "admin" || u.LastError != "" || len(created.ExchangeIDs) != 1 || len(created.Password) < 8 {
		t.Fatalf("created: %+v", created)
	}
	req, body := e.lastVendorCall()
	q, _ := url.ParseQuery(req.Query)
	if req.Path != "/user/create" || q.Get("ap_guid") == "" || q.Get("reseller_id") == "" ||
		body["email"] != "kim.park@example.com" || body["first_name"] != "Kim" || body["last_name"] != "Park" || body["password"] != created.Password {
		t.Errorf("create call: %s?%s %v", req.Path, req.Query, body)
	}
	if err := operator.ValidateWebhookBody("user.create", req.Body); err != nil {
		t.Error(err)
	}
	var x exchange
	e.do("GET", e.ws(fmt.Sprintf("/exchanges/%d", created.ExchangeIDs[0])), nil, &x)
	if x.Event != "user.create" || x.UserID != u.ID {
		t.Errorf("exchange: %+v", x)
	}

	steps := []struct {
		method, path string
		body         any
		wantPath     string
		wantBody     map[string]any
		check        func(r userResult) bool
	}{
		{"PATCH", "", map[string]any{"last_name": "Park-Lee"}, "/user/update",
			map[string]any{"id": u.VendorID, "first_name": "Kim", "last_name": "Park-Lee"},
			func(r userResult) bool { return r.User.LastName == "Park-Lee" }},
		{"POST", "/deactivate", nil, "/user/deactivate", map[string]any{"id": u.VendorID},
			func(r userResult) bool { return r.User.Status == "inactive" }},
		{"POST", "/activate", nil, "/user/activate", map[string]any{"id": u.VendorID},
			func(r userResult) bool { return r.User.Status == "active" }},
		{"POST", "/reset-password", map[string]any{"password": "N3w$Pass!"}, "/user/password_reset",
			map[string]any{"id": u.VendorID, "password": "N3w$Pass!"},
			func(r userResult) bool { return r.Password == "N3w$Pass!" && r.User.PasswordResets == 2 }},
		{"POST", "/reset-password", nil, "/user/password_reset", map[string]any{"id": u.VendorID},
			func(r userResult) bool { return len(r.Password) == 16 && r.User.PasswordResets == 3 }},
		{"DELETE", "", nil, "/user/delete", map[string]any{"id": u.VendorID},
			func(r userResult) bool { return r.User.Status == "deleted" }},
	}
	for _, st := range steps {
		r := e.userOp(st.method, fmt.Sprintf("/users/%d%s", u.ID, st.path), st.body, http.StatusOK)
		if !st.check(r) || r.User.LastError != "" || len(r.ExchangeIDs) != 1 {
			t.Errorf("%s %s: %+v", st.method, st.path, r)
		}
		req, body := e.lastVendorCall()
		if req.Path != st.wantPath {
			t.Errorf("%s %s called %s, want %s", st.method, st.path, req.Path, st.wantPath)
		}
		for k, v := range st.wantBody {
			if body[k] != v {
				t.Errorf("%s body[%s] = %v, want %v", st.wantPath, k, body[k], v)
			}
		}
		if st.wantPath == "/user/password_reset" && body["password"] != r.Password {
			t.Errorf("the vendor got password %v, the answer says %q", body["password"], r.Password)
		}
		event := "user." + strings.TrimPrefix(st.wantPath, "/user/")
		if err := operator.ValidateWebhookBody(event, req.Body); err != nil {
			t.Error(err)
		}
	}
	vu := e.vendor.Users()
	if len(vu) != 1 || vu[0].Status != "deleted" || vu[0].LastName != "Park-Lee" || vu[0].PasswordResets != 2 {
		t.Errorf("the vendor's view: %+v", vu)
	}
	// A deleted user takes no more operations.
	var ae apiError
	if code := e.do("POST", e.ws(fmt.Sprintf("/users/%d/activate", u.ID)), nil, &ae); code != http.StatusConflict {
		t.Errorf("activate a deleted user: %d %+v", code, ae)
	}
}

// TestUserRefusedThenAttached: a vendor refusing /user/create leaves the
// user on the platform, unattached, with the vendor's message; attach tries
// again; until attached, changes are the platform's alone (no call).
func TestUserRefusedThenAttached(t *testing.T) {
	e := newEnv(t, 1)
	if err := e.vendor.SetFault(examplevendor.Fault{Endpoint: "user/create", Status: 409, Message: "seat limit reached"}); err != nil {
		t.Fatal(err)
	}
	r := e.userOp("POST", "/users", map[string]any{"tenant_id": e.firstTenant(), "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}, http.StatusCreated)
	if r.User.VendorID != "" || r.User.LastError != "seat limit reached" || r.User.PasswordResets != 0 || len(r.ExchangeIDs) != 1 {
		t.Fatalf("refused create: %+v", r)
	}
	first := r.Password

	// Unattached: a rename is made on the platform, the vendor hears nothing.
	before := len(e.vendor.Requests())
	rn := e.userOp("PATCH", fmt.Sprintf("/users/%d", r.User.ID), map[string]any{"first_name": "Anne"}, http.StatusOK)
	if rn.User.FirstName != "Anne" || len(rn.ExchangeIDs) != 0 || len(e.vendor.Requests()) != before {
		t.Errorf("rename of an unattached user: %+v, %d calls", rn, len(e.vendor.Requests())-before)
	}

	e.vendor.ClearFaults()
	a := e.userOp("POST", fmt.Sprintf("/users/%d/attach", r.User.ID), nil, http.StatusOK)
	if a.User.VendorID == "" || a.User.LastError != "" || a.Password != first {
		t.Errorf("attach: %+v (the retry should send the same generated password %q)", a, first)
	}
	_, body := e.lastVendorCall()
	if body["first_name"] != "Anne" {
		t.Errorf("attach sent %v", body)
	}
	var ae apiError
	if code := e.do("POST", e.ws(fmt.Sprintf("/users/%d/attach", r.User.ID)), nil, &ae); code != http.StatusConflict {
		t.Errorf("attach twice: %d", code)
	}

	// A vendor that does not know the user refuses with the task envelope;
	// the change is not made.
	e.vendor.Reset()
	d := e.userOp("POST", fmt.Sprintf("/users/%d/deactivate", r.User.ID), nil, http.StatusOK)
	if d.User.Status != "active" || d.User.LastError == "" || len(d.ExchangeIDs) != 1 {
		t.Errorf("deactivate refused: %+v", d)
	}
}

// TestUserBadInput: refusals name the field, or say what the platform
// forbids, and change nothing.
func TestUserBadInput(t *testing.T) {
	e := newEnv(t, 1)
	tenant := e.firstTenant()
	var w0 map[string]any
	e.do("GET", e.ws("/world"), nil, &w0)
	var owner user
	var users struct{ Items []user }
	e.do("GET", e.ws("/users"), nil, &users)
	for _, u := range users.Items {
		if u.TenantID == tenant && u.Role == "owner" {
			owner = u
		}
	}
	valid := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"tenant_id": tenant, "email": "new.user@example.com", "first_name": "New", "last_name": "User"}
		edit(m)
		return m
	}
	for _, tt := range []struct {
		name      string
		method    string
		path      string
		body      any
		wantCode  int
		wantField string
	}{
		{"unknown tenant", "POST", "/users", valid(func(m map[string]any) { m["tenant_id"] = 1 }), 400, "tenant_id"},
		{"bad e-mail", "POST", "/users", valid(func(m map[string]any) { m["email"] = "new\u200buser@example.com" }), 400, "email"},
		{"blank name", "POST", "/users", valid(func(m map[string]any) { m["first_name"] = "   " }), 400, "first_name"},
		{"e-mail taken", "POST", "/users", valid(func(m map[string]any) { m["email"] = strings.ToUpper(owner.Email) }), 409, ""},
		{"second owner", "POST", "/users", valid(func(m map[string]any) { m["role"] = "owner" }), 409, ""},
		{"delete the owner", "DELETE", fmt.Sprintf("/users/%d", owner.ID), nil, 409, ""},
		{"activate an active user", "POST", fmt.Sprintf("/users/%d/activate", owner.ID), nil, 409, ""},
		{"password with a control character", "POST", fmt.Sprintf("/users/%d/reset-password", owner.ID), map[string]any{"password": "abc\x01defgh"}, 400, "password"},
		{"unknown user", "PATCH", "/users/999999", map[string]any{"first_name": "X"}, 404, ""},
	} {
		var ae apiError
		code := e.do(tt.method, e.ws(tt.path), tt.body, &ae)
		if code != tt.wantCode || (tt.wantField != "" && (len(ae.Error.Details) == 0 || ae.Error.Details[0].Field != tt.wantField)) {
			t.Errorf("%s: %d %+v, want %d naming %q", tt.name, code, ae, tt.wantCode, tt.wantField)
		}
	}
	var w1 map[string]any
	e.do("GET", e.ws("/world"), nil, &w1)
	if a, b := fmt.Sprint(w0), fmt.Sprint(w1); a != b {
		t.Error("refused user operations changed the world")
	}
	if n := len(e.vendor.Requests()); n != 0 {
		t.Errorf("refused user operations made %d vendor calls", n)
	}
}

// TestGeneratedPasswordsAreDeterministic: the same seed and the same
// operations give the same passwords, hence the same exchanges.
func TestGeneratedPasswordsAreDeterministic(t *testing.T) {
	var got [2][]string
	for i := range got {
		e := newEnv(t, 7)
		r := e.userOp("POST", "/users", map[string]any{"tenant_id": e.firstTenant(), "email": "d@example.com", "first_name": "D", "last_name": "E"}, http.StatusCreated)
		p := e.userOp("POST", fmt.Sprintf("/users/%d/reset-password", r.User.ID), nil, http.StatusOK)
		got[i] = []string{r.Password, p.Password}
	}
	if got[0][0] != got[1][0] || got[0][1] != got[1][1] || got[0][0] == got[0][1] {
		t.Errorf("passwords: %v and %v; want equal across runs, different across resets", got[0], got[1])
	}
}

// TestUserOneOperationAtATime: while a user's vendor call is in flight,
// another operation on that user is refused (409), and nothing hangs.
func TestUserOneOperationAtATime(t *testing.T) {
	e := newEnv(t, 1)
	r := e.userOp("POST", "/users", map[string]any{"tenant_id": e.firstTenant(), "email": "slow@example.com", "first_name": "S", "last_name": "L"}, http.StatusCreated)
	if err := e.vendor.SetFault(examplevendor.Fault{Endpoint: "user/update", Delay: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	done := make(chan userResult)
	go func() {
		var out userResult
		e.do("PATCH", e.ws(fmt.Sprintf("/users/%d", r.User.ID)), map[string]any{"first_name": "Slow"}, &out)
		done <- out
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if req, _ := e.lastVendorCall(); req.Path == "/user/update" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the update never reached the vendor")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var ae apiError
	if code := e.do("POST", e.ws(fmt.Sprintf("/users/%d/deactivate", r.User.ID)), nil, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "in flight") {
		t.Errorf("a second operation during the call: %d %+v", code, ae)
	}
	if got := <-done; got.User.FirstName != "Slow" || got.User.LastError != "" {
		t.Errorf("the slow update: %+v", got)
	}
	// Answered, the user takes operations again.
	e.userOp("POST", fmt.Sprintf("/users/%d/deactivate", r.User.ID), nil, http.StatusOK)
}

// TestResetDuringVendorCall: a workspace reset while a vendor call runs
// leaves the new world untouched by the late answer, which is recorded
// all the same, and the operation says so (409); the user or subscription
// the call was for takes operations again at once.
func TestResetDuringVendorCall(t *testing.T) {
	for _, tt := range []struct {
		name     string
		endpoint string
		start    func(e *env) (method, path string, body any)
		after    func(e *env) int // an operation on the same entity after the reset
	}{
		{"user", "user/deactivate",
			func(e *env) (string, string, any) {
				r := e.userOp("POST", "/users", map[string]any{"tenant_id": e.firstTenant(), "email": "late@example.com", "first_name": "L", "last_name": "A"}, http.StatusCreated)
				// The reset regenerates the world: the same id is then a
				// seeded user, or none.
				return "POST", fmt.Sprintf("/users/%d/deactivate", r.User.ID), nil
			},
			func(e *env) int {
				// The new world hands out the same id again: the user
				// made now must not be held by the old call.
				e.vendor.ClearFaults()
				r := e.userOp("POST", "/users", map[string]any{"tenant_id": e.firstTenant(), "email": "late@example.com", "first_name": "L", "last_name": "A"}, http.StatusCreated)
				return e.do("POST", e.ws(fmt.Sprintf("/users/%d/deactivate", r.User.ID)), nil, nil)
			}},
		{"subscription", "subscription/renew",
			func(e *env) (string, string, any) {
				r := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID})
				return "POST", fmt.Sprintf("/subscriptions/%d/renew", r.Subscription.ID), map[string]any{}
			},
			func(e *env) int {
				e.vendor.ClearFaults()
				r := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID})
				return e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/renew", r.Subscription.ID)), map[string]any{}, nil)
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 1)
			method, path, body := tt.start(e)
			var w0 map[string]any
			if err := e.vendor.SetFault(examplevendor.Fault{Endpoint: tt.endpoint, Delay: time.Second}); err != nil {
				t.Fatal(err)
			}
			type answer struct {
				code int
				err  apiError
			}
			done := make(chan answer)
			go func() {
				var a answer
				a.code = e.do(method, e.ws(path), body, &a.err)
				done <- a
			}()
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if req, _ := e.lastVendorCall(); req.Path == "/"+tt.endpoint {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the call never reached the vendor")
				}
			}
			if code := e.do("POST", e.ws("/reset"), nil, nil); code != http.StatusOK {
				t.Fatalf("reset: %d", code)
			}
			e.do("GET", e.ws("/world"), nil, &w0)
			a := <-done
			if a.code != http.StatusConflict || !strings.Contains(a.err.Error.Message, "was reset while the vendor call ran") {
				t.Errorf("the operation across a reset: %d %+v", a.code, a.err)
			}
			var w1 map[string]any
			e.do("GET", e.ws("/world"), nil, &w1)
			if fmt.Sprint(w0) != fmt.Sprint(w1) {
				t.Error("the late answer changed the new world")
			}
			if xs := e.exchanges(""); len(xs) != 1 || xs[0].Event != strings.ReplaceAll(tt.endpoint, "/", ".") {
				t.Errorf("exchanges after the reset: %+v, want the late one", xs)
			}
			if code := tt.after(e); code != http.StatusOK {
				t.Errorf("after: %d", code)
			}
		})
	}
}

// TestLateAnswerDoesNotFreeTheNewUser: after a reset the new world hands
// out the same user id again. A call of the old world answering late must
// not release the new user while that user's own call is in flight.
func TestLateAnswerDoesNotFreeTheNewUser(t *testing.T) {
	e := newEnv(t, 1)
	create := map[string]any{"tenant_id": e.firstTenant(), "email": "same@example.com", "first_name": "S", "last_name": "Id"}
	old := e.userOp("POST", "/users", create, http.StatusCreated)
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "user/deactivate", Delay: time.Second, Times: 1})
	oldDone := make(chan int)
	go func() { oldDone <- e.do("POST", e.ws(fmt.Sprintf("/users/%d/deactivate", old.User.ID)), nil, nil) }()
	e.waitVendorCalls("/user/deactivate", 1)
	e.do("POST", e.ws("/reset"), nil, nil)

	fresh := e.userOp("POST", "/users", create, http.StatusCreated)
	if fresh.User.ID != old.User.ID {
		t.Skipf("the new world gave id %d, not %d; nothing to check", fresh.User.ID, old.User.ID)
	}
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "user/deactivate", Delay: 3 * time.Second, Times: 1})
	newDone := make(chan int)
	go func() { newDone <- e.do("POST", e.ws(fmt.Sprintf("/users/%d/deactivate", fresh.User.ID)), nil, nil) }()
	e.waitVendorCalls("/user/deactivate", 2)

	if code := <-oldDone; code != http.StatusConflict {
		t.Errorf("the old call: %d, want 409", code)
	}
	var ae apiError
	if code := e.do("PATCH", e.ws(fmt.Sprintf("/users/%d", fresh.User.ID)), map[string]any{"first_name": "X"}, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "in flight") {
		t.Errorf("during the new user's call, after the old one answered: %d %+v", code, ae)
	}
	if code := <-newDone; code != http.StatusOK {
		t.Errorf("the new call: %d", code)
	}
}

// waitVendorCalls waits until the vendor has seen n requests to path.
func (e *env) waitVendorCalls(path string, n int) {
	e.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		seen := 0
		for _, r := range e.vendor.Requests() {
			if r.Path == path {
				seen++
			}
		}
		if seen >= n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the vendor saw %d calls to %s, want %d", seen, path, n)
		}
	}
}
