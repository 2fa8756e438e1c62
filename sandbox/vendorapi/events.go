// Package vendorapi speaks the ActivePlatform → vendor wire protocol: which
// events exist and where they go by default, the JSON bodies the platform
// sends (seed 002 is the model), and how a vendor's answer is read. Every
// choice the documentation leaves open is a field of Settings, defaulting to
// what the documentation says.
package vendorapi

import "sort"

// Event is one kind of call the platform makes to the vendor.
type Event string

// The events, named after their default paths.
const (
	EventCheck                     Event = "check"
	EventSubscriptionCreate        Event = "subscription.create"
	EventSubscriptionRenew         Event = "subscription.renew"
	EventSubscriptionUpdate        Event = "subscription.update"
	EventSubscriptionStop          Event = "subscription.stop"
	EventSubscriptionActivate      Event = "subscription.activate"
	EventSubscriptionDelete        Event = "subscription.delete"
	EventSubscriptionResourceCheck Event = "subscription.resource_validation"
	EventSubscriptionUsage         Event = "subscription.usage"
	EventSubscriptionConsumption   Event = "subscription.consumption"
	EventOrderAttributes           Event = "order.attributes"
	EventOrderAttributesValidation Event = "order.attributes_validation"
	EventUserCreate                Event = "user.create"
	EventUserUpdate                Event = "user.update"
	EventUserDelete                Event = "user.delete"
	EventUserActivate              Event = "user.activate"
	EventUserDeactivate            Event = "user.deactivate"
	EventUserPasswordReset         Event = "user.password_reset"
)

var defaultPaths = map[Event]string{
	EventCheck:                     "/check",
	EventSubscriptionCreate:        "/subscription/create",
	EventSubscriptionRenew:         "/subscription/renew",
	EventSubscriptionUpdate:        "/subscription/update",
	EventSubscriptionStop:          "/subscription/stop",
	EventSubscriptionActivate:      "/subscription/activate",
	EventSubscriptionDelete:        "/subscription/delete",
	EventSubscriptionResourceCheck: "/subscription/resource_validation",
	EventSubscriptionUsage:         "/subscription/usage",
	EventSubscriptionConsumption:   "/subscription/consumption",
	EventOrderAttributes:           "/order/attributes",
	EventOrderAttributesValidation: "/order/attributes_validation",
	EventUserCreate:                "/user/create",
	EventUserUpdate:                "/user/update",
	EventUserDelete:                "/user/delete",
	EventUserActivate:              "/user/activate",
	EventUserDeactivate:            "/user/deactivate",
	EventUserPasswordReset:         "/user/password_reset",
}

// DefaultPath is the documented (or, where undocumented, inferred) path of
// the event relative to the vendor's api_path.
func (e Event) DefaultPath() string { return defaultPaths[e] }

// Known reports whether e is an event of the protocol.
func (e Event) Known() bool { _, ok := defaultPaths[e]; return ok }

// Events lists every event in a stable order.
func Events() []Event {
	out := make([]Event, 0, len(defaultPaths))
	for e := range defaultPaths {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
