package operator

// Handlers of manual provisioning mode and manual approval: complete and
// fail a manual operation, approve and decline a waiting stop or delete,
// and the outbox of e-mails.

import (
	"context"
	"strconv"

	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// Paging of the outbox, as of the exchange list.
const (
	defaultOutboxLimit = 100
	maxOutboxLimit     = 1000
)

// CompleteSubscription reports a manual operation done.
func (s *Server) CompleteSubscription(ctx context.Context, req api.CompleteSubscriptionRequestObject) (api.CompleteSubscriptionResponseObject, error) {
	var cr platform.CompleteRequest
	if b := req.Body; b != nil {
		cr = platform.CompleteRequest{ExternalID: deref(b.ExternalID), Attributes: stringsOf(b.Attributes)}
	}
	r, err := s.p.Complete(ctx, req.Ws, req.ID, cr)
	if err != nil {
		return nil, err
	}
	return api.CompleteSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// FailSubscription reports a manual operation failed.
func (s *Server) FailSubscription(ctx context.Context, req api.FailSubscriptionRequestObject) (api.FailSubscriptionResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.p.Fail(ctx, req.Ws, req.ID, req.Body.Message)
	if err != nil {
		return nil, err
	}
	return api.FailSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// ApproveSubscription carries out a stop or delete waiting for approval.
func (s *Server) ApproveSubscription(ctx context.Context, req api.ApproveSubscriptionRequestObject) (api.ApproveSubscriptionResponseObject, error) {
	r, err := s.p.Approve(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.ApproveSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// DeclineSubscription refuses a stop or delete waiting for approval.
func (s *Server) DeclineSubscription(ctx context.Context, req api.DeclineSubscriptionRequestObject) (api.DeclineSubscriptionResponseObject, error) {
	r, err := s.p.Decline(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.DeclineSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// ListOutbox lists the e-mails sent, one page at a time.
func (s *Server) ListOutbox(ctx context.Context, req api.ListOutboxRequestObject) (api.ListOutboxResponseObject, error) {
	p := req.Params
	limit := int(deref(p.Limit))
	if limit <= 0 {
		limit = defaultOutboxLimit
	}
	limit = min(limit, maxOutboxLimit)
	if p.Operation != nil && *p.Operation == "" {
		return nil, world.Invalid("operation", "must not be empty")
	}
	mails, err := s.p.Outbox(ctx, req.Ws, platform.OutboxFilter{
		Operation:      deref(p.Operation),
		SubscriptionID: deref(p.SubscriptionID),
		UserID:         deref(p.UserID),
		AfterID:        deref(p.AfterID),
		// One more than the page, to know whether there is a next one.
		Limit: limit + 1,
	})
	if err != nil {
		return nil, err
	}
	cursor := ""
	if len(mails) > limit {
		mails = mails[:limit]
		cursor = strconv.FormatInt(mails[len(mails)-1].ID, 10)
	}
	return api.ListOutbox200JSONResponse{Items: each(mails, toMail), NextCursor: cursor}, nil
}

func toMail(m world.Mail) api.Mail {
	return api.Mail{
		ID: m.ID, To: m.To, Subject: m.Subject, Body: m.Body, Operation: m.Operation,
		SubscriptionID: nonZero(m.SubscriptionID), UserID: nonZero(m.UserID), CreatedAt: m.CreatedAt,
	}
}
