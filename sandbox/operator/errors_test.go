package operator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

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

func decodeError(t *testing.T, raw []byte) apiError {
	t.Helper()
	var ae apiError
	if err := json.Unmarshal(raw, &ae); err != nil {
		t.Fatalf("not the error shape: %v\n%s", err, raw)
	}
	return ae
}

func (ae apiError) fields() []string {
	var out []string
	for _, d := range ae.Error.Details {
		out = append(out, d.Field)
	}
	return out
}

// TestBadRequests: what the document refuses is refused before the
// platform is called, as invalid_argument naming every bad field.
func TestBadRequests(t *testing.T) {
	const ws = "/api/v1/workspaces/default"
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string // "" for application/json when there is a body
		body        string
		wantStatus  int
		wantCode    string
		wantFields  []string // in order; nil for none
		wantMessage string   // a substring of the message
	}{
		{"malformed JSON", "POST", ws + "/subscriptions", "", `{"tenant_id": 1,`, 400, "invalid_argument", nil, "request body is not valid JSON: "},
		{"wrong type", "POST", ws + "/subscriptions", "", `{"tenant_id": 4, "plan_id": "x"}`, 400, "invalid_argument", []string{"plan_id"}, "plan_id: value must be an integer"},
		{"missing field", "POST", ws + "/subscriptions", "", `{"tenant_id": 4}`, 400, "invalid_argument", []string{"plan_id"}, "plan_id: is required"},
		{"unknown field", "POST", ws + "/subscriptions", "", `{"tenant_id": 4, "plan_id": 8, "colour": "red"}`, 400, "invalid_argument", []string{"colour"}, "colour: is not a known field"},
		{"negative quantity", "POST", ws + "/subscriptions", "", `{"tenant_id": 4, "plan_id": 8, "resources": {"user_licenses": -1}}`, 400, "invalid_argument", []string{"resources.user_licenses"}, "number must be at least 0"},
		{"fractional quantity", "POST", ws + "/subscriptions/14/change-resources", "", `{"resources": {"user_licenses": 1.5}}`, 400, "invalid_argument", []string{"resources.user_licenses"}, ""},
		{"negative change", "POST", ws + "/subscriptions/14/change-resources", "", `{"resources": {"user_licenses": -5}}`, 400, "invalid_argument", []string{"resources.user_licenses"}, ""},
		{"change without resources", "POST", ws + "/subscriptions/14/change-resources", "", `{}`, 400, "invalid_argument", []string{"resources"}, ""},
		{"missing body", "POST", ws + "/subscriptions/14/change-resources", "", ``, 400, "invalid_argument", nil, "request body is required"},
		{"body not an object", "POST", ws + "/subscriptions/14/renew", "", `[1]`, 400, "invalid_argument", []string{"body"}, ""},
		{"several bad fields", "POST", ws + "/subscriptions", "", `{"tenant_id": "4", "plan_id": 0, "x": 1}`, 400, "invalid_argument", []string{"plan_id", "tenant_id", "x"}, ""},
		{"unknown field, 2020-12 path", "PATCH", ws + "/subscriptions/14", "", `{"name": "n", "auto_renew": "yes", "colour": 1}`, 400, "invalid_argument", []string{"auto_renew", "colour"}, ""},
		{"workspace without name", "POST", "/api/v1/workspaces", "", `{"seed": 3}`, 400, "invalid_argument", []string{"name"}, ""},
		{"bad settings", "PUT", ws + "/integration", "", `{"mode": "sometimes", "timeout_ms": 300001}`, 400, "invalid_argument", []string{"mode", "timeout_ms"}, ""},
		{"form body", "POST", ws + "/subscriptions", "application/x-www-form-urlencoded", `tenant_id=4&plan_id=8`, 400, "invalid_argument", nil, "must be application/json"},
		{"non-integer path id", "GET", ws + "/subscriptions/abc", "", ``, 400, "invalid_argument", []string{"id"}, `must be an integer, got "abc"`},
		{"non-integer id of an operation", "POST", ws + "/subscriptions/1.5/stop", "", ``, 400, "invalid_argument", []string{"id"}, ""},
		{"non-integer query", "GET", ws + "/subscriptions?tenant_id=four", "", ``, 400, "invalid_argument", []string{"tenant_id"}, ""},
		{"unknown status", "GET", ws + "/subscriptions?status=weird", "", ``, 400, "invalid_argument", []string{"status"}, "allowed values"},
		{"limit too large", "GET", ws + "/exchanges?limit=1001", "", ``, 400, "invalid_argument", []string{"limit"}, "at most 1000"},
		{"limit zero", "GET", ws + "/exchanges?limit=0", "", ``, 400, "invalid_argument", []string{"limit"}, "at least 1"},
		{"unknown event", "GET", ws + "/exchanges?event=subscription.explode", "", ``, 400, "invalid_argument", []string{"event"}, ""},
		{"huge body", "POST", ws + "/subscriptions", "", `{"name":"` + strings.Repeat("x", maxRequestBody) + `"}`, 400, "invalid_argument", nil, "larger than 1048576 bytes"},
		{"unknown route", "GET", "/api/v1/nothing-here", "", ``, 404, "not_found", nil, "no route GET /api/v1/nothing-here"},
		{"unknown sub-route", "POST", ws + "/subscriptions/14/explode", "", ``, 404, "not_found", nil, ""},
		{"wrong method", "DELETE", ws + "/subscriptions", "", ``, 405, "not_found", nil, "allowed: GET, POST"},
	}
	h := newHarness(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			before := len(h.fake.calls)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				ct := tt.contentType
				if ct == "" {
					ct = "application/json"
				}
				req.Header.Set("Content-Type", ct)
			}
			w := httptest.NewRecorder()
			h.engine.ServeHTTP(w, req)
			if err := h.rv.Validate(req, w.Code, w.Header(), w.Body.Bytes()); err != nil {
				t.Errorf("the answer does not match openapi.yaml: %v", err)
			}
			ae := decodeError(t, w.Body.Bytes())
			if w.Code != tt.wantStatus || ae.Error.Code != tt.wantCode {
				t.Errorf("got %d %s, want %d %s\n%s", w.Code, ae.Error.Code, tt.wantStatus, tt.wantCode, w.Body)
			}
			if got := strings.Join(ae.fields(), ","); got != strings.Join(tt.wantFields, ",") {
				t.Errorf("fields %q, want %q\n%s", got, strings.Join(tt.wantFields, ","), w.Body)
			}
			if !strings.Contains(ae.Error.Message, tt.wantMessage) {
				t.Errorf("message %q does not contain %q", ae.Error.Message, tt.wantMessage)
			}
			if n := len(h.fake.calls) - before; n != 0 {
				t.Errorf("a refused request reached the platform (%d calls)", n)
			}
		})
	}
	if h.logs.Len() != 0 {
		t.Errorf("client errors were logged:\n%s", h.logs)
	}
}

