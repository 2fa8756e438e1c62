package vendorapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// Provisioning modes (seed 003).
const (
	ModeAutomatic = "automatic"
	ModeManual    = "manual"
)

// Settings are a workspace's integration settings: the Integration section
// of Vendor Portal (seed 003) plus the sandbox's switches for what the
// documentation leaves open.
type Settings struct {
	Mode string `json:"mode"`
	// NotificationEmail receives the manual-mode e-mails.
	NotificationEmail string `json:"notification_email"`
	// APIPath is the vendor's base URL; every event path is appended to it.
	APIPath                 string `json:"api_path"`
	AllowOrderAttributes    bool   `json:"allow_order_attributes"`
	AllowUsageURL           bool   `json:"allow_usage_url"`
	AllowConsumptionURL     bool   `json:"allow_consumption_url"`
	AllowResourceValidation bool   `json:"allow_resource_validation"`
	// AttributesValidation says the installation calls the Attributes
	// Validation URL after the order attributes are entered. Off by
	// default: seed 003 says Vendor Portal does not support it.
	AttributesValidation bool `json:"attributes_validation"`
	// Paths overrides the path of an event, e.g. renewals routed to
	// /subscription/update (seed 003 says Update covers renewals).
	Paths map[string]string `json:"paths"`
	// Headers are added to every call, for vendors that want a token.
	Headers map[string]string `json:"headers"`
	// TimeoutMS bounds every call.
	TimeoutMS int `json:"timeout_ms"`
	// SubscriptionIDAsString sends subscription.id as a string: seed 002's
	// table says string, its example sends a number (the default).
	SubscriptionIDAsString bool `json:"subscription_id_as_string"`
	// OmitCreateQuery drops ap_guid/reseller_id from /subscription/create,
	// whose documented heading shows none.
	OmitCreateQuery bool `json:"omit_create_query"`
	// DispatchConcurrency bounds the time-driven calls (auto-renewals,
	// stops, deletions, consumption pulls) in flight at once; 0 means
	// DefaultDispatchConcurrency. Operator-triggered calls are not queued.
	DispatchConcurrency int `json:"dispatch_concurrency"`
	// DispatchRate bounds time-driven calls per second; 0 means no bound.
	DispatchRate float64 `json:"dispatch_rate"`
	// BillingNoticeDays is how many days before the billing day the
	// "Billing day is coming" notice goes out; 0 means
	// DefaultBillingNoticeDays and -1 sends none. The documentation does
	// not say when the platform sends it.
	BillingNoticeDays int `json:"billing_notice_days"`
}

// Defaults of the clock's dispatch and notices.
const (
	DefaultDispatchConcurrency = 8
	DefaultBillingNoticeDays   = 3
)

// Concurrency is how many time-driven calls may be in flight at once.
func (s Settings) Concurrency() int {
	if s.DispatchConcurrency <= 0 {
		return DefaultDispatchConcurrency
	}
	return s.DispatchConcurrency
}

// NoticeDays is the lead of the billing-day notice; negative means none.
func (s Settings) NoticeDays() int {
	if s.BillingNoticeDays == 0 {
		return DefaultBillingNoticeDays
	}
	return s.BillingNoticeDays
}

// DefaultTimeout bounds a vendor call when the settings do not say.
const DefaultTimeout = 10 * time.Second

// DefaultSettings are the documented defaults for the given vendor URL.
func DefaultSettings(apiPath string) Settings {
	return Settings{
		Mode:      ModeAutomatic,
		APIPath:   apiPath,
		Paths:     map[string]string{},
		Headers:   map[string]string{},
		TimeoutMS: int(DefaultTimeout / time.Millisecond),
	}
}

// CheckBaseURL checks a vendor base URL: absolute http(s), no query or
// fragment, since event paths and query arguments are appended to it.
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL, got %q", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must not carry a query or fragment")
	}
	return nil
}

// Validate checks the settings and names the first bad field.
func (s Settings) Validate() error {
	switch s.Mode {
	case ModeAutomatic, ModeManual:
	default:
		return world.Invalid("mode", "must be %q or %q, got %q", ModeAutomatic, ModeManual, s.Mode)
	}
	if s.APIPath != "" {
		if err := CheckBaseURL(s.APIPath); err != nil {
			return world.Invalid("api_path", "%v", err)
		}
	}
	if s.NotificationEmail != "" {
		if err := world.ValidateEmail(s.NotificationEmail); err != nil {
			return world.Invalid("notification_email", "%v", err)
		}
	} else if s.Mode == ModeManual {
		// Manual mode works by e-mail: without an address nobody would
		// hear of an operation (seed 003, step 3).
		return world.Invalid("notification_email", "is required in manual mode: it receives an e-mail for every operation")
	}
	if s.TimeoutMS < 0 || s.TimeoutMS > 300_000 {
		return world.Invalid("timeout_ms", "must be between 0 and 300000, got %d", s.TimeoutMS)
	}
	if s.DispatchConcurrency < 0 || s.DispatchConcurrency > 256 {
		return world.Invalid("dispatch_concurrency", "must be between 0 (the default, %d) and 256, got %d", DefaultDispatchConcurrency, s.DispatchConcurrency)
	}
	if !(s.DispatchRate == 0 || s.DispatchRate >= 0.1 && s.DispatchRate <= 100_000) {
		return world.Invalid("dispatch_rate", "must be 0 (no bound) or between 0.1 and 100000 calls per second, got %v", s.DispatchRate)
	}
	if s.BillingNoticeDays < -1 || s.BillingNoticeDays > 27 {
		return world.Invalid("billing_notice_days", "must be between -1 (no notices) and 27, got %d", s.BillingNoticeDays)
	}
	for _, k := range sortedKeys(s.Paths) {
		if !Event(k).Known() {
			return world.Invalid("paths."+k, "unknown event; known events: %s", strings.Join(eventNames(), ", "))
		}
		if p := s.Paths[k]; !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ") {
			return world.Invalid("paths."+k, "must be a path starting with / without query, got %q", p)
		}
	}
	for _, k := range sortedKeys(s.Headers) {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(s.Headers[k], "\r\n") {
			return world.Invalid("headers."+k, "not a valid HTTP header")
		}
		switch http.CanonicalHeaderKey(k) {
		case "Content-Type", "Content-Length", "Host":
			return world.Invalid("headers."+k, "is set by the platform and cannot be overridden")
		}
	}
	return nil
}

// Path is where the event goes for these settings.
func (s Settings) Path(e Event) string {
	if p, ok := s.Paths[string(e)]; ok && p != "" {
		return p
	}
	return e.DefaultPath()
}

// Timeout is the bound of one call.
func (s Settings) Timeout() time.Duration {
	if s.TimeoutMS <= 0 {
		return DefaultTimeout
	}
	return time.Duration(s.TimeoutMS) * time.Millisecond
}

// Normalize fills nil maps so that the JSON form is stable.
func (s Settings) Normalize() Settings {
	if s.Paths == nil {
		s.Paths = map[string]string{}
	}
	if s.Headers == nil {
		s.Headers = map[string]string{}
	}
	if s.Mode == "" {
		s.Mode = ModeAutomatic
	}
	return s
}

func eventNames() []string {
	var out []string
	for _, e := range Events() {
		out = append(out, string(e))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
