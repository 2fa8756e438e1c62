package sandboxtc_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/testcontainers/testcontainers-go"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/sandboxtc"
)

// A vendor's service (here the example vendor) and the sandbox in a
// container calling it. `make docker` tags the image sandboxtc.DefaultImage;
// this example runs the image built from the checkout under test.
func ExampleRun() {
	ctx := context.Background()
	img, err := buildImageOnce()
	if err != nil {
		fmt.Println(err)
		return
	}

	ln, err := sandboxtc.ListenForContainer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go http.Serve(ln, examplevendor.New(examplevendor.Config{}).Handler())

	sb, err := sandboxtc.Run(ctx, img, sandboxtc.WithVendor(sandboxtc.VendorURL(ln, "")), sandboxtc.WithSeed(1))
	defer testcontainers.TerminateContainer(sb)
	if err != nil {
		fmt.Println(err)
		return
	}
	api, err := sb.Client(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	check, err := api.CheckIntegrationWithResponse(ctx, api.Workspace())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(check.JSON200.Message)

	ordered, err := api.Order(ctx, client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("subscription", ordered.Subscription.ID, ordered.Subscription.Status)
	// Output:
	// Your integration is ready to use.
	// subscription 1108 active
}

// buildImageOnce is image without a testing.TB, for the example.
func buildImageOnce() (string, error) {
	imageOnce.Do(func() { imageTag, imageErr = buildImage() })
	return imageTag, imageErr
}
