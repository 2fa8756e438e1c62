// Package world holds the sandbox's model of an ActivePlatform installation:
// the seeded entities (distributors, resellers, tenants, users, plans,
// subscriptions, orders), the platform's rules about which operation is
// allowed when, and the status machine. It knows nothing about HTTP: the
// platform package drives it and the vendorapi package turns it into calls.
package world

import "time"

// Money is an amount in minor units of its currency (cents). The platform
// stores financial values as 64-bit integers since release 7.6 because they
// pass 2^31; so do we.
type Money int64

// World is one installation's complete state. Slices are kept sorted by ID so
// that the same seed marshals to byte-identical JSON.
type World struct {
	// APGUID identifies the installation to the vendor (query arg ap_guid).
	APGUID        string         `json:"ap_guid"`
	Seed          int64          `json:"seed"`
	Product       Product        `json:"product"`
	Distributors  []Distributor  `json:"distributors"`
	Resellers     []Reseller     `json:"resellers"`
	Tenants       []Tenant       `json:"tenants"`
	Users         []User         `json:"users"`
	ServiceTerms  []ServiceTerm  `json:"service_terms"`
	Plans         []Plan         `json:"plans"`
	Subscriptions []Subscription `json:"subscriptions"`
	Orders        []Order        `json:"orders"`
	// NextID is the last id handed out; ids are global to a world so that a
	// subscription id never equals an order id by accident in a test.
	NextID int64 `json:"next_id"`
}

// Distributor is the documented distributor object (seed 002).
type Distributor struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	Region     string            `json:"region"`
	Currency   string            `json:"currency"`
	Attributes map[string]string `json:"attributes"`
}

// Reseller is the documented reseller object (seed 002), plus the
// distributor it sells through and its lock on the auto-renew option.
type Reseller struct {
	ID             int64             `json:"id"`
	DistributorID  int64             `json:"distributor_id"`
	Name           string            `json:"name"`
	CompanyName    string            `json:"company_name"`
	FirstAddress   string            `json:"first_address"`
	SecondAddress  string            `json:"second_address"`
	City           string            `json:"city"`
	Region         string            `json:"region"`
	Zip            string            `json:"zip"`
	Country        string            `json:"country"`
	CompanyPhone   string            `json:"company_phone"`
	CompanyEmail   string            `json:"company_email"`
	Currency       string            `json:"currency"`
	Attributes     map[string]string `json:"attributes"`
	CoreAttributes map[string]string `json:"core_attributes"`
	// AutoRenewLocked: the reseller forbids customers to change the
	// auto-renew option of every subscription it sold (seed 000, CR-804).
	AutoRenewLocked bool `json:"auto_renew_locked"`
}

// Tenant types as the platform names them.
const (
	TenantBusiness = "Business"
	TenantPersonal = "Personal"
)

// Contact is the tenant's contact block.
type Contact struct {
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Zip          string `json:"zip"`
	City         string `json:"city"`
	State        string `json:"state"`
	Country      string `json:"country"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	Fax          string `json:"fax"`
	AddressLine1 string `json:"address_line_1"`
	AddressLine2 string `json:"address_line_2"`
}

// Owner is the tenant user with Owner rights, as sent to the vendor.
type Owner struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Phone     string `json:"phone"`
}

// Tenant is a customer account.
type Tenant struct {
	ID          int64   `json:"id"`
	ResellerID  int64   `json:"reseller_id"`
	CompanyName string  `json:"company_name"`
	Type        string  `json:"type"`
	Contact     Contact `json:"contact"`
	Owner       Owner   `json:"owner"`
}

// User roles on an account.
const (
	RoleOwner          = "owner"
	RoleAdmin          = "admin"
	RoleFinanceManager = "finance_manager"
	RoleUser           = "user"
)

// User statuses.
const (
	UserActive   = "active"
	UserInactive = "inactive"
	// UserDeleted: detached from the service and gone from the account;
	// kept so that its history still resolves.
	UserDeleted = "deleted"
)

// User is a person attached to a tenant.
type User struct {
	ID        int64  `json:"id"`
	TenantID  int64  `json:"tenant_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Role      string `json:"role"`
	// Status is active, inactive or deleted.
	Status string `json:"status"`
	// VendorID is the id the vendor returned from /user/create; empty while
	// the user is not attached to the vendor service.
	VendorID string `json:"vendor_id"`
	// LastError is why the last operation on the user failed.
	LastError string `json:"last_error"`
	// PasswordResets counts the passwords set (the initial one included);
	// generated passwords are derived from it, so they are deterministic.
	PasswordResets int64 `json:"password_resets"`
}

// Product is the vendor's product as published from Vendor Portal.
type Product struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Vendor string `json:"vendor"`
}

