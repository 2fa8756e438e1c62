package platform

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// recorder is a minimal vendor that accepts everything and remembers
// paths; the full behaviour is tested against the example vendor in the
// sandbox package's e2e tests.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	if req.URL.Path == "/subscription/create" {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"v-1"}`)
	}
}

func TestOrderAndRenewMoveTheWorld(t *testing.T) {
	rec := &recorder{}
	vendor := httptest.NewServer(rec)
	defer vendor.Close()
	p, err := New(Config{Seed: 1, VendorURL: vendor.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, _ := p.World(ctx, DefaultWorkspace)
	var plan world.Plan
	for _, pl := range w.Plans {
		if pl.BillingType == world.BillingRecurring && pl.DefaultPeriod() != nil && !pl.DefaultPeriod().Endless {
			plan = pl
			break
		}
	}
	res, err := p.PlaceOrder(ctx, DefaultWorkspace, OrderRequest{TenantID: w.Tenants[0].ID, PlanID: plan.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Subscription.Status, world.StatusActive; got != want {
		t.Fatalf("status %s, want %s (%s)", got, want, res.Subscription.LastError)
	}
	if res.Subscription.ExternalID != "v-1" {
		t.Errorf("external_id %q", res.Subscription.ExternalID)
	}
	exp := *res.Subscription.ExpirationDate
	res, err = p.Renew(ctx, DefaultWorkspace, res.Subscription.ID, RenewRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Subscription.ExpirationDate.After(exp) {
		t.Errorf("expiration %v not after %v", res.Subscription.ExpirationDate, exp)
	}
	if got := rec.paths; len(got) != 2 || got[0] != "/subscription/create" || got[1] != "/subscription/renew" {
		t.Errorf("vendor saw %v", got)
	}
	xs, _ := p.Exchanges(ctx, DefaultWorkspace, journalFilterAll)
	if len(xs) != 2 {
		t.Fatalf("%d exchanges", len(xs))
	}
	var body map[string]any
	json.Unmarshal(xs[1].Request.Body, &body)
	if body["external_id"] != "v-1" {
		t.Errorf("renew body external_id %v", body["external_id"])
	}
}
