package sandbox_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

// orderAndRenew is the README's Go example, word for word: order a
// subscription with the generated client, renew it, list the exchanges.
func orderAndRenew(ctx context.Context, sandboxURL string) error {
	c, err := client.NewClientWithResponses(sandboxURL)
	if err != nil {
		return err
	}
	ordered, err := c.PlaceOrderWithResponse(ctx, "default", client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		return err
	}
	if ordered.JSON201 == nil {
		return fmt.Errorf("order: %s", ordered.Body)
	}
	sub := ordered.JSON201.Subscription
	fmt.Println("ordered", sub.ID, sub.Status, "external id", sub.ExternalID)

	renewed, err := c.RenewSubscriptionWithResponse(ctx, "default", sub.ID, client.RenewRequest{})
	if err != nil {
		return err
	}
	if renewed.JSON200 == nil {
		return fmt.Errorf("renew: %s", renewed.Body)
	}
	fmt.Println("renewed:", renewed.JSON200.Subscription.Status)

	xs, err := c.ListExchangesWithResponse(ctx, "default", nil)
	if err != nil {
		return err
	}
	for _, x := range xs.JSON200.Items {
		fmt.Println(x.Event, x.Request.Path, x.Response.Status)
	}
	return nil
}

func listen(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestReadmeExample runs the README's Go example and the ids its curl
// examples use (seed 1: tenant 1008, plan 1037, the first new
// subscription 1108) against the example vendor.
func TestReadmeExample(t *testing.T) {
	vendorURL := listen(t, examplevendor.New(examplevendor.Config{}).Handler())
	srv, err := sandbox.New(sandbox.Config{Seed: 1, VendorURL: vendorURL})
	if err != nil {
		t.Fatal(err)
	}
	base := listen(t, srv.Handler())
	if err := orderAndRenew(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	s, err := srv.Platform().Subscription(t.Context(), "default", 1108)
	if err != nil || s.Status != "active" || s.ExternalID == "" || s.TenantID != 1008 || s.PlanID != 1037 {
		t.Errorf("README's subscription 1108: %+v, %v", s, err)
	}
}
