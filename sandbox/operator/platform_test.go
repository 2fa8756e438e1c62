package operator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/platform"
)

var _ Platform = (*platform.Platform)(nil)

// TestRealPlatform drives the real platform, calling a vendor that accepts
// everything, through the operator API: every answer must match
// openapi.yaml, and every body the platform sent the vendor must match
// the webhook of its event.
func TestRealPlatform(t *testing.T) {
	var (
		mu     sync.Mutex
		nextID int
	)
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/create") {
			mu.Lock()
			nextID++
			id := nextID
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":"v-%d"}`, id)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer vendor.Close()

	p, err := platform.New(platform.Config{Seed: 1, VendorURL: vendor.URL, HTTPClient: vendor.Client()}, journal.NewMemory(journal.Retention{}))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessFor(t, p)
	const ws = "/api/v1/workspaces/default"
	get := func(path string, out any) {
		t.Helper()
		code, _, raw := h.do("GET", path, "")
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, raw)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}

	var plans struct {
		Items []struct {
			ID          int64  `json:"id"`
			BillingType string `json:"billing_type"`
			Periods     []struct {
				ID      int64 `json:"id"`
				Trial   bool  `json:"trial"`
				Endless bool  `json:"endless"`
			} `json:"periods"`
			Resources []struct {
				Key      string `json:"key"`
				Included int64  `json:"included"`
				Max      int64  `json:"max"`
			} `json:"resources"`
		} `json:"items"`
	}
	get(ws+"/plans", &plans)
	var tenants struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	get(ws+"/tenants", &tenants)
	if len(plans.Items) == 0 || len(tenants.Items) == 0 {
		t.Fatal("the seeded world has no plan or no tenant")
	}

	// Order a subscription to every recurring plan with a paid period and
	// a resource, then run every operation on the first one.
	var subs []int64
	for _, pl := range plans.Items {
		if pl.BillingType != "recurring" || len(pl.Resources) == 0 {
			continue
		}
		body := fmt.Sprintf(`{"tenant_id":%d,"plan_id":%d}`, tenants.Items[0].ID, pl.ID)
		code, _, raw := h.do("POST", ws+"/subscriptions", body)
		if code != http.StatusCreated {
			t.Logf("order of plan %d: %d %s", pl.ID, code, raw)
			continue
		}
		var r struct {
			Subscription struct {
				ID int64 `json:"id"`
			} `json:"subscription"`
		}
		json.Unmarshal(raw, &r)
		subs = append(subs, r.Subscription.ID)
	}
	if len(subs) == 0 {
		t.Fatal("no order succeeded")
	}
	id := subs[0]
	one := fmt.Sprintf("%s/subscriptions/%d", ws, id)
	var sub struct {
		PlanID    int64            `json:"plan_id"`
		Resources map[string]int64 `json:"resources"`
	}
	get(one, &sub)
	var key string
	var qty int64
	for k, v := range sub.Resources {
		key, qty = k, v
	}

	other := sub.PlanID
	for _, pl := range plans.Items {
		if pl.ID != sub.PlanID && pl.BillingType == "recurring" {
			other = pl.ID
			break
		}
	}

	steps := []struct{ method, path, body string }{
		{"GET", ws + "/subscriptions?tenant_id=" + fmt.Sprint(tenants.Items[0].ID), ""},
		{"GET", fmt.Sprintf("%s/orders?subscription_id=%d", ws, id), ""},
		{"POST", one + "/renew", ""},
		{"POST", one + "/change-resources", fmt.Sprintf(`{"resources":{%q:%d}}`, key, qty+1)},
		{"PATCH", one, `{"name":"renamed"}`},
		{"POST", one + "/switch-plan", fmt.Sprintf(`{"plan_id":%d}`, other)},
		{"POST", one + "/stop", ""},
		{"POST", one + "/activate", ""},
		{"POST", one + "/retry", ""},
		{"POST", one + "/delete", ""},
		{"POST", ws + "/integration/check", ""},
		{"GET", ws + "/integration", ""},
		{"GET", ws + "/world", ""},
		{"GET", ws + "/users", ""},
		{"GET", ws + "/resellers", ""},
		{"GET", ws + "/distributors", ""},
		{"POST", "/api/v1/workspaces", `{"name":"qa-1","seed":7}`},
		{"POST", "/api/v1/workspaces/qa-1/reset", ""},
		{"GET", "/api/v1/workspaces", ""},
		{"DELETE", "/api/v1/workspaces/qa-1", ""},
		{"DELETE", ws, ""},
	}
	for _, st := range steps {
		code, _, raw := h.do(st.method, st.path, st.body)
		if code >= 500 {
			t.Errorf("%s %s: %d %s", st.method, st.path, code, raw)
		}
	}

	var page struct {
		Items []struct {
			ID      int64  `json:"id"`
			Event   string `json:"event"`
			Request struct {
				Body json.RawMessage `json:"body"`
			} `json:"request"`
		} `json:"items"`
	}
	get(ws+"/exchanges?limit=1000", &page)
	if len(page.Items) == 0 {
		t.Fatal("the journal is empty")
	}
	for _, x := range page.Items {
		if err := h.rv.ValidateWebhookBody(x.Event, x.Request.Body); err != nil {
			t.Errorf("exchange %d (%s): %v\n%s", x.ID, x.Event, err, x.Request.Body)
		}
		h.do("GET", fmt.Sprintf("%s/exchanges/%d", ws, x.ID), "")
	}
	events := map[string]int{}
	for _, x := range page.Items {
		events[x.Event]++
	}
	t.Logf("%d subscriptions ordered; %d exchanges checked: %v", len(subs), len(page.Items), events)
	if h.logs.Len() != 0 {
		t.Errorf("the operator API logged:\n%s", h.logs)
	}
}
