package examplevendor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
		{in: "subscription/renew=422:Declined: try later", want: Fault{Endpoint: "subscription/renew", Status: 422, Message: "Declined: try later"}},
		{in: "/subscription/stop/=delay:2s", want: Fault{Endpoint: "subscription/stop", Delay: 2 * time.Second}},
		{in: "check=500", want: Fault{Endpoint: "check", Status: 500, Message: defaultFaultMessage}},
		{in: "user/create=delay:150ms:504:Gateway timeout", want: Fault{Endpoint: "user/create", Status: 504, Message: "Gateway timeout", Delay: 150 * time.Millisecond}},
		{in: "user/create=delay:1s:503", want: Fault{Endpoint: "user/create", Status: 503, Message: defaultFaultMessage, Delay: time.Second}},
		{in: "check", wantErr: "want ENDPOINT=STATUS[:MESSAGE] or ENDPOINT=delay:DURATION"},
		{in: "=422:x", wantErr: "want ENDPOINT=STATUS[:MESSAGE]"},
		{in: "check=", wantErr: "want ENDPOINT=STATUS[:MESSAGE]"},
		{in: "subscription/renw=422:x", wantErr: `unknown endpoint "subscription/renw" (known: check, order/attributes`},
		{in: "check=200:ok", wantErr: "status 200 must be 0 (only delay) or from 400 to 599"},
		{in: "check=oops:x", wantErr: `status "oops" is not a number`},
		{in: "check=delay:soon", wantErr: `delay "soon" is not a positive duration`},
		{in: "check=delay:0s", wantErr: `delay "0s" is not a positive duration`},
		{in: "check=delay:1s:abc", wantErr: `status "abc" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFault(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFault(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseFault(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseFaults(t *testing.T) {
	tests := []struct {
		in      string
		want    []Fault
		wantErr string
	}{
		{in: "", want: nil},
		{in: " , ", want: nil},
		{in: "subscription/renew=422:Declined, sorry,user/create=delay:1s", want: []Fault{
			{Endpoint: "subscription/renew", Status: 422, Message: "Declined, sorry"},
			{Endpoint: "user/create", Delay: time.Second},
		}},
		{in: "check=500, subscription/stop=delay:2s", want: []Fault{
			{Endpoint: "check", Status: 500, Message: defaultFaultMessage},
			{Endpoint: "subscription/stop", Delay: 2 * time.Second},
		}},
		{in: "check=500,bogus=1", wantErr: `status "500,bogus=1" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFaults(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("ParseFaults(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("fault %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestFaultFlags(t *testing.T) {
	var ff FaultFlags
	in := []string{"check=500:Down", "subscription/renew=delay:1s", "user/create=delay:2s:503:Slow: then down"}
	for _, s := range in {
		if err := ff.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := ff.Set("nope=500"); err == nil {
		t.Error("Set accepted an unknown endpoint")
	}
	if got, want := ff.String(), strings.Join(in, " "); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestFaultStatusAndTimes(t *testing.T) {
	v, srv := newServer(t, Config{Faults: []Fault{{Endpoint: "check", Status: 503, Message: "maintenance"}}})
	if err := v.SetFault(Fault{Endpoint: "/subscription/create", Status: 422, Message: "Card declined", Times: 2}); err != nil {
		t.Fatal(err)
	}
	create := createBody(`1`, "S", 1)
	run(t, srv, []step{
		{name: "configured fault", path: "/check" + q, wantStatus: 503, wantBody: envelopeOf("maintenance")},
		{name: "fault wins over validation", path: "/check", wantStatus: 503, wantBody: envelopeOf("maintenance")},
		{name: "first refusal", path: "/subscription/create" + q, body: create, wantStatus: 422, wantBody: envelopeOf("Card declined")},
	})
	if got := v.Faults(); len(got) != 2 || got[1].Times != 1 {
		t.Errorf("faults after one use: %+v", got)
	}
	run(t, srv, []step{
		{name: "second refusal", path: "/subscription/create" + q, body: create, wantStatus: 422, wantBody: envelopeOf("Card declined")},
		{name: "used up", path: "/subscription/create" + q, body: create, wantStatus: 201, wantBody: `{"id":"vs-000001"}`},
		{name: "wrong method does not use the fault", method: "GET", path: "/check" + q, wantStatus: 405, wantBody: envelopeOf("/check takes POST, not GET")},
	})
	if got := v.Faults(); len(got) != 1 || got[0].Endpoint != "check" {
		t.Errorf("faults after use: %+v", got)
	}
	// A new fault on the same endpoint replaces the old one.
	if err := v.SetFault(Fault{Endpoint: "check", Status: 500}); err != nil {
		t.Fatal(err)
	}
	run(t, srv, []step{{name: "replaced", path: "/check" + q, wantStatus: 500, wantBody: envelopeOf(defaultFaultMessage)}})
	v.ClearFaults()
	run(t, srv, []step{{name: "cleared", path: "/check" + q, wantStatus: 200, wantBody: `{"status":"ok"}`}})
}

func TestSetFaultValidates(t *testing.T) {
	tests := []struct {
		name    string
		f       Fault
		wantErr string
	}{
		{"empty endpoint", Fault{Status: 500}, "fault: endpoint is empty"},
		{"unknown endpoint", Fault{Endpoint: "checks", Status: 500}, `unknown endpoint "checks"`},
		{"2xx status", Fault{Endpoint: "check", Status: 204}, "status 204 must be 0 (only delay) or from 400 to 599"},
		{"negative delay", Fault{Endpoint: "check", Delay: -time.Second}, "delay -1s is negative"},
		{"negative times", Fault{Endpoint: "check", Status: 500, Times: -1}, "times -1 is negative"},
		{"does nothing", Fault{Endpoint: "check"}, "fault on check does nothing"},
	}
	v := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := v.SetFault(tt.f); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SetFault(%+v) = %v, want %q", tt.f, err, tt.wantErr)
			}
		})
	}
	if n := len(v.Faults()); n != 0 {
		t.Errorf("%d invalid faults armed", n)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "fault on check does nothing") {
			t.Errorf("New with an invalid fault: recovered %v", r)
		}
	}()
	New(Config{Faults: []Fault{{Endpoint: "check"}}})
}

