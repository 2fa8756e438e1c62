package vendorapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

func TestCallURL(t *testing.T) {
	tests := []struct {
		name string
		call Call
		want string
	}{
		{"renew", Call{Event: EventSubscriptionRenew, Settings: DefaultSettings("http://v.example/api/"), APGUID: "g-1", ResellerID: 12},
			"http://v.example/api/subscription/renew?ap_guid=g-1&reseller_id=12"},
		{"create keeps query by default", Call{Event: EventSubscriptionCreate, Settings: DefaultSettings("http://v.example"), APGUID: "g", ResellerID: 3},
			"http://v.example/subscription/create?ap_guid=g&reseller_id=3"},
		{"create without query", Call{Event: EventSubscriptionCreate, Settings: func() Settings {
			s := DefaultSettings("http://v.example")
			s.OmitCreateQuery = true
			return s
		}(), APGUID: "g", ResellerID: 3}, "http://v.example/subscription/create"},
		{"renew routed to update", Call{Event: EventSubscriptionRenew, Settings: func() Settings {
			s := DefaultSettings("http://v.example")
			s.Paths = map[string]string{"subscription.renew": "/subscription/update"}
			return s
		}(), APGUID: "g", ResellerID: 3}, "http://v.example/subscription/update?ap_guid=g&reseller_id=3"},
		{"check", Call{Event: EventCheck, Settings: DefaultSettings("http://v.example"), APGUID: "a b", ResellerID: 1},
			"http://v.example/check?ap_guid=a+b&reseller_id=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.call.URL(); got != tt.want {
				t.Errorf("URL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSendReadsAnswers(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		expectID    bool
		wantOK      bool
		wantOutcome string
		wantMessage string
		wantID      string
	}{
		{"create ok", 201, `{"id":"vs-1","attributes":{"login":"x"}}`, true, true, journal.OutcomeOK, "", "vs-1"},
		{"create numeric id", 201, `{"id":42}`, true, true, journal.OutcomeOK, "", "42"},
		{"create without id", 201, `{}`, true, false, journal.OutcomeRefused, "vendor answered 201 without an id; a create call must return {\"id\": …}", ""},
		{"create not json", 201, `ok`, true, false, journal.OutcomeRefused, "vendor answered 201 but the body is not the documented {\"id\": …}: invalid character 'o' looking for beginning of value", ""},
		{"renew ok empty", 200, ``, false, true, journal.OutcomeOK, "", ""},
		{"task envelope", 422, `{"task":{"error_message":"Subscription must have an expiration date to be eligible for renew."}}`, false, false, journal.OutcomeRefused, "Subscription must have an expiration date to be eligible for renew.", ""},
		{"plain error", 500, "boom\n", false, false, journal.OutcomeRefused, "vendor answered HTTP 500: boom", ""},
		{"empty error", 503, "", false, false, journal.OutcomeRefused, "vendor answered HTTP 503 with an empty body", ""},
		{"redirect is an answer", 302, "", false, false, journal.OutcomeRefused, "vendor answered HTTP 302 with an empty body", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotReq *http.Request
			var gotBody string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				gotReq, gotBody = r, string(b)
				if tt.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			set := DefaultSettings(srv.URL)
			set.Headers = map[string]string{"Authorization": "Bearer t0ken"}
			c := NewClient(nil, "test")
			a := c.Send(context.Background(), Call{Event: EventSubscriptionRenew, Settings: set, APGUID: "g", ResellerID: 7, Body: map[string]int{"a": 1}, ExpectID: tt.expectID})
			if a.OK != tt.wantOK || a.Exchange.Outcome != tt.wantOutcome || a.Message != tt.wantMessage || a.ID != tt.wantID {
				t.Errorf("got ok=%v outcome=%q message=%q id=%q, want ok=%v outcome=%q message=%q id=%q",
					a.OK, a.Exchange.Outcome, a.Message, a.ID, tt.wantOK, tt.wantOutcome, tt.wantMessage, tt.wantID)
			}
			if gotReq.Method != http.MethodPost || gotReq.URL.RawQuery != "ap_guid=g&reseller_id=7" {
				t.Errorf("request %s %s, want POST with ap_guid and reseller_id", gotReq.Method, gotReq.URL)
			}
			if got := gotReq.Header.Get("Authorization"); got != "Bearer t0ken" {
				t.Errorf("Authorization = %q, want the configured header", got)
			}
			if ct := gotReq.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if gotBody != `{"a":1}` {
				t.Errorf("body = %q", gotBody)
			}
			if a.Exchange.Response == nil || a.Exchange.Response.Status != tt.status {
				t.Errorf("recorded response %+v, want status %d", a.Exchange.Response, tt.status)
			}
			if string(a.Exchange.Request.Body) != `{"a":1}` || a.Exchange.Request.Query["reseller_id"] != "7" {
				t.Errorf("recorded request %+v", a.Exchange.Request)
			}
		})
	}
}

func TestSendTransportFailures(t *testing.T) {
	// A port nobody listens on: bind, then close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	tests := []struct {
		name        string
		url         string
		timeoutMS   int
		wantOutcome string
		wantMsg     string
	}{
		{"refused connection", dead, 2000, journal.OutcomeError, "cannot connect to the vendor"},
		{"timeout", slow.URL, 100, journal.OutcomeTimeout, "vendor did not answer within 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := DefaultSettings(tt.url)
			set.TimeoutMS = tt.timeoutMS
			a := NewClient(nil, "test").Send(context.Background(), Call{Event: EventSubscriptionStop, Settings: set, APGUID: "g", ResellerID: 1, Body: struct{}{}})
			if a.OK || a.Exchange.Outcome != tt.wantOutcome || !strings.Contains(a.Message, tt.wantMsg) {
				t.Errorf("got ok=%v outcome=%q message=%q; want outcome %q containing %q", a.OK, a.Exchange.Outcome, a.Message, tt.wantOutcome, tt.wantMsg)
			}
			if a.Exchange.Response != nil {
				t.Errorf("a failed transport recorded a response: %+v", a.Exchange.Response)
			}
			if a.Exchange.DurationMS <= 0 || a.Exchange.StartedAt.IsZero() || time.Since(a.Exchange.StartedAt) > time.Minute {
				t.Errorf("timing not recorded: %+v", a.Exchange)
			}
		})
	}
}

