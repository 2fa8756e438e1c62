package sandboxtest_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtest"
)

// A sandbox wired to a vendor service orders and renews a subscription.
// In a test, sandboxtest.New(t, …) does the same and stops the sandbox
// when the test ends; Start is for code without a *testing.T.
func Example() {
	// The vendor service under test; here the reference vendor.
	vendor := httptest.NewServer(examplevendor.New(examplevendor.Config{}).Handler())
	defer vendor.Close()

	sb, err := sandboxtest.Start(sandboxtest.WithVendor(vendor.URL), sandboxtest.WithSeed(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()
	ctx := context.Background()

	// Seed 1 has tenant 1008 and the monthly plan 1037.
	ordered, err := sb.Client().Order(ctx, client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		fmt.Println(err)
		return
	}
	sub := ordered.Subscription
	fmt.Println("ordered", sub.ID, sub.Status, "external id", sub.ExternalID)

	renewed, err := sb.Client().Renew(ctx, sub.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("renewed", renewed.Subscription.Status)
	// Output:
	// ordered 1108 active external id vs-000001
	// renewed active
}