func TestFaultDelay(t *testing.T) {
	v, srv := newServer(t, Config{})
	if err := v.SetFault(Fault{Endpoint: "subscription/create", Delay: 150 * time.Millisecond, Times: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, srv, []step{{name: "slow but served", path: "/subscription/create" + q, body: createBody(`1`, "S", 1), wantStatus: 201, wantBody: `{"id":"vs-000001"}`}})
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %s, want at least 150ms", d)
	}
}

// TestFaultDelayHonorsCancellation: when the platform gives up, the vendor
// stops waiting and changes nothing, so that the platform's retry finds it
// as it was.
func TestFaultDelayHonorsCancellation(t *testing.T) {
	v, srv := newServer(t, Config{Faults: []Fault{{Endpoint: "subscription/create", Delay: time.Minute}}})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/subscription/create"+q, strings.NewReader(createBody(`1`, "S", 1)))
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d despite a one-minute delay", resp.StatusCode)
	}
	start := time.Now()
	srv.Close() // waits for the handler to return
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("handler kept waiting %s after the caller left", d)
	}
	if n := len(v.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions created by an abandoned call", n)
	}
	reqs := v.Requests()
	if len(reqs) != 1 || reqs[0].Status != 0 {
		t.Errorf("requests %+v, want one without an answer", reqs)
	}
}

func TestFaultJSON(t *testing.T) {
	f := Fault{Endpoint: "subscription/renew", Status: 422, Message: "x", Delay: 1500 * time.Millisecond, Times: 3}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"endpoint":"subscription/renew","status":422,"message":"x","delay_ms":1500,"times":3}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var back Fault
	if err := json.Unmarshal(b, &back); err != nil || back != f {
		t.Errorf("Unmarshal = %+v, %v; want %+v", back, err, f)
	}
	if err := json.Unmarshal([]byte(`{"endpoint":"check","delay":5}`), &back); err == nil || !strings.Contains(err.Error(), `unknown field "delay"`) {
		t.Errorf("unknown field: %v", err)
	}
}