// TestPlatformErrors: each code a platform error carries becomes its
// status; only internal errors are logged, and an error that is not a
// *world.Error is internal and its text is not shown.
func TestPlatformErrors(t *testing.T) {
	tests := []struct {
		err         error
		wantStatus  int
		wantCode    string
		wantMessage string
		wantLogged  bool
	}{
		{world.Invalid("resources.seats", "unknown resource"), 400, "invalid_argument", "resources.seats: unknown resource", false},
		{world.NotFound("subscription", 9), 404, "not_found", "subscription 9 not found", false},
		{world.Errorf(world.CodeConflict, "renewing"), 409, "conflict", "renewing", false},
		{world.Errorf(world.CodeForbidden, "no"), 403, "forbidden", "no", false},
		{world.Errorf(world.CodeUnauthenticated, "who"), 401, "unauthenticated", "who", false},
		{world.Errorf(world.CodeInternal, "journal full"), 500, "internal", "journal full", true},
		{fmt.Errorf("wrapped: %w", world.Errorf(world.CodeConflict, "busy")), 409, "conflict", "busy", false},
		{errors.New("disk on fire"), 500, "internal", "internal error; the server log has the details", true},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode, func(t *testing.T) {
			h := newHarness(t)
			h.fake.err = tt.err
			code, _, raw := h.do("POST", "/api/v1/workspaces/default/subscriptions/14/stop", "")
			ae := decodeError(t, raw)
			if code != tt.wantStatus || ae.Error.Code != tt.wantCode || ae.Error.Message != tt.wantMessage {
				t.Errorf("got %d %s %q, want %d %s %q", code, ae.Error.Code, ae.Error.Message, tt.wantStatus, tt.wantCode, tt.wantMessage)
			}
			if logged := h.logs.Len() > 0; logged != tt.wantLogged {
				t.Errorf("logged %v, want %v: %s", logged, tt.wantLogged, h.logs)
			}
			if tt.wantLogged && !strings.Contains(h.logs.String(), tt.err.Error()) {
				t.Errorf("the log does not hold the error %q: %s", tt.err, h.logs)
			}
			if tt.err.Error() == "disk on fire" && strings.Contains(string(raw), "disk") {
				t.Errorf("an internal error's text was shown: %s", raw)
			}
			if ae.Error.Code == "invalid_argument" && (len(ae.Error.Details) != 1 || ae.Error.Details[0].Field != "resources.seats") {
				t.Errorf("details %+v, want the field resources.seats", ae.Error.Details)
			}
		})
	}
}

