package scenarios_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/scenarios"
)

// A scenario runs against any sandbox reachable over HTTP; here both the
// sandbox and the vendor under test (the example vendor) are in-process.
func Example() {
	vendor := httptest.NewServer(examplevendor.New(examplevendor.Config{}).Handler())
	defer vendor.Close()
	srv, err := sandbox.New(sandbox.Config{Seed: 1})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	api := httptest.NewServer(srv.Handler())
	defer api.Close()
	c, err := client.NewClientWithResponses(api.URL)
	if err != nil {
		panic(err)
	}

	sc, err := scenarios.Parse("renew.yaml", []byte(`version: 1
name: renew
steps:
  - order: {tenant_id: 1008, plan_id: 1037}
    capture: {sub: subscription.id}
    expect: {status: active, call: {path: /subscription/create, answer: {status: 201}}}
  - renew: {subscription: "${sub}"}
    expect: {status: suspended}
`))
	if err != nil {
		panic(err)
	}
	r := &scenarios.Runner{Client: c, VendorURL: vendor.URL, VendorControlURL: vendor.URL,
		RunID: func() string { return "example" }}
	rep := r.Run(context.Background(), sc)
	for _, st := range rep.Scenarios[0].Steps {
		fmt.Println(st.Name, st.Status)
		for _, f := range st.Failures {
			fmt.Println(" ", f.Message)
		}
	}
	// Output:
	// 1 order passed
	// 2 renew failed
	//   renew.yaml:8:22: status: expected "suspended", got "active"
}
