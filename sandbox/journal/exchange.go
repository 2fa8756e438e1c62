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
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// Response is what the vendor answered; absent when nothing came back.
type Response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// Exchange is one call to the vendor service with its answer.
type Exchange struct {
	ID             int64     `json:"id"`
	Workspace      string    `json:"workspace"`
	Event          string    `json:"event"`
	SubscriptionID int64     `json:"subscription_id,omitempty"`
	OrderID        int64     `json:"order_id,omitempty"`
	UserID         int64     `json:"user_id,omitempty"`
	Request        Request   `json:"request"`
	Response       *Response `json:"response,omitempty"`
	Outcome        string    `json:"outcome"`
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
	// AfterID pages forward: only exchanges with a larger id.
	AfterID int64
	// Limit caps the result; 0 means no cap.
	Limit int
}

// Match reports whether x passes the filter.
func (f Filter) Match(x *Exchange) bool {
	switch {
	case f.Event != "" && x.Event != f.Event,
		f.SubscriptionID != 0 && x.SubscriptionID != f.SubscriptionID,
		f.OrderID != 0 && x.OrderID != f.OrderID,
		f.UserID != 0 && x.UserID != f.UserID,
		f.Outcome != "" && x.Outcome != f.Outcome,
		x.ID <= f.AfterID:
		return false
	}
	return true
}
