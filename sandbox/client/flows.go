package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultWorkspace is the workspace every sandbox has.
const DefaultWorkspace = "default"

// DefaultWait bounds WaitForStatus when its context has no deadline, so a
// test that forgot one fails in seconds instead of at the test timeout.
const DefaultWait = 30 * time.Second

// Session is the operator API of one workspace, with the common flows —
// order, renew, stop, wait for a status, list exchanges — as plain calls
// that return the answer or one error shape, *APIError. The whole
// generated API stays at hand through the embedded ClientWithResponses.
//
// A Session is safe for concurrent use.
type Session struct {
	*ClientWithResponses
	workspace string
}

// NewSession returns a Session on the sandbox at baseURL (e.g.
// http://127.0.0.1:8080), bound to the default workspace; In binds it to
// another. opts are the generated client's: WithHTTPClient,
// WithRequestEditorFn, and WithControlToken below.
func NewSession(baseURL string, opts ...ClientOption) (*Session, error) {
	c, err := NewClientWithResponses(baseURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Session{ClientWithResponses: c, workspace: DefaultWorkspace}, nil
}

// WithControlToken sends token as a bearer token on every request: the
// sandbox's --control-token, which lets ?raw=true show secrets.
func WithControlToken(token string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}

// In returns a Session bound to workspace, sharing s's connection and
// options.
func (s *Session) In(workspace string) *Session {
	return &Session{ClientWithResponses: s.ClientWithResponses, workspace: workspace}
}

// Workspace names the workspace s is bound to.
func (s *Session) Workspace() string { return s.workspace }

// Order places an order for a new subscription and answers once the
// vendor's /subscription/create call is over.
//
// A vendor refusal is not an error: the platform records it, so Order
// returns the subscription in installation_failed with LastError set, as
// the API does. The error is for requests the platform itself turns down
// (*APIError: unknown tenant or plan, bad quantities…) and for transport
// failures.
func (s *Session) Order(ctx context.Context, req OrderRequest) (OperationResult, error) {
	r, err := s.PlaceOrderWithResponse(ctx, s.workspace, req)
	return operation(r, err, func() *OperationResult { return r.JSON201 })
}

// Renew renews subscription id for its current period and quantities
// (the generated RenewSubscriptionWithResponse takes another period or
// quantities).
//
// As with Order, a vendor refusal is not an error: the subscription comes
// back in renewing_failed with LastError set. A renewal the platform
// forbids (non-recurring plan, endless period, an operation in progress)
// is an *APIError with code conflict, and changes nothing.
func (s *Session) Renew(ctx context.Context, id int64) (OperationResult, error) {
	r, err := s.RenewSubscriptionWithResponse(ctx, s.workspace, id, RenewRequest{})
	return operation(r, err, func() *OperationResult { return r.JSON200 })
}

// Stop stops subscription id.
//
// As with Order, a vendor refusal is not an error: the subscription comes
// back in stopping_failed with LastError set.
func (s *Session) Stop(ctx context.Context, id int64) (OperationResult, error) {
	r, err := s.StopSubscriptionWithResponse(ctx, s.workspace, id)
	return operation(r, err, func() *OperationResult { return r.JSON200 })
}

// Advance moves the workspace clock forward by a span ("7d", "1mo",
// "13mo") and returns what fired: renewals, expiries, stops, deletions
// and notices, in the order they happened.
func (s *Session) Advance(ctx context.Context, by string) (ClockAdvanceResult, error) {
	r, err := s.AdvanceClockWithResponse(ctx, s.workspace, ClockAdvanceRequest{By: &by})
	if err := check(r, err); err != nil {
		return ClockAdvanceResult{}, err
	}
	if r.JSON200 == nil {
		return ClockAdvanceResult{}, unexpected(r)
	}
	return *r.JSON200, nil
}

// Subscription gets subscription id.
func (s *Session) Subscription(ctx context.Context, id int64) (Subscription, error) {
	r, err := s.GetSubscriptionWithResponse(ctx, s.workspace, id)
	if err := check(r, err); err != nil {
		return Subscription{}, err
	}
	if r.JSON200 == nil {
		return Subscription{}, unexpected(r)
	}
	return *r.JSON200, nil
}

// WaitForStatus polls subscription id until its status is want, for the
// changes that do not happen within the request that caused them (clock
// automation, manual provisioning, a slow vendor seen from another
// goroutine). It polls quickly at first, then every 250 ms at most.
//
// It gives up when ctx is done — after DefaultWait when ctx has no
// deadline — with an error naming the last status and last error seen,
// which wraps ctx's error. An API error (an unknown subscription) ends
// the wait at once.
func (s *Session) WaitForStatus(ctx context.Context, id int64, want SubscriptionStatus) (Subscription, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	start := time.Now()
	delay := 5 * time.Millisecond
	var last Subscription
	for {
		sub, err := s.Subscription(ctx, id)
		switch {
		case err == nil:
			last = sub
			if sub.Status == want {
				return sub, nil
			}
		case ctx.Err() == nil:
			return last, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return last, waitError(id, want, last, time.Since(start), ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

func waitError(id int64, want SubscriptionStatus, last Subscription, waited time.Duration, cause error) error {
	seen := "no answer"
	if last.ID != 0 {
		seen = "status " + string(last.Status)
		if last.LastError != "" {
			seen += fmt.Sprintf(" (last error %q)", last.LastError)
		}
	}
	return fmt.Errorf("subscription %d: still %s after %s, want %s: %w",
		id, seen, waited.Round(time.Millisecond), want, cause)
}

// Exchanges lists the workspace's exchanges that match filter (nil: all),
// oldest first, following next_cursor over every page. filter.Limit, when
// set, is the page size; filter is not modified.
func (s *Session) Exchanges(ctx context.Context, filter *ListExchangesParams) ([]Exchange, error) {
	var p ListExchangesParams
	if filter != nil {
		p = *filter
	}
	var all []Exchange
	for {
		r, err := s.ListExchangesWithResponse(ctx, s.workspace, &p)
		if err := check(r, err); err != nil {
			return all, err
		}
		if r.JSON200 == nil {
			return all, unexpected(r)
		}
		all = append(all, r.JSON200.Items...)
		if r.JSON200.NextCursor == "" {
			return all, nil
		}
		after, err := strconv.ParseInt(r.JSON200.NextCursor, 10, 64)
		if err != nil {
			return all, fmt.Errorf("list exchanges: next_cursor %q is not an id", r.JSON200.NextCursor)
		}
		p.AfterID = &after
	}
}

// APIError is an error answer of the operator API:
// {"error": {"code", "message", "details"}} and its HTTP status. Status
// tells apart answers that share a code, Code is what to branch on.
type APIError struct {
	Status  int
	Code    ErrorCode
	Message string
	Details []ErrorDetail
}

// Error names the status, code, message and every detail, so that a
// failed test's log says what the sandbox objected to.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apsandbox: %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	for i, d := range e.Details {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s: %s", sep, d.Field, d.Problem)
	}
	if len(e.Details) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// Response is what every generated *…Response has.
type Response interface {
	StatusCode() int
	GetBody() []byte
}

// ResponseError returns nil for a 2xx answer and an *APIError for any
// other, so that calls made with the generated client directly report
// errors in the same shape as Session's. An answer that is not in the
// error shape (a proxy's page) keeps the start of its body as Message.
func ResponseError(r Response) error {
	status := r.StatusCode()
	if status >= 200 && status < 300 {
		return nil
	}
	e := &APIError{Status: status}
	var body Error
	if err := json.Unmarshal(r.GetBody(), &body); err == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		if body.Error.Details != nil {
			e.Details = *body.Error.Details
		}
		return e
	}
	msg := bytes.TrimSpace(r.GetBody())
	if len(msg) > 200 {
		msg = append(msg[:200:200], "…"...)
	}
	e.Message = string(msg)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// check folds a transport error and an error answer into one error.
func check(r Response, err error) error {
	if err != nil {
		return fmt.Errorf("apsandbox: %w", err)
	}
	return ResponseError(r)
}

// operation is the common tail of Order, Renew and Stop.
func operation(r Response, err error, body func() *OperationResult) (OperationResult, error) {
	if err := check(r, err); err != nil {
		return OperationResult{}, err
	}
	res := body()
	if res == nil {
		return OperationResult{}, unexpected(r)
	}
	return *res, nil
}

// unexpected reports a 2xx answer the spec does not describe, which only
// a sandbox of another version (or something else on the port) gives.
func unexpected(r Response) error {
	return fmt.Errorf("apsandbox: unexpected answer %d: %.200s", r.StatusCode(), r.GetBody())
}
