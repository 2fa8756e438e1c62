package conformance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtest"
	"github.com/apsandbox/apsandbox/scenarios/conformance"
)

// broken is the example vendor with one defect a real vendor might have.
type broken struct {
	defect string
	next   http.Handler

	mu      sync.Mutex
	ids     int
	stopped map[string]bool
	created map[string]bool // subscription.id of the creates seen
}

// known are the members of a subscription event body (seed 002); a
// vendor that refuses anything else breaks when the platform adds one.
var known = []string{"external_id", "distributor", "reseller", "tenant", "plan", "subscription", "attributes", "period"}

func (b *broken) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	json.Unmarshal(body, &fields)
	var ext string
	json.Unmarshal(fields["external_id"], &ext)

	switch b.defect {
	case "strict-fields":
		for k := range fields {
			if !slices.Contains(known, k) {
				http.Error(w, `{"task":{"error_message":"unknown field `+k+`"}}`, http.StatusBadRequest)
				return
			}
		}
	case "slow-delete":
		if r.URL.Path == "/subscription/delete" {
			time.Sleep(3 * time.Second)
		}
	case "stale-500":
		b.mu.Lock()
		stale := r.URL.Path == "/subscription/renew" && b.stopped[ext]
		b.mu.Unlock()
		if stale {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	rec := httptest.NewRecorder()
	b.next.ServeHTTP(rec, r)
	status, out := rec.Code, rec.Body.Bytes()

	switch b.defect {
	case "new-id-on-duplicate":
		// Not idempotent: a create seen before makes another subscription.
		if r.URL.Path == "/subscription/create" && status == http.StatusCreated {
			key := r.URL.Query().Get("ap_guid") + "/" + string(fields["subscription"])
			b.mu.Lock()
			if b.created[key] {
				b.ids++
				out = fmt.Appendf(nil, `{"id":"another-%d"}`, b.ids)
			}
			b.created[key] = true
			b.mu.Unlock()
		}
	case "accepts-unknown":
		if status == http.StatusUnprocessableEntity && strings.Contains(string(out), "not found") {
			status, out = http.StatusOK, []byte(`{}`)
		}
	case "bare-404":
		if status == http.StatusUnprocessableEntity && strings.Contains(string(out), "not found") {
			status, out = http.StatusNotFound, []byte("not found")
		}
	case "stale-500":
		if r.URL.Path == "/subscription/stop" && status == http.StatusOK {
			b.mu.Lock()
			b.stopped[ext] = true
			b.mu.Unlock()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(out)
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestConformance runs the suite against the example vendor, which
// passes every check, and against vendors with one defect each, which
// fail exactly the check that names it.
func TestConformance(t *testing.T) {
	sb := sandboxtest.New(t)
	api, err := client.NewClientWithResponses(sb.URL())
	if err != nil {
		t.Fatal(err)
	}
	all := []string{}
	for _, c := range conformance.Checks() {
		all = append(all, c.Name)
	}
	tests := []struct {
		defect     string
		wantFailed []string
	}{
		{"", nil},
		{"new-id-on-duplicate", []string{"create-idempotent"}},
		{"accepts-unknown", []string{"unknown-subscription"}},
		{"bare-404", []string{"unknown-subscription"}},
		{"stale-500", []string{"out-of-order-delivery"}},
		{"strict-fields", []string{"unknown-fields"}},
		{"slow-delete", []string{"time-budget"}},
	}
	for _, tt := range tests {
		name := tt.defect
		if name == "" {
			name = "example vendor"
		}
		t.Run(name, func(t *testing.T) {
			var h http.Handler = examplevendor.New(examplevendor.Config{}).Handler()
			if tt.defect != "" {
				h = &broken{defect: tt.defect, next: h, stopped: map[string]bool{}, created: map[string]bool{}}
			}
			rep, err := conformance.Run(t.Context(), conformance.Options{
				Sandbox: api, VendorURL: serve(t, h), Budget: 2 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, r := range rep.Results {
				if !r.Passed {
					failed = append(failed, r.Name)
					if r.Message == "" {
						t.Errorf("%s failed without saying why", r.Name)
					}
				}
				if len(r.ExchangeIDs) == 0 {
					t.Errorf("%s recorded no exchange", r.Name)
				}
			}
			if !slices.Equal(failed, tt.wantFailed) {
				for _, r := range rep.Results {
					t.Logf("%s passed=%v %s", r.Name, r.Passed, r.Message)
				}
				t.Errorf("failed checks %v, want %v", failed, tt.wantFailed)
			}
			if got, want := rep.Score(), fmt.Sprintf("%d/%d", len(all)-len(tt.wantFailed), len(all)); got != want {
				t.Errorf("score %s, want %s", got, want)
			}
		})
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	sb := sandboxtest.New(t)
	api, _ := client.NewClientWithResponses(sb.URL())
	if _, err := conformance.Run(t.Context(), conformance.Options{Sandbox: api}); err == nil {
		t.Error("no vendor: no error")
	}
	if _, err := conformance.Run(t.Context(), conformance.Options{Sandbox: api, VendorURL: "http://127.0.0.1:1", Only: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "create-idempotent") {
		t.Errorf("unknown check: %v, want an error listing the checks", err)
	}
}