// Period units as the wire protocol spells them (seed 002: "month").
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
	PeriodYear  = "year"
)

// Period is one orderable period of a plan.
type Period struct {
	ID    int64  `json:"id"`
	Value int    `json:"value"`
	Type  string `json:"type"`
	Trial bool   `json:"trial"`
	// Endless periods never expire and cannot be renewed.
	Endless bool `json:"endless"`
	// Price is the recurring fee for the whole period.
	Price        Money `json:"price"`
	RenewalPrice Money `json:"renewal_price"`
}

// Resource is one plan resource.
type Resource struct {
	ID       int64  `json:"id"`
	Key      string `json:"key"`
	Name     string `json:"name"`
	Unit     string `json:"unit"`
	Included int64  `json:"included"`
	Min      int64  `json:"min"`
	// Max 0 means unlimited.
	Max       int64 `json:"max"`
	UnitPrice Money `json:"unit_price"`
}

// Billing types a Vendor Portal plan can have.
const (
	BillingRecurring    = "recurring"
	BillingNonRecurring = "non_recurring"
	BillingPayAsYouGo   = "pay_as_you_go"
)

// Plan is a service plan with its periods and resources.
type Plan struct {
	ID            int64             `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	SKU           string            `json:"sku"`
	BillingType   string            `json:"billing_type"`
	Currency      string            `json:"currency"`
	SetupFee      Money             `json:"setup_fee"`
	ServiceTermID int64             `json:"service_term_id"`
	Periods       []Period          `json:"periods"`
	Resources     []Resource        `json:"resources"`
	Attributes    map[string]string `json:"attributes"`
	// AutoRenewLocked: the reseller forbids changing auto-renew on every
	// subscription to this plan (seed 000).
	AutoRenewLocked bool `json:"auto_renew_locked"`
}

// Stop and delete types of a service term.
const (
	TermAutomatic = "automatic"
	TermManual    = "manual"
)

// ServiceTerm holds the time rules of subscriptions (operator guide).
type ServiceTerm struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// BillingDay is the day of month (1-28) charges change status.
	BillingDay int `json:"billing_day"`
	// ManualRenewPoint: days before expiration manual renewal opens; -1 the
	// whole period, 0 never.
	ManualRenewPoint int `json:"manual_renew_point"`
	// AutoRenewPoint: days before expiration an auto-renew order is made.
	AutoRenewPoint int `json:"auto_renew_point"`
	// GracePeriod: days after expiration the subscription stays graced.
	GracePeriod int `json:"grace_period"`
	// StopPeriod: days after stopping before the subscription is deleted.
	StopPeriod int    `json:"stop_period"`
	StopType   string `json:"stop_type"`
	DeleteType string `json:"delete_type"`
}

// Status is a subscription status, the snake_case form of the platform's.
type Status string

// Stable statuses.
const (
	StatusOrdered   Status = "ordered"
	StatusActive    Status = "active"
	StatusDelivered Status = "delivered"
	StatusGraced    Status = "graced"
	StatusStopped   Status = "stopped"
	StatusDeleted   Status = "deleted"
	StatusBlocked   Status = "blocked"
)

// Transitional statuses: an operation is running on the vendor side and no
// other operation is allowed.
const (
	StatusInstalling              Status = "installing"
	StatusActivating              Status = "activating"
	StatusUpdating                Status = "updating"
	StatusRenewing                Status = "renewing"
	StatusStopping                Status = "stopping"
	StatusDeleting                Status = "deleting"
	StatusWaitingForManualApprove Status = "waiting_for_manual_approve"
)

// Failed statuses: the vendor refused or could not be reached.
const (
	StatusInstallationFailed Status = "installation_failed"
	StatusActivationFailed   Status = "activation_failed"
	StatusUpdatingFailed     Status = "updating_failed"
	StatusRenewingFailed     Status = "renewing_failed"
	StatusStoppingFailed     Status = "stopping_failed"
	StatusDeletionFailed     Status = "deletion_failed"
)

// Transitional reports whether an operation is in flight.
func (s Status) Transitional() bool {
	switch s {
	case StatusInstalling, StatusActivating, StatusUpdating, StatusRenewing,
		StatusStopping, StatusDeleting, StatusWaitingForManualApprove:
		return true
	}
	return false
}

// Failed reports whether the last operation failed.
func (s Status) Failed() bool {
	switch s {
	case StatusInstallationFailed, StatusActivationFailed, StatusUpdatingFailed,
		StatusRenewingFailed, StatusStoppingFailed, StatusDeletionFailed:
		return true
	}
	return false
}

// Ability is the set of operations the platform allows on a subscription
// now, modelled on the API v3 "ability" object.
type Ability struct {
	Renew           bool `json:"renew"`
	ChangeResources bool `json:"change_resources"`
	// AddResources is false for trial subscriptions: they may only keep or
	// lower their quantities.
	AddResources    bool `json:"add_resources"`
	SwitchPlan      bool `json:"switch_plan"`
	Stop            bool `json:"stop"`
	Activate        bool `json:"activate"`
	Delete          bool `json:"delete"`
	Retry           bool `json:"retry"`
	ChangeAutoRenew bool `json:"change_auto_renew"`
}

// Subscription is a tenant's subscription to a plan.
type Subscription struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	TenantID   int64  `json:"tenant_id"`
	ResellerID int64  `json:"reseller_id"`
	PlanID     int64  `json:"plan_id"`
	PeriodID   int64  `json:"period_id"`
	Status     Status `json:"status"`
	Trial      bool   `json:"trial"`
	AutoRenew  bool   `json:"auto_renew"`
	// AutoRenewLocked is the reseller's lock on this one subscription.
	AutoRenewLocked bool `json:"auto_renew_locked"`
	// ExternalID is the vendor's id from /subscription/create.
	ExternalID string    `json:"external_id"`
	StartDate  time.Time `json:"start_date"`
	// ExpirationDate is nil for endless and non-recurring subscriptions.
	ExpirationDate *time.Time        `json:"expiration_date"`
	Resources      map[string]int64  `json:"resources"`
	Attributes     map[string]string `json:"attributes"`
	// OrderAttributes are the values entered for the vendor's order
	// attributes; they travel as the top-level "attributes" of the body.
	OrderAttributes map[string]string `json:"order_attributes"`
	LastError       string            `json:"last_error"`
	Ability         Ability           `json:"ability"`
	// Pending describes the operation a failed status came from, so that
	// retry can send it again.
	Pending *Operation `json:"pending,omitempty"`
	// StoppedAt is when the subscription last stopped; the service term's
	// stop period counts from it to the automatic deletion.
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	// ClockMarks remember, per kind of time-driven event, the due time of
	// the last one the clock fired, so that an event the platform refused
	// (or an operator declined) is not fired again and again.
	ClockMarks map[string]time.Time `json:"clock_marks,omitempty"`
	CreatedAt  time.Time            `json:"created_at"`
	UpdatedAt  time.Time            `json:"updated_at"`
	// Metering is what the platform last pulled from the vendor: usage
	// statistics and pay-as-you-go charges (see metering.go).
	Metering
}

// Operation kinds.
const (
	OpCreate          = "create"
	OpRenew           = "renew"
	OpChangeResources = "change_resources"
	OpSwitchPlan      = "switch_plan"
	OpStop            = "stop"
	OpActivate        = "activate"
	OpDelete          = "delete"
)

// Operation is one subscription operation with what it changes.
type Operation struct {
	Kind      string           `json:"kind"`
	OrderID   int64            `json:"order_id,omitempty"`
	PlanID    int64            `json:"plan_id,omitempty"`
	PeriodID  int64            `json:"period_id,omitempty"`
	Resources map[string]int64 `json:"resources,omitempty"`
	// PrevStatus is the status to go back to on failure-free abort (manual
	// decline) and the base for the failed status.
	PrevStatus Status `json:"prev_status"`
	// Manual: the vendor was told by e-mail (manual provisioning mode) and
	// the operation waits for the operator to complete or fail it. It is
	// not lost when the sandbox restarts, unlike a vendor call in flight.
	Manual bool `json:"manual,omitempty"`
	// Parked is the failed operation the subscription carried when this
	// stop or delete went to waiting_for_manual_approve; a decline puts it
	// back, so that the restored failed status can still be retried.
	Parked *Operation `json:"parked,omitempty"`
}

// Order types.
const (
	OrderSales      = "sales"
	OrderRenewal    = "renewal"
	OrderChange     = "change"
	OrderSwitchPlan = "switch_plan"
	OrderProlong    = "prolong"
)

// Order statuses.
const (
	OrderWaitingForPayment      = "waiting_for_payment"
	OrderWaitingForProvisioning = "waiting_for_provisioning"
	OrderProvisioning           = "provisioning"
	OrderProvisioningFailed     = "provisioning_failed"
	OrderCompleted              = "completed"
	OrderCancelled              = "cancelled"
)

// Order is a platform order for a subscription.
type Order struct {
	ID             int64            `json:"id"`
	SubscriptionID int64            `json:"subscription_id"`
	TenantID       int64            `json:"tenant_id"`
	Type           string           `json:"type"`
	Status         string           `json:"status"`
	PlanID         int64            `json:"plan_id"`
	PeriodID       int64            `json:"period_id"`
	Resources      map[string]int64 `json:"resources"`
	Total          Money            `json:"total"`
	Currency       string           `json:"currency"`
	Error          string           `json:"error"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
}