// TestStatusOf: every code has its status.
func TestStatusOf(t *testing.T) {
	tests := []struct {
		code world.Code
		want int
	}{
		{world.CodeInvalidArgument, 400},
		{world.CodeNotFound, 404},
		{world.CodeConflict, 409},
		{world.CodeForbidden, 403},
		{world.CodeUnauthenticated, 401},
		{world.CodeInternal, 500},
		{"unheard_of", 500},
	}
	for _, tt := range tests {
		if got := statusOf(tt.code); got != tt.want {
			t.Errorf("statusOf(%s) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

// TestBackstops: the error handlers behind the request validator (the
// generated wrapper's parameter binding, the strict server's JSON
// decoding) answer in the error shape and name the field too.
func TestBackstops(t *testing.T) {
	var typeErr error
	{
		var v struct {
			PlanID int64 `json:"plan_id"`
		}
		typeErr = json.Unmarshal([]byte(`{"plan_id":"x"}`), &v)
	}
	var syntaxErr error
	{
		var v any
		syntaxErr = json.Unmarshal([]byte(`{"a":`), &v)
	}
	tests := []struct {
		name       string
		call       func(s *Server, c *gin.Context)
		wantStatus int
		wantField  string
		wantMsg    string
	}{
		{"parameter", func(s *Server, c *gin.Context) {
			s.parameterError(c, errors.New("Invalid format for parameter id: error binding string parameter: strconv.ParseInt: parsing \"abc\": invalid syntax"), 400)
		}, 400, "id", ""},
		{"body type", func(s *Server, c *gin.Context) { s.requestBodyError(c, typeErr) }, 400, "plan_id", "must be int64"},
		{"body syntax", func(s *Server, c *gin.Context) { s.requestBodyError(c, syntaxErr) }, 400, "", "request body is not valid JSON"},
		{"response", func(s *Server, c *gin.Context) { s.responseError(c, errors.New("broken pipe")) }, 500, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(newFake())
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/workspaces/default/subscriptions/abc", nil)
			tt.call(s, c)
			ae := decodeError(t, w.Body.Bytes())
			if w.Code != tt.wantStatus || !strings.Contains(ae.Error.Message, tt.wantMsg) {
				t.Errorf("got %d %q, want %d and a message with %q", w.Code, ae.Error.Message, tt.wantStatus, tt.wantMsg)
			}
			if got := strings.Join(ae.fields(), ","); got != tt.wantField {
				t.Errorf("fields %q, want %q", got, tt.wantField)
			}
		})
	}
}

// TestParamName: the parameter named in the generated wrapper's errors.
func TestParamName(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"Invalid format for parameter id: error binding string parameter", "id"},
		{"Invalid format for parameter subscription_id: strconv.ParseInt", "subscription_id"},
		{"Query argument limit is required, but not found", "limit"},
		{"Error unmarshaling parameter 'filter' as JSON", "filter"},
		{"something else", "parameter"},
	}
	for _, tt := range tests {
		if got := paramName(tt.msg); got != tt.want {
			t.Errorf("paramName(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
