package operator

import (
	"context"

	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// The fake's metering methods: answers with every metering field set, so
// that the conversions are checked against the document.

func (f *fakePlatform) PullUsage(ctx context.Context, ws string, id int64) (platform.Result, error) {
	if err := f.enter(ws, id); err != nil {
		return platform.Result{}, err
	}
	r, err := f.result(id)
	if err != nil {
		return r, err
	}
	r.Order = nil
	at := t1()
	r.Subscription.Usage, r.Subscription.UsageUpdatedAt = map[string]int64{"user_licenses": 7}, &at
	r.Warnings = []string{`the vendor reported usage of "disk", which plan 8 has no resource for; ignored`}
	return r, nil
}

func (f *fakePlatform) PullConsumption(ctx context.Context, ws string, id int64, req platform.ConsumptionRequest) (platform.ConsumptionResult, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.ConsumptionResult{}, err
	}
	r, err := f.result(id)
	if err != nil {
		return platform.ConsumptionResult{}, err
	}
	if id == 15 {
		return platform.ConsumptionResult{}, world.Errorf(world.CodeConflict, "subscription 15 is not pay-as-you-go")
	}
	r.Order = nil
	c := world.Charge{Resource: "user_licenses", Units: "123.5", UnitPrice: 350, Amount: 43225, Currency: "USD", From: t0(), To: t1(), ExchangeID: 3}
	to := t1()
	r.Subscription.Charges, r.Subscription.ConsumedTo = []world.Charge{c}, &to
	return platform.ConsumptionResult{Result: r, From: t0(), To: t1(), Charges: []world.Charge{c}}, nil
}

func (f *fakePlatform) OrderAttributes(ctx context.Context, ws string, req platform.OrderAttributesRequest) (platform.OrderAttributesResult, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.OrderAttributesResult{}, err
	}
	if _, err := find(f.w.Tenants, req.TenantID, func(v world.Tenant) int64 { return v.ID }, "tenant"); err != nil {
		return platform.OrderAttributesResult{}, world.Invalid("tenant_id", "tenant %d not found", req.TenantID)
	}
	return platform.OrderAttributesResult{OK: true, ExchangeID: 3, Attributes: []vendorapi.OrderAttribute{
		{Key: "domain", Label: "Domain", Type: "string", Required: true, Values: []string{}},
		{Key: "region", Label: "Region", Type: "enum", Values: []string{"eu", "us"}},
	}}, nil
}
