package examplevendor

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestControlFaults(t *testing.T) {
	_, srv := newServer(t, Config{})
	run(t, srv, []step{
		{name: "none", method: "GET", path: "/_control/faults", wantStatus: 200, wantBody: `[]`},
		{name: "arm", path: "/_control/faults", body: `{"endpoint":"/subscription/renew","status":422,"message":"Card declined","delay_ms":0,"times":1}`,
			wantStatus: 200, wantBody: `{"endpoint":"subscription/renew","status":422,"message":"Card declined","delay_ms":0,"times":1}`},
		{name: "arm delay only", path: "/_control/faults", body: `{"endpoint":"check","delay_ms":20}`,
			wantStatus: 200, wantBody: `{"endpoint":"check","status":0,"message":"","delay_ms":20,"times":0}`},
		{name: "list", method: "GET", path: "/_control/faults", wantStatus: 200,
			wantBody: `[{"endpoint":"subscription/renew","status":422,"message":"Card declined","delay_ms":0,"times":1},{"endpoint":"check","status":0,"message":"","delay_ms":20,"times":0}]`},
		{name: "fires", path: "/subscription/renew" + q, body: `{"external_id":"x"}`, wantStatus: 422, wantBody: envelopeOf("Card declined")},
		{name: "used up", path: "/subscription/renew" + q, body: `{"external_id":"x"}`, wantStatus: 422, wantBody: envelopeOf("subscription x not found")},
		{name: "delay only still serves", path: "/check" + q, wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "clear one", method: "DELETE", path: "/_control/faults?endpoint=check", wantStatus: 204},
		{name: "cleared one", method: "GET", path: "/_control/faults", wantStatus: 200, wantBody: `[]`},
		{name: "arm again", path: "/_control/faults", body: `{"endpoint":"check","status":500}`,
			wantStatus: 200, wantBody: `{"endpoint":"check","status":500,"message":"` + defaultFaultMessage + `","delay_ms":0,"times":0}`},
		{name: "clear all", method: "DELETE", path: "/_control/faults", wantStatus: 204},
		{name: "cleared all", method: "GET", path: "/_control/faults", wantStatus: 200, wantBody: `[]`},
		{name: "unknown endpoint", path: "/_control/faults", body: `{"endpoint":"renew","status":422}`, wantStatus: 400,
			wantBody: envelopeOf(`fault: unknown endpoint "renew" (known: ` + strings.Join(Endpoints(), ", ") + `)`)},
		{name: "unknown field", path: "/_control/faults", body: `{"endpoint":"check","delay":5}`, wantStatus: 400, wantBody: envelopeOf(`body: json: unknown field "delay"`)},
		{name: "malformed", path: "/_control/faults", body: `{`, wantStatus: 400, wantBody: envelopeOf(`body: unexpected EOF`)},
		{name: "2xx status", path: "/_control/faults", body: `{"endpoint":"check","status":200}`, wantStatus: 400, wantBody: envelopeOf(`fault on check: status 200 must be 0 (only delay) or from 400 to 599`)},
		{name: "unknown control route", method: "PATCH", path: "/_control/faults", wantStatus: 404, wantBody: envelopeOf(`no control route PATCH /_control/faults`)},
	})
}

func TestControlRequests(t *testing.T) {
	v, srv := newServer(t, Config{})
	run(t, srv, []step{
		{name: "check without body", path: "/check" + q, wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "not JSON", path: "/user/create" + q, body: `password=x`, wantStatus: 400, wantBody: envelopeOf("body is not valid JSON")},
		{name: "unknown path", method: "PUT", path: "/nope", body: `{"a":1}`, wantStatus: 404, wantBody: envelopeOf("unknown endpoint /nope")},
	})
	code, body := do(t, srv, "GET", "/_control/requests", "")
	var got []Request
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("GET /_control/requests = %d %s (%v)", code, body, err)
	}
	want := []Request{
		{Seq: 1, Method: "POST", Path: "/check", Query: "ap_guid=g-1&reseller_id=12", Status: 200},
		{Seq: 2, Method: "POST", Path: "/user/create", Query: "ap_guid=g-1&reseller_id=12", Body: json.RawMessage(`"password=x"`), Status: 400},
		{Seq: 3, Method: "PUT", Path: "/nope", Body: json.RawMessage(`{"a":1}`), Status: 404},
	}
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d: %s", len(got), len(want), body)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Method != w.Method || g.Path != w.Path || g.Query != w.Query || string(g.Body) != string(w.Body) || g.Status != w.Status {
			t.Errorf("request %d = %+v, want %+v", i, g, w)
		}
		if g.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d headers %v", i, g.Header)
		}
	}
	if n := len(v.Requests()); n != 3 {
		t.Errorf("Requests() has %d, want 3 (control calls are not recorded)", n)
	}
	run(t, srv, []step{
		{name: "clear", method: "DELETE", path: "/_control/requests", wantStatus: 204},
		{name: "cleared", method: "GET", path: "/_control/requests", wantStatus: 200, wantBody: `[]`},
		{name: "after clear", path: "/check" + q, wantStatus: 200, wantBody: `{"status":"ok"}`},
	})
	if got := v.Requests(); len(got) != 1 || got[0].Seq != 4 {
		t.Errorf("after clear: %+v, want one request with seq 4", got)
	}
}

