package sandboxtest_test

import (
	"net/http/httptest"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtest"
)

// myservice stands for the vendor's own service in the README's example.
var myservice = examplevendor.New(examplevendor.Config{})

// TestRenewal is the README's sandboxtest example, word for word.
func TestRenewal(t *testing.T) {
	vendor := httptest.NewServer(myservice.Handler()) // your service
	defer vendor.Close()
	sb := sandboxtest.New(t, sandboxtest.WithVendor(vendor.URL)) // stopped when the test ends

	// Seed 1: tenant 1008, monthly plan 1037.
	ordered, err := sb.Client().Order(t.Context(), client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		t.Fatal(err) // *client.APIError: what the platform refused
	}
	renewed, err := sb.Client().Renew(t.Context(), ordered.Subscription.ID)
	if err != nil || renewed.Subscription.Status != client.SubscriptionStatusActive {
		t.Fatalf("renew: %v %s %q", err, renewed.Subscription.Status, renewed.Subscription.LastError)
	}
}
