package sandboxtc_test

import (
	"net/http"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtc"
)

// vendorIntegration is the README's testcontainers example, word for word:
// a vendor's integration test that starts its service, runs the sandbox in
// a container against it, and walks a subscription through its life.
// (Here the service is the example vendor.)
func vendorIntegration(t *testing.T, image string, service http.Handler) {
	ctx := t.Context()

	// Your service, listening where the container can reach it.
	ln, err := sandboxtc.ListenForContainer()
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(ln, service)
	t.Cleanup(func() { ln.Close() })

	sb, err := sandboxtc.Run(ctx, image,
		sandboxtc.WithVendor(sandboxtc.VendorURL(ln, "")),
		sandboxtc.WithWorkspace("ci"))
	testcontainers.CleanupContainer(t, sb)
	if err != nil {
		t.Fatal(err)
	}
	api, err := sb.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Seed 1 (the default) has tenant 1008 and the monthly plan 1037.
	ordered, err := api.Order(ctx, client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		t.Fatal(err)
	}
	sub := ordered.Subscription
	if sub.Status != client.SubscriptionStatusActive || sub.ExternalID == "" {
		t.Fatalf("order: %s, external id %q, %q", sub.Status, sub.ExternalID, sub.LastError)
	}
	if _, err := api.Renew(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Stop(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := api.WaitForStatus(ctx, sub.ID, client.SubscriptionStatusStopped); err != nil {
		t.Fatal(err)
	}

	// What the platform sent your service, and what it answered.
	xs, err := api.Exchanges(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range xs {
		if x.Outcome != client.OutcomeOk {
			t.Errorf("%s: %s %v", x.Event, x.Outcome, x.Error)
		}
		got = append(got, string(x.Event))
	}
	if want := "subscription.create subscription.renew subscription.stop"; join(got) != want {
		t.Errorf("exchanges: %s, want %s", join(got), want)
	}
}

func join(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// TestReadmeExample runs the README's example against the image built from
// this checkout, with the example vendor as the service.
func TestReadmeExample(t *testing.T) {
	img := image(t)
	v := examplevendor.New(examplevendor.Config{})
	vendorIntegration(t, img, v.Handler())
	// The calls really crossed from the container to the test process.
	if n := len(v.Requests()); n != 3 {
		t.Errorf("the vendor saw %d requests, want 3", n)
	}
}
