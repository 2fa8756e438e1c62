package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/operator"
	"github.com/apsandbox/apsandbox/sandbox/platform"
)

// TestClient drives a real sandbox through the generated client: typed
// answers for success and for errors.
func TestClient(t *testing.T) {
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/create") {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"v-1"}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer vendor.Close()
	p, err := platform.New(platform.Config{Seed: 1, VendorURL: vendor.URL}, journal.NewMemory(journal.Retention{}))
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	e := gin.New()
	operator.New(p).Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()

	c, err := client.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	plans, err := c.ListPlansWithResponse(ctx, "default")
	if err != nil || plans.JSON200 == nil {
		t.Fatalf("list plans: %v %s", err, plans.Body)
	}
	tenants, err := c.ListTenantsWithResponse(ctx, "default")
	if err != nil || tenants.JSON200 == nil || len(tenants.JSON200.Items) == 0 {
		t.Fatalf("list tenants: %v", err)
	}
	var plan *client.Plan
	for i, pl := range plans.JSON200.Items {
		if pl.BillingType == client.PlanBillingTypeRecurring && len(pl.Resources) > 0 {
			plan = &plans.JSON200.Items[i]
			break
		}
	}
	if plan == nil {
		t.Fatal("no recurring plan with resources")
	}

	order, err := c.PlaceOrderWithResponse(ctx, "default", client.PlaceOrderJSONRequestBody{TenantID: tenants.JSON200.Items[0].ID, PlanID: plan.ID})
	if err != nil || order.JSON201 == nil {
		t.Fatalf("place order: %v %d %s", err, order.StatusCode(), order.Body)
	}
	sub := order.JSON201.Subscription
	if sub.Status != client.SubscriptionStatusActive || sub.ExternalID != "v-1" {
		t.Errorf("ordered subscription: status %s external id %q, want active v-1", sub.Status, sub.ExternalID)
	}

	got, err := c.GetSubscriptionWithResponse(ctx, "default", sub.ID)
	if err != nil || got.JSON200 == nil || got.JSON200.ID != sub.ID {
		t.Fatalf("get subscription: %v %s", err, got.Body)
	}

	missing, err := c.GetSubscriptionWithResponse(ctx, "default", 987654321)
	if err != nil {
		t.Fatal(err)
	}
	if missing.JSON404 == nil || missing.JSON404.Error.Code != client.ErrorCodeNotFound {
		t.Errorf("unknown subscription: %d %s, want 404 not_found", missing.StatusCode(), missing.Body)
	}

	bad, err := c.PlaceOrderWithResponse(ctx, "default", client.PlaceOrderJSONRequestBody{TenantID: tenants.JSON200.Items[0].ID, PlanID: plan.ID,
		Resources: &client.QuantityMap{plan.Resources[0].Key: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if bad.JSON400 == nil || bad.JSON400.Error.Details == nil || (*bad.JSON400.Error.Details)[0].Field != "resources."+plan.Resources[0].Key {
		t.Errorf("negative quantity: %d %s, want 400 naming resources.%s", bad.StatusCode(), bad.Body, plan.Resources[0].Key)
	}
}