func TestSettingsValidate(t *testing.T) {
	ok := DefaultSettings("http://vendor.example:9090/api")
	tests := []struct {
		name      string
		mutate    func(*Settings)
		wantField string
	}{
		{"defaults", func(*Settings) {}, ""},
		{"empty api_path allowed", func(s *Settings) { s.APIPath = "" }, ""},
		{"bad mode", func(s *Settings) { s.Mode = "auto" }, "mode"},
		{"relative api_path", func(s *Settings) { s.APIPath = "vendor/api" }, "api_path"},
		{"ftp api_path", func(s *Settings) { s.APIPath = "ftp://x" }, "api_path"},
		{"query in api_path", func(s *Settings) { s.APIPath = "http://x/?a=1" }, "api_path"},
		{"negative timeout", func(s *Settings) { s.TimeoutMS = -1 }, "timeout_ms"},
		{"unknown event path", func(s *Settings) { s.Paths = map[string]string{"subscription.renovate": "/x"} }, "paths.subscription.renovate"},
		{"path without slash", func(s *Settings) { s.Paths = map[string]string{"subscription.renew": "renew"} }, "paths.subscription.renew"},
		{"header with newline", func(s *Settings) { s.Headers = map[string]string{"X-Token": "a\r\nb"} }, "headers.X-Token"},
		{"content-type header", func(s *Settings) { s.Headers = map[string]string{"content-type": "text/plain"} }, "headers.content-type"},
		{"email with zero-width space", func(s *Settings) { s.NotificationEmail = "ops\u200b@vendor.example" }, "notification_email"},
		{"dispatch bounds", func(s *Settings) { s.DispatchConcurrency, s.DispatchRate, s.BillingNoticeDays = 256, 0.1, -1 }, ""},
		{"too many in flight", func(s *Settings) { s.DispatchConcurrency = 257 }, "dispatch_concurrency"},
		{"negative concurrency", func(s *Settings) { s.DispatchConcurrency = -1 }, "dispatch_concurrency"},
		{"a rate that would stall an advance", func(s *Settings) { s.DispatchRate = 0.01 }, "dispatch_rate"},
		{"negative rate", func(s *Settings) { s.DispatchRate = -1 }, "dispatch_rate"},
		{"notice before the previous billing day", func(s *Settings) { s.BillingNoticeDays = 28 }, "billing_notice_days"},
		{"notice of a negative lead", func(s *Settings) { s.BillingNoticeDays = -2 }, "billing_notice_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			s.Paths, s.Headers = map[string]string{}, map[string]string{}
			tt.mutate(&s)
			err := s.Validate()
			got := ""
			if err != nil {
				got = fieldOf(err)
			}
			if got != tt.wantField {
				t.Errorf("Validate() field = %q (err %v), want %q", got, err, tt.wantField)
			}
		})
	}
}
