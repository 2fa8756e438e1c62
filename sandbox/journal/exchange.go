// Package journal keeps the record of every exchange between the sandbox and
// a vendor service: what was sent, what came back, how long it took and what
// the platform made of it. Recording is what lets a vendor inspect, export,
// replay and diff its integration, so every call goes through here.
package journal

import (
	"encoding/json"
	"time"
)

// Outcomes of an exchange, from the platform's point of view.
const (
	// OutcomeOK: the vendor answered 2xx with what the protocol expects.
	OutcomeOK = "ok"
	// OutcomeRefused: the vendor answered, but refused (non-2xx) or answered
	// something the platform cannot use (a create without an id).
	OutcomeRefused = "refused"
	// OutcomeTimeout: no answer within the workspace's timeout.
	OutcomeTimeout = "timeout"
	// OutcomeError: the call failed in transport (refused connection, DNS,
	// TLS, reset).
	OutcomeError = "error"
)

// Request is what the sandbox sent.
type Request struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	Path   string `json:"path"`
	// Endpoint is the event's path below the vendor's api_path (for
	// example "/subscription/renew"), so a replay can aim the same call at
	// another base URL.
	Endpoint string            `json:"endpoint,omitempty"`
	Query    map[string]string `json:"query"`
	Headers  map[string]string `json:"headers"`
	Body     json.RawMessage   `json:"body,omitempty"`
}

// Response is what the vendor answered; absent when nothing came back.
type Response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// Exchange is one call to the vendor service with its answer.
type Exchange struct {
	ID             int64  `json:"id"`
	Workspace      string `json:"workspace"`
	Event          string `json:"event"`
	SubscriptionID int64  `json:"subscription_id,omitempty"`
	OrderID        int64  `json:"order_id,omitempty"`
	UserID         int64  `json:"user_id,omitempty"`
	// Action is the operator action that caused the call ("order",
	// "renew", "check", …), so the record says why it was made.
	Action string `json:"action,omitempty"`
	// RunID ties the exchange to the scenario run that made it.
	RunID string `json:"run_id,omitempty"`
	// OriginalID is the exchange's id in the journal it was imported
	// from; zero for exchanges recorded here.
	OriginalID int64     `json:"original_id,omitempty"`
	Request    Request   `json:"request"`
	Response   *Response `json:"response,omitempty"`
	Outcome    string    `json:"outcome"`
	// Error is the platform's reading of a failure: the vendor's
	// task.error_message, or the transport error.
	Error string `json:"error,omitempty"`
	// StartedAt is wall-clock time; VirtualTime is the workspace clock at
	// the moment of the call.
	StartedAt   time.Time `json:"started_at"`
	VirtualTime time.Time `json:"virtual_time"`
	DurationMS  float64   `json:"duration_ms"`
}

// Filter selects exchanges of one workspace. Zero fields match everything.
type Filter struct {
	Event          string
	SubscriptionID int64
	OrderID        int64
	UserID         int64
	Outcome        string
	// Status is the vendor's HTTP status; -1 selects exchanges that got
	// no answer at all.
	Status int
	Action string
	RunID  string
	// From and To bound the wall-clock start time, To exclusive.
	From, To time.Time
	// VirtualFrom and VirtualTo bound the workspace-clock time, To
	// exclusive.
	VirtualFrom, VirtualTo time.Time
	// AfterID pages forward: only exchanges with a larger id.
	AfterID int64
	// UntilID: only exchanges with an id up to and including it.
	UntilID int64
	// Limit caps the result; 0 means no cap.
	Limit int
}

// HTTPStatus is the vendor's answer status, 0 when nothing came back.
func (x *Exchange) HTTPStatus() int {
	if x.Response == nil {
		return 0
	}
	return x.Response.Status
}

// Match reports whether x passes the filter. The SQLite store filters in
// SQL; this is the same rule for the in-memory store, and the tests run
// both against one table of cases.
func (f Filter) Match(x *Exchange) bool {
	switch {
	case f.Event != "" && x.Event != f.Event,
		f.SubscriptionID != 0 && x.SubscriptionID != f.SubscriptionID,
		f.OrderID != 0 && x.OrderID != f.OrderID,
		f.UserID != 0 && x.UserID != f.UserID,
		f.Outcome != "" && x.Outcome != f.Outcome,
		f.Status > 0 && x.HTTPStatus() != f.Status,
		f.Status < 0 && x.Response != nil,
		f.Action != "" && x.Action != f.Action,
		f.RunID != "" && x.RunID != f.RunID,
		!f.From.IsZero() && x.StartedAt.Before(f.From),
		!f.To.IsZero() && !x.StartedAt.Before(f.To),
		!f.VirtualFrom.IsZero() && x.VirtualTime.Before(f.VirtualFrom),
		!f.VirtualTo.IsZero() && !x.VirtualTime.Before(f.VirtualTo),
		x.ID <= f.AfterID,
		f.UntilID > 0 && x.ID > f.UntilID:
		return false
	}
	return true
}
