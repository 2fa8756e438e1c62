package examplevendor

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		want    Fault
		wantErr string
	}{
		{in: "subscription/renew=422:Card declined", want: Fault{Endpoint: "subscription/renew", Status: 422, Message: "Card declined"}},
		{in: "/subscription/stop=delay:2s", want: Fault{Endpoint: "subscription/stop", Delay: 2 * time.Second}},
		{in: "check=500", want: Fault{Endpoint: "check", Status: 500, Message: "refused by the example vendor"}},
		{in: "check", wantErr: "want ENDPOINT=STATUS:MESSAGE"},
		{in: "check=200:ok", wantErr: "from 400 to 599"},
		{in: "check=delay:soon", wantErr: "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFault(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestEndpoints(t *testing.T) {
	v := New(Config{})
	srv := httptest.NewServer(v.Handler())
	defer srv.Close()
	q := "?ap_guid=g&reseller_id=1"
	create := `{"reseller":{},"tenant":{},"plan":{"sku":"S","resources":[{"key":"users","quantity":5}]},"subscription":{"id":%s}}`
	tests := []struct {
		name       string
		path, body string
		wantStatus int
		wantBody   string
	}{
		{"create", "/subscription/create" + q, strings.Replace(create, "%s", "77", 1), 201, `{"id":"vs-000001"}`},
		{"create retried with a string id", "/subscription/create" + q, strings.Replace(create, "%s", `"77"`, 1), 201, `{"id":"vs-000001"}`},
		{"create without sku", "/subscription/create" + q, `{"reseller":{},"tenant":{},"plan":{},"subscription":{"id":1}}`, 400, `{"task":{"error_message":"missing required field plan.sku"}}`},
		{"renew", "/subscription/renew" + q, `{"external_id":"vs-000001"}`, 200, `{}`},
		{"renew unknown", "/subscription/renew" + q, `{"external_id":"nope"}`, 422, `{"task":{"error_message":"subscription nope not found"}}`},
		{"stop without query", "/subscription/stop", `{"external_id":"vs-000001"}`, 400, `{"task":{"error_message":"missing query argument ap_guid"}}`},
		{"usage", "/subscription/usage" + q, `{"external_id":"vs-000001"}`, 200, `{"resources":[{"key":"users","usage":2}]}`},
		{"malformed", "/subscription/stop" + q, `{"external_id":`, 400, ""},
		{"user create", "/user/create" + q, `{"email":"a@b.c","password":"p","first_name":"A","last_name":"B"}`, 201, `{"id":"vu-000002"}`},
		{"user reset", "/user/password_reset" + q, `{"id":"vu-000002","password":"n"}`, 200, `{}`},
		{"user unknown", "/user/delete" + q, `{"id":"vu-9"}`, 422, `{"task":{"error_message":"user vu-9 not found"}}`},
		{"delete", "/subscription/delete" + q, `{"external_id":"vs-000001"}`, 200, `{}`},
		{"after delete", "/subscription/activate" + q, `{"external_id":"vs-000001"}`, 422, `{"task":{"error_message":"subscription vs-000001 is deleted"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, srv.URL+tt.path, tt.body)
			if code != tt.wantStatus || (tt.wantBody != "" && body != tt.wantBody) {
				t.Errorf("got %d %s, want %d %s", code, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	v := New(Config{Faults: []Fault{{Endpoint: "check", Status: 503, Message: "down", Times: 1}}})
	srv := httptest.NewServer(v.Handler())
	defer srv.Close()
	if code, body := post(t, srv.URL+"/check?ap_guid=g&reseller_id=1", ""); code != 503 || !strings.Contains(body, "down") {
		t.Errorf("first check %d %s", code, body)
	}
	if code, _ := post(t, srv.URL+"/check?ap_guid=g&reseller_id=1", ""); code != 200 {
		t.Errorf("the one-shot fault fired twice: %d", code)
	}
	// Run-time control: a delay that the client abandons.
	if code, _ := post(t, srv.URL+"/_control/faults", `{"endpoint":"check","delay_ms":5000}`); code != 204 {
		t.Fatalf("set fault: %d", code)
	}
	c := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	if _, err := c.Post(srv.URL+"/check?ap_guid=g&reseller_id=1", "application/json", nil); err == nil {
		t.Error("a 5s delay answered within 100ms")
	}
	if time.Since(start) > 3*time.Second {
		t.Error("client timeout not honoured")
	}
	if got := len(v.Requests()); got != 3 {
		t.Errorf("%d requests recorded, want 3", got)
	}
}
