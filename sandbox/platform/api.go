package platform

import (
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// WorkspaceInfo describes a workspace.
type WorkspaceInfo struct {
	Name      string    `json:"name"`
	Seed      int64     `json:"seed"`
	APGUID    string    `json:"ap_guid"`
	VendorURL string    `json:"vendor_url"`
	Clock     time.Time `json:"clock"`
	CreatedAt time.Time `json:"created_at"`
	Counts    Counts    `json:"counts"`
}

// Counts sums up a workspace's world.
type Counts struct {
	Distributors  int `json:"distributors"`
	Resellers     int `json:"resellers"`
	Tenants       int `json:"tenants"`
	Users         int `json:"users"`
	Plans         int `json:"plans"`
	Subscriptions int `json:"subscriptions"`
	Orders        int `json:"orders"`
}

// CreateWorkspace is the request to create a workspace. Seed 0 means the
// server's default seed; VendorURL "" leaves api_path empty.
type CreateWorkspace struct {
	Name      string
	Seed      int64
	VendorURL string
	// APGUID replaces the seed's installation id, so that a vendor that
	// keeps its state sees a new installation although the world (and its
	// subscription ids) is the seed's. Empty keeps the seed's.
	APGUID string
}

// OrderRequest orders a new subscription (a sales order).
type OrderRequest struct {
	TenantID int64
	PlanID   int64
	// PeriodID 0 means the plan's first paid period.
	PeriodID int64
	// Resources nil means each resource at its included (or minimum) amount.
	Resources  map[string]int64
	Attributes map[string]string
	Name       string
	// AutoRenew nil means on where the plan allows it.
	AutoRenew *bool
}

// RenewRequest renews a subscription (a renewal order).
type RenewRequest struct {
	// PeriodID 0 means the current period; a trial period is allowed
	// (seed 000) and answered with a warning.
	PeriodID int64
	// Resources nil keeps the current quantities.
	Resources map[string]int64
}

// SwitchRequest switches a subscription to another plan.
type SwitchRequest struct {
	PlanID int64
	// PeriodID 0 means the target plan's first paid period.
	PeriodID int64
	// Resources nil carries the current quantities over where the target
	// plan has the same key, else the included amount.
	Resources map[string]int64
}

// SubscriptionPatch changes options of a subscription; nil fields stay.
type SubscriptionPatch struct {
	Name      *string
	AutoRenew *bool
	// AutoRenewLocked is the reseller's lock on this subscription.
	AutoRenewLocked *bool
}

// Result is what an operation answers: the subscription after the
// operation, the order it made and the exchanges it caused. A refusal by
// the vendor is a Result too (failed status, LastError), not an error.
type Result struct {
	Subscription world.Subscription `json:"subscription"`
	Order        *world.Order       `json:"order,omitempty"`
	ExchangeIDs  []int64            `json:"exchange_ids"`
	Warnings     []string           `json:"warnings"`
	// Refusal is set when a vendor call made before the operation (a
	// validation, see metering.go) refused it: nothing was ordered and
	// the subscription is as it was.
	Refusal *Refusal `json:"refusal,omitempty"`
}

// CheckResult is the outcome of the integration check (seed 003).
type CheckResult struct {
	Ready      bool   `json:"ready"`
	Message    string `json:"message"`
	URL        string `json:"url"`
	ExchangeID int64  `json:"exchange_id"`
}

// SubscriptionFilter narrows the subscription list; zero fields match all.
type SubscriptionFilter struct {
	TenantID int64
	PlanID   int64
	Status   world.Status
}

// Compile-time reminder of the types the operator API exposes.
var (
	_ = journal.Exchange{}
	_ = vendorapi.Settings{}
)
