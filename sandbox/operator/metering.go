package operator

// The handlers and conversions of the optional call families: usage,
// consumption and order attributes (resource validation and attributes
// validation ride on the existing operations, answering a refusal).

import (
	"context"

	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// PullUsage pulls the resources in use from the vendor.
func (s *Server) PullUsage(ctx context.Context, req api.PullUsageRequestObject) (api.PullUsageResponseObject, error) {
	r, err := s.p.PullUsage(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.PullUsage200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// PullConsumption pulls and charges a pay-as-you-go subscription's
// consumption.
func (s *Server) PullConsumption(ctx context.Context, req api.PullConsumptionRequestObject) (api.PullConsumptionResponseObject, error) {
	var cr platform.ConsumptionRequest
	if req.Body != nil {
		cr = platform.ConsumptionRequest{From: req.Body.From, To: req.Body.To}
	}
	r, err := s.p.PullConsumption(ctx, req.Ws, req.ID, cr)
	if err != nil {
		return nil, err
	}
	return api.PullConsumption200JSONResponse(toConsumptionResult(r)), nil
}

// GetOrderAttributes asks the vendor for a plan's order attributes.
func (s *Server) GetOrderAttributes(ctx context.Context, req api.GetOrderAttributesRequestObject) (api.GetOrderAttributesResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.p.OrderAttributes(ctx, req.Ws, platform.OrderAttributesRequest{TenantID: req.Body.TenantID, PlanID: req.Body.PlanID})
	if err != nil {
		return nil, err
	}
	out := api.OrderAttributesResult{Ok: r.OK, Message: r.Message, ExchangeID: r.ExchangeID, OrderAttributes: []api.OrderAttributeDefinition{}}
	for _, d := range r.Attributes {
		out.OrderAttributes = append(out.OrderAttributes, api.OrderAttributeDefinition{
			Key: d.Key, Label: d.Label, Type: d.Type, Required: d.Required, Values: append([]string{}, d.Values...),
		})
	}
	return api.GetOrderAttributes200JSONResponse(out), nil
}

// toMetering fills the subscription's metering fields, which are absent
// until the first pull.
func toMetering(out *api.Subscription, m world.Metering) {
	if m.Usage != nil {
		q := quantityMap(m.Usage)
		out.Usage = &q
	}
	if m.UsageUpdatedAt != nil {
		t := *m.UsageUpdatedAt
		out.UsageUpdatedAt = &t
	}
	if m.Charges != nil {
		cs := each(m.Charges, toCharge)
		out.Charges = &cs
	}
	if m.ConsumedTo != nil {
		t := *m.ConsumedTo
		out.ConsumedTo = &t
	}
}

func toCharge(c world.Charge) api.Charge {
	return api.Charge{
		Resource: c.Resource, Units: c.Units, UnitPrice: int64(c.UnitPrice), Amount: int64(c.Amount),
		Currency: c.Currency, From: c.From, To: c.To, ExchangeID: c.ExchangeID,
	}
}

func toRefusal(r *platform.Refusal) *api.Refusal {
	if r == nil {
		return nil
	}
	return &api.Refusal{Stage: api.RefusalStage(r.Stage), Message: r.Message}
}

func toConsumptionResult(r platform.ConsumptionResult) api.ConsumptionResult {
	return api.ConsumptionResult{
		Subscription: toSubscription(r.Subscription),
		ExchangeIds:  append([]int64{}, r.ExchangeIDs...),
		Warnings:     append([]string{}, r.Warnings...),
		Refusal:      toRefusal(r.Refusal),
		From:         r.From,
		To:           r.To,
		Charges:      each(r.Charges, toCharge),
	}
}
