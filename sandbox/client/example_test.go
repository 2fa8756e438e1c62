package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtest"
)

// A subscription's life against a vendor, in the sandbox's default
// workspace: ordered, a renewal the vendor refuses, a stop, then every
// call the platform made.
func ExampleSession() {
	vendor := examplevendor.New(examplevendor.Config{})
	vsrv := httptest.NewServer(vendor.Handler())
	defer vsrv.Close()
	sb, err := sandboxtest.Start(sandboxtest.WithVendor(vsrv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()

	s, err := client.NewSession(sb.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Seed 1 (the default) has tenant 1008 and the monthly plan 1037.
	ordered, err := s.Order(ctx, client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		fmt.Println(err)
		return
	}
	id := ordered.Subscription.ID
	fmt.Println("ordered:", id, ordered.Subscription.Status)

	// A vendor's refusal is no error: the subscription says what happened.
	if err := vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "Card declined", Times: 1}); err != nil {
		fmt.Println(err)
		return
	}
	renewed, err := s.Renew(ctx, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("renewed: %s (%s)\n", renewed.Subscription.Status, renewed.Subscription.LastError)

	// What the platform itself refuses is an *APIError.
	_, err = s.Renew(ctx, 42)
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("renew 42:", apiErr.Status, apiErr.Code)
	}

	if _, err := s.Stop(ctx, id); err != nil {
		fmt.Println(err)
		return
	}
	stopped, err := s.WaitForStatus(ctx, id, client.SubscriptionStatusStopped)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("now:", stopped.Status)

	xs, err := s.Exchanges(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, x := range xs {
		fmt.Println(x.Event, x.Outcome, x.Response.Status)
	}
	// Output:
	// ordered: 1108 active
	// renewed: renewing_failed (Card declined)
	// renew 42: 404 not_found
	// now: stopped
	// subscription.create ok 201
	// subscription.renew refused 422
	// subscription.stop ok 200
}
