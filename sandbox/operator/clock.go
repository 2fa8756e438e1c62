package operator

import (
	"context"

	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
)

// GetClock reports a workspace's virtual time and its next event.
func (s *Server) GetClock(ctx context.Context, req api.GetClockRequestObject) (api.GetClockResponseObject, error) {
	c, err := s.p.Clock(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	out := api.GetClock200JSONResponse{Now: c.Now, Epoch: c.Epoch, Advancing: c.Advancing}
	if c.Next != nil {
		ev := toClockEvent(*c.Next)
		out.Next = &ev
	}
	return out, nil
}

// AdvanceClock moves a workspace clock forward and reports what fired.
func (s *Server) AdvanceClock(ctx context.Context, req api.AdvanceClockRequestObject) (api.AdvanceClockResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.p.Advance(ctx, req.Ws, platform.AdvanceRequest{By: deref(req.Body.By), To: req.Body.To})
	if err != nil {
		return nil, err
	}
	return api.AdvanceClock200JSONResponse{
		From: r.From, Now: r.Now, Events: each(r.Events, toClockEvent),
		EventsTotal: int64(r.EventsTotal), Truncated: r.Truncated,
	}, nil
}

func toClockEvent(e platform.ClockEvent) api.ClockEvent {
	out := api.ClockEvent{At: e.At, Kind: api.ClockEventKind(e.Kind), SubscriptionID: e.SubscriptionID, OrderID: nonZero(e.OrderID)}
	if e.Outcome != "" {
		o := api.ClockEventOutcome(e.Outcome)
		out.Outcome = &o
		st := api.SubscriptionStatus(e.Status)
		out.Status = &st
		ids := append([]int64{}, e.ExchangeIDs...)
		out.ExchangeIds = &ids
	}
	if e.Message != "" {
		m := e.Message
		out.Message = &m
	}
	return out
}
