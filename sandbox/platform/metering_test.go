package platform

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// meteringVendor answers usage and consumption of any subscription with
// fixed bodies, so the seeded pay-as-you-go subscription can be pulled.
func meteringVendor(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/subscription/usage":
			io.WriteString(w, `{"resources":[{"key":"vcpu_hours","usage":3}]}`)
		case "/subscription/consumption":
			io.WriteString(w, `{"resources":[{"key":"vcpu_hours","consumed":10.25},{"key":"egress_gb","consumed":2}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// pullBoth turns the toggles on and pulls usage and a day of consumption
// of the seeded pay-as-you-go subscription.
func pullBoth(t *testing.T, p *Platform, vendorURL string) {
	t.Helper()
	ctx := context.Background()
	set := vendorapi.DefaultSettings(vendorURL)
	set.AllowUsageURL, set.AllowConsumptionURL = true, true
	if _, err := p.SetIntegration(ctx, DefaultWorkspace, set); err != nil {
		t.Fatal(err)
	}
	w, _ := p.World(ctx, DefaultWorkspace)
	var s *world.Subscription
	for i := range w.Subscriptions {
		if pl, _ := w.Plan(w.Subscriptions[i].PlanID); pl.BillingType == world.BillingPayAsYouGo && w.Subscriptions[i].ExternalID != "" {
			s = &w.Subscriptions[i]
			break
		}
	}
	if s == nil {
		t.Fatal("no provisioned pay-as-you-go subscription in seed 1")
	}
	if r, err := p.PullUsage(ctx, DefaultWorkspace, s.ID); err != nil || r.Refusal != nil {
		t.Fatalf("usage: %v %+v", err, r.Refusal)
	}
	to := s.StartDate.Add(24 * time.Hour)
	r, err := p.PullConsumption(ctx, DefaultWorkspace, s.ID, ConsumptionRequest{To: &to})
	if err != nil || r.Refusal != nil || len(r.Charges) != 2 {
		t.Fatalf("consumption: %v %+v", err, r)
	}
	// vcpu_hours at 4: 41; egress_gb at 9: 18.
	if c := r.Charges; c[0].Amount != 41 || c[0].Units != "10.25" || c[1].Amount != 18 || c[0].ExchangeID == 0 || c[0].ExchangeID != r.ExchangeIDs[0] {
		t.Errorf("charges %+v", c)
	}
	// The clock calls it with the default period: the rest up to now.
	if r, err := p.PullConsumption(ctx, DefaultWorkspace, s.ID, ConsumptionRequest{}); err != nil || !r.From.Equal(to) || r.Refusal != nil {
		t.Errorf("default period: %v from %s, want from %s", err, r.From, to)
	}
}

// TestMeteringPersistsAndRepeats: usage and charges survive a restart,
// and the same seed and pulls give the same world.
func TestMeteringPersistsAndRepeats(t *testing.T) {
	vendor := meteringVendor(t)
	dir := t.TempDir()
	store := openStore(t, dir)
	p, err := New(Config{Seed: 1, VendorURL: vendor.URL}, store)
	if err != nil {
		t.Fatal(err)
	}
	pullBoth(t, p, vendor.URL)
	before := snapshot(t, p)
	store.Close()
	store2 := openStore(t, dir)
	defer store2.Close()
	p2, err := New(Config{Seed: 1, VendorURL: vendor.URL}, store2)
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, p2); after["default/world"] != before["default/world"] {
		t.Errorf("the restored world differs:\n%s\n%s", before["default/world"], after["default/world"])
	}

	p3, err := New(Config{Seed: 1, VendorURL: vendor.URL}, journal.NewMemory(journal.Retention{}))
	if err != nil {
		t.Fatal(err)
	}
	pullBoth(t, p3, vendor.URL)
	w1, _ := p.World(context.Background(), DefaultWorkspace)
	w3, _ := p3.World(context.Background(), DefaultWorkspace)
	b1, _ := json.Marshal(w1)
	b3, _ := json.Marshal(w3)
	if string(b1) != string(b3) {
		t.Error("the same seed and the same pulls gave different worlds")
	}
}