func TestControlState(t *testing.T) {
	_, srv := newServer(t, Config{})
	run(t, srv, []step{
		{name: "no subscriptions", method: "GET", path: "/_control/subscriptions", wantStatus: 200, wantBody: `[]`},
		{name: "no users", method: "GET", path: "/_control/users", wantStatus: 200, wantBody: `[]`},
		{name: "create", path: "/subscription/create" + q, body: `{"reseller":{},"tenant":{},"plan":{"sku":"S","resources":[{"key":"users","quantity":5}]},"subscription":{"id":9}}`, wantStatus: 201, wantBody: `{"id":"vs-000001"}`},
		{name: "create user", path: "/user/create" + q, body: `{"password":"p","email":"a@b.c","first_name":"A","last_name":"B"}`, wantStatus: 201, wantBody: `{"id":"vu-000001"}`},
		{name: "subscriptions", method: "GET", path: "/_control/subscriptions", wantStatus: 200,
			wantBody: `[{"id":"vs-000001","platform_id":"9","ap_guid":"g-1","reseller_id":"12","status":"active","plan":{"name":"","sku":"S","resources":[{"key":"users","quantity":5}]},"usage":{"users":2},"renewals":0,"updates":0}]`},
		{name: "set usage", method: "PUT", path: "/_control/subscriptions/vs-000001/usage", body: `{"users":5}`, wantStatus: 200,
			wantBody: `{"id":"vs-000001","platform_id":"9","ap_guid":"g-1","reseller_id":"12","status":"active","plan":{"name":"","sku":"S","resources":[{"key":"users","quantity":5}]},"usage":{"users":5},"renewals":0,"updates":0}`},
		{name: "set usage of unknown", method: "PUT", path: "/_control/subscriptions/vs-9/usage", body: `{"users":5}`, wantStatus: 404, wantBody: envelopeOf("subscription vs-9 not found")},
		{name: "set usage not a number", method: "PUT", path: "/_control/subscriptions/vs-000001/usage", body: `{"users":"5"}`, wantStatus: 400,
			wantBody: envelopeOf("body: json: cannot unmarshal string into Go value of type int64")},
		{name: "one subscription", method: "GET", path: "/_control/subscriptions/vs-000001", wantStatus: 200,
			wantBody: `{"id":"vs-000001","platform_id":"9","ap_guid":"g-1","reseller_id":"12","status":"active","plan":{"name":"","sku":"S","resources":[{"key":"users","quantity":5}]},"usage":{"users":5},"renewals":0,"updates":0}`},
		{name: "unknown subscription", method: "GET", path: "/_control/subscriptions/vs-9", wantStatus: 404, wantBody: envelopeOf("subscription vs-9 not found")},
		{name: "users", method: "GET", path: "/_control/users", wantStatus: 200,
			wantBody: `[{"id":"vu-000001","email":"a@b.c","first_name":"A","last_name":"B","ap_guid":"g-1","reseller_id":"12","status":"active","password_resets":0}]`},
		{name: "reset", path: "/_control/reset", wantStatus: 204},
		{name: "reset subscriptions", method: "GET", path: "/_control/subscriptions", wantStatus: 200, wantBody: `[]`},
		{name: "reset users", method: "GET", path: "/_control/users", wantStatus: 200, wantBody: `[]`},
		{name: "ids keep counting", path: "/subscription/create" + q, body: `{"reseller":{},"tenant":{},"plan":{"sku":"S"},"subscription":{"id":9}}`, wantStatus: 201, wantBody: `{"id":"vs-000002"}`},
	})
}

func TestLogRequests(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == "duration" {
			return slog.Attr{}
		}
		return a
	}}))
	srv := httptest.NewServer(LogRequests(log, New(Config{Faults: []Fault{{Endpoint: "check", Status: 503}}}).Handler()))
	defer srv.Close()
	do(t, srv, "POST", "/check"+q, "")
	do(t, srv, "POST", "/order/attributes"+q, "{}")
	want := "level=WARN msg=request method=POST path=/check query=\"ap_guid=g-1&reseller_id=12\" status=503\n" +
		"level=INFO msg=request method=POST path=/order/attributes query=\"ap_guid=g-1&reseller_id=12\" status=200\n"
	if got := buf.String(); got != want {
		t.Errorf("log\n got %q\nwant %q", got, want)
	}
	if _, ok := any(&statusWriter{}).(interface{ Unwrap() http.ResponseWriter }); !ok {
		t.Error("statusWriter hides the ResponseWriter from http.ResponseController")
	}
}
