package examplevendor_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

// The platform creates a subscription, retries the create (same
// subscription.id, now as a string), and renews while a fault makes the
// vendor refuse.
func Example() {
	v := examplevendor.New(examplevendor.Config{})
	srv := httptest.NewServer(v.Handler())
	defer srv.Close()

	post := func(path, body string) {
		resp, err := http.Post(srv.URL+path+"?ap_guid=6f1c&reseller_id=12", "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s %d %s", path, resp.StatusCode, b)
	}
	create := `{"reseller":{"id":12},"tenant":{"id":710},"subscription":{"id":%s},
		"plan":{"name":"Pro","sku":"PRO-M","resources":[{"key":"users","quantity":10}]}}`
	post("/subscription/create", fmt.Sprintf(create, `3007255`))
	post("/subscription/create", fmt.Sprintf(create, `"3007255"`))

	if err := v.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "Card declined", Times: 1}); err != nil {
		fmt.Println(err)
	}
	post("/subscription/renew", `{"external_id":"vs-000001"}`)
	post("/subscription/renew", `{"external_id":"vs-000001"}`)
	post("/subscription/usage", `{"external_id":"vs-000001"}`)

	fmt.Println(len(v.Subscriptions()), "subscription,", len(v.Requests()), "requests")
	// Output:
	// /subscription/create 201 {"id":"vs-000001"}
	// /subscription/create 201 {"id":"vs-000001"}
	// /subscription/renew 422 {"task":{"error_message":"Card declined"}}
	// /subscription/renew 200 {}
	// /subscription/usage 200 {"resources":[{"key":"users","usage":5}]}
	// 1 subscription, 5 requests
}
