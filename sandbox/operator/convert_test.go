package operator

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// TestConvertMatchesDomainJSON: what the API answers is what the domain
// types marshal to, field for field, except that the API leaves out what
// the domain marshals as null (expiration_date of an endless subscription).
func TestConvertMatchesDomainJSON(t *testing.T) {
	fx := fixtureWorld()
	order := fx.Orders[0]
	tests := []struct {
		name        string
		domain, api any
	}{
		{"fixture world", fx, toWorld(fx)},
		{"workspace", fixtureWorkspace(), toWorkspaceInfo(fixtureWorkspace())},
		{"settings", fixtureSettings(), toSettings(fixtureSettings())},
		{"check", platform.CheckResult{Ready: false, Message: "vendor answered HTTP 404", URL: "http://v/check", ExchangeID: 9}, toCheckResult(platform.CheckResult{Ready: false, Message: "vendor answered HTTP 404", URL: "http://v/check", ExchangeID: 9})},
		{"result with order", platform.Result{Subscription: fx.Subscriptions[1], Order: &order, ExchangeIDs: []int64{1, 2}, Warnings: []string{"w"}},
			toOperationResult(platform.Result{Subscription: fx.Subscriptions[1], Order: &order, ExchangeIDs: []int64{1, 2}, Warnings: []string{"w"}})},
		{"result without order", platform.Result{Subscription: fx.Subscriptions[0], ExchangeIDs: []int64{}, Warnings: []string{}},
			toOperationResult(platform.Result{Subscription: fx.Subscriptions[0], ExchangeIDs: []int64{}, Warnings: []string{}})},
	}
	for i, x := range fixtureExchanges() {
		tests = append(tests, struct {
			name        string
			domain, api any
		}{fmt.Sprintf("exchange %d", i+1), x, toExchange(x)})
	}
	for _, seed := range []int64{1, 7, 99} {
		w := world.Generate(seed, t0())
		tests = append(tests, struct {
			name        string
			domain, api any
		}{fmt.Sprintf("generated world %d", seed), w, toWorld(w)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := withoutNulls(t, tt.domain)
			got := withoutNulls(t, tt.api)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("API JSON differs from the domain JSON:\n%s", strings.Join(diff("", got, want), "\n"))
			}
		})
	}
}

// TestConvertNeverNull: empty lists and maps are [] and {}, never null.
func TestConvertNeverNull(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"empty world", toWorld(&world.World{})},
		{"empty result", toOperationResult(platform.Result{})},
		{"empty plan", toPlan(world.Plan{})},
		{"empty subscription", toSubscription(world.Subscription{})},
		{"empty settings", toSettings(vendorapi.Settings{})},
		{"empty exchange", toExchange(journal.Exchange{})},
		{"empty page", toExchangeList(nil, 10)},
	}
	for _, tt := range tests {
		raw, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "null") {
			t.Errorf("%s: %s has a null", tt.name, raw)
		}
	}
}

// withoutNulls is v as generic JSON, with null members removed.
func withoutNulls(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return dropNulls(out)
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(x)
			}
		}
	case []any:
		for i, x := range v {
			v[i] = dropNulls(x)
		}
	}
	return v
}

// diff lists the paths where got and want differ.
func diff(path string, got, want any) []string {
	gm, gok := got.(map[string]any)
	wm, wok := want.(map[string]any)
	if gok && wok {
		var out []string
		for k := range wm {
			if _, ok := gm[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing, want %v", path, k, wm[k]))
			}
		}
		for k := range gm {
			if _, ok := wm[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: %v, want nothing", path, k, gm[k]))
				continue
			}
			out = append(out, diff(path+"."+k, gm[k], wm[k])...)
		}
		return out
	}
	ga, gok := got.([]any)
	wa, wok := want.([]any)
	if gok && wok && len(ga) == len(wa) {
		var out []string
		for i := range ga {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), ga[i], wa[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(got, want) {
		return []string{fmt.Sprintf("%s: %v, want %v", path, got, want)}
	}
	return nil
}
