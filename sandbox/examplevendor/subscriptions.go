package examplevendor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Status is the vendor-side state of a subscription or a user.
type Status string

// The vendor-side states. Subscriptions are active, stopped or deleted;
// users are active, inactive or deleted.
const (
	StatusActive   Status = "active"
	StatusStopped  Status = "stopped"
	StatusInactive Status = "inactive"
	StatusDeleted  Status = "deleted"
)

// Resource is one ordered resource, as the platform sends it.
type Resource struct {
	Key      string `json:"key"`
	Quantity int64  `json:"quantity"`
}

// Period is the ordered plan period, as the platform sends it.
type Period struct {
	Value   int    `json:"value"`
	Type    string `json:"type"`
	Trial   bool   `json:"trial"`
	Endless bool   `json:"endless"`
}

// Plan is what the vendor keeps of the platform's plan object.
type Plan struct {
	Name      string     `json:"name"`
	SKU       string     `json:"sku"`
	Resources []Resource `json:"resources"`
	Period    *Period    `json:"period,omitempty"`
}

// Subscription is the vendor's record of one subscription.
type Subscription struct {
	// ID is the vendor id, sent back by the platform as external_id.
	ID string `json:"id"`
	// PlatformID is subscription.id of the create call, as a string.
	PlatformID string `json:"platform_id"`
	APGUID     string `json:"ap_guid"`
	ResellerID string `json:"reseller_id"`
	Status     Status `json:"status"`
	Plan       Plan   `json:"plan"`
	// Usage is the amount in use per ordered resource key: what was set
	// through SetUsage, else half the ordered quantity, rounded down.
	Usage map[string]int64 `json:"usage"`
	// Attributes and OrderAttributes are subscription.attributes and the
	// top-level attributes of the create call, verbatim.
	Attributes      json.RawMessage `json:"attributes,omitempty"`
	OrderAttributes json.RawMessage `json:"order_attributes,omitempty"`
	Renewals        int             `json:"renewals"`
	Updates         int             `json:"updates"`

	usage map[string]int64 // set through SetUsage
}

// usageOf is what is in use of key: set explicitly, else half the ordered
// quantity (a service is rarely full or empty), else nothing.
func (s *Subscription) usageOf(key string) int64 {
	if n, ok := s.usage[key]; ok {
		return n
	}
	for _, r := range s.Plan.Resources {
		if r.Key == key {
			return r.Quantity / 2
		}
	}
	return 0
}

// snapshot is a deep copy with Usage filled, for callers outside the lock.
func (s *Subscription) snapshot() Subscription {
	c := *s
	c.Plan.Resources = slices.Clone(s.Plan.Resources)
	if s.Plan.Period != nil {
		p := *s.Plan.Period
		c.Plan.Period = &p
	}
	c.Attributes, c.OrderAttributes = slices.Clone(s.Attributes), slices.Clone(s.OrderAttributes)
	c.Usage = map[string]int64{}
	for _, r := range s.Plan.Resources {
		c.Usage[r.Key] = s.usageOf(r.Key)
	}
	for k, n := range s.usage {
		c.Usage[k] = n
	}
	c.usage = nil
	return c
}

// Subscriptions returns the vendor's subscriptions in creation order.
func (v *Vendor) Subscriptions() []Subscription {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Subscription, 0, len(v.subs))
	for _, s := range v.subs {
		out = append(out, s.snapshot())
	}
	return out
}

// SetUsage sets what is in use of some resources of a subscription, so a
// test or demo can make resource validation deny a downgrade. Keys not
// named keep their usage.
func (v *Vendor) SetUsage(externalID string, usage map[string]int64) (Subscription, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, found := v.subByID[externalID]
	if !found {
		return Subscription{}, fmt.Errorf("subscription %s not found", externalID)
	}
	for _, k := range slices.Sorted(maps.Keys(usage)) {
		if k == "" || usage[k] < 0 {
			return Subscription{}, fmt.Errorf("usage of %q must be a non-negative number for a non-empty key, got %d", k, usage[k])
		}
	}
	if s.usage == nil {
		s.usage = map[string]int64{}
	}
	maps.Copy(s.usage, usage)
	return s.snapshot(), nil
}

// subscriptionBody is the union of what the subscription endpoints read;
// everything else in seed 002's envelope is accepted and ignored.
type subscriptionBody struct {
	ExternalID   json.RawMessage `json:"external_id"`
	Reseller     json.RawMessage `json:"reseller"`
	Distributor  json.RawMessage `json:"distributor"`
	Tenant       json.RawMessage `json:"tenant"`
	Plan         *Plan           `json:"plan"`
	Subscription *struct {
		ID         json.RawMessage `json:"id"`
		Attributes json.RawMessage `json:"attributes"`
	} `json:"subscription"`
	Attributes json.RawMessage `json:"attributes"`
	// Period is the consumption window, not the plan period.
	Period *struct {
		From *string `json:"from"`
		To   *string `json:"to"`
	} `json:"period"`
}

// flexID reads an id that may be a JSON string or an integer: seed 002's
// table calls subscription.id a string while its example sends a number.
// Both spellings of the same id give the same string. Absent, null and ""
// give "".
func flexID(raw json.RawMessage, field string) (string, *reply) {
	if !present(raw) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s), nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
	}
	r := fail(http.StatusBadRequest, "field %s must be a string or an integer, got %s", field, bytes.TrimSpace(raw))
	return "", &r
}

// checkResources rejects malformed resource lists (400) and quantities
// above the configured maximum (422: well-formed, but not for this vendor).
func (v *Vendor) checkResources(rs []Resource, field string) (reply, bool) {
	seen := map[string]bool{}
	for i, r := range rs {
		switch {
		case strings.TrimSpace(r.Key) == "":
			return fail(http.StatusBadRequest, "field %s[%d].key is empty", field, i), true
		case r.Quantity < 0:
			return fail(http.StatusBadRequest, "field %s[%d].quantity is negative: %d", field, i, r.Quantity), true
		case seen[r.Key]:
			return fail(http.StatusBadRequest, "field %s: key %q appears twice", field, r.Key), true
		}
		seen[r.Key] = true
	}
	if msgs := v.overMax(rs); len(msgs) > 0 {
		return fail(http.StatusUnprocessableEntity, "%s", strings.Join(msgs, "; ")), true
	}
	return reply{}, false
}

func (v *Vendor) overMax(rs []Resource) []string {
	var msgs []string
	for _, r := range rs {
		if limit, limited := v.cfg.MaxQuantity[r.Key]; limited && r.Quantity > limit {
			msgs = append(msgs, fmt.Sprintf("%s: %d is above the maximum of %d", r.Key, r.Quantity, limit))
		}
	}
	return msgs
}

// createSubscription answers /subscription/create. It is idempotent per
// installation and platform subscription id, because the platform retries
// a failed or timed-out create with the same subscription: a second
// record would be a second bill on the vendor's side.
func (v *Vendor) createSubscription(c *call) reply {
	var b subscriptionBody
	if r, bad := decode(c.body, &b); bad {
		return r
	}
	var pid string
	if b.Subscription != nil {
		var r *reply
		if pid, r = flexID(b.Subscription.ID, "subscription.id"); r != nil {
			return *r
		}
	}
	switch {
	case pid == "":
		return fail(http.StatusBadRequest, "missing required field subscription.id")
	case b.Plan == nil:
		return fail(http.StatusBadRequest, "missing required field plan")
	case strings.TrimSpace(b.Plan.SKU) == "":
		return fail(http.StatusBadRequest, "missing required field plan.sku")
	}
	if r, bad := requireObjects(namedRaw{"tenant", b.Tenant}, namedRaw{"reseller", b.Reseller}); bad {
		return r
	}
	if r, bad := v.checkResources(b.Plan.Resources, "plan.resources"); bad {
		return r
	}
	origin := c.apGUID + "\x00" + pid
	if id, seen := v.byOrigin[origin]; seen {
		return ok(http.StatusCreated, map[string]string{"id": id})
	}
	v.nextSub++
	s := &Subscription{
		ID:              fmt.Sprintf("vs-%06d", v.nextSub),
		PlatformID:      pid,
		APGUID:          c.apGUID,
		ResellerID:      c.resellerID,
		Status:          StatusActive,
		Plan:            Plan{Name: b.Plan.Name, SKU: b.Plan.SKU, Resources: nonNilResources(b.Plan.Resources), Period: b.Plan.Period},
		OrderAttributes: slices.Clone(b.Attributes),
	}
	if b.Subscription != nil {
		s.Attributes = slices.Clone(b.Subscription.Attributes)
	}
	v.subs = append(v.subs, s)
	v.subByID[s.ID], v.byOrigin[origin] = s, s.ID
	return ok(http.StatusCreated, map[string]string{"id": s.ID})
}

func nonNilResources(rs []Resource) []Resource {
	if rs == nil {
		return []Resource{}
	}
	return slices.Clone(rs)
}

// lookup decodes the body and finds the live subscription it names.
func (v *Vendor) lookup(c *call) (*Subscription, *subscriptionBody, reply, bool) {
	var b subscriptionBody
	if r, bad := decode(c.body, &b); bad {
		return nil, nil, r, true
	}
	id, r := flexID(b.ExternalID, "external_id")
	switch {
	case r != nil:
		return nil, nil, *r, true
	case id == "":
		return nil, nil, fail(http.StatusBadRequest, "missing required field external_id"), true
	}
	s, found := v.subByID[id]
	switch {
	case !found:
		return nil, nil, fail(http.StatusUnprocessableEntity, "subscription %s not found", id), true
	case s.Status == StatusDeleted:
		return nil, nil, fail(http.StatusUnprocessableEntity, "subscription %s is deleted", id), true
	}
	return s, &b, reply{}, false
}

// changeSubscription answers renew, update, stop, activate and delete.
// Repeating a stop or an activation is harmless (the platform retries
// after a timeout); changing a stopped subscription's plan or touching a
// deleted one is refused, as a real service would.
func (v *Vendor) changeSubscription(c *call) reply {
	s, b, r, bad := v.lookup(c)
	if bad {
		return r
	}
	switch c.endpoint {
	case "subscription/renew":
		// A stopped subscription may be renewed: the platform activates
		// it afterwards with a separate call.
		if b.Plan != nil {
			if r, bad := v.checkResources(b.Plan.Resources, "plan.resources"); bad {
				return r
			}
			s.applyPlan(b.Plan)
		}
		s.Renewals++
	case "subscription/update":
		switch {
		case b.Plan == nil:
			return fail(http.StatusBadRequest, "missing required field plan")
		case strings.TrimSpace(b.Plan.SKU) == "":
			return fail(http.StatusBadRequest, "missing required field plan.sku")
		case s.Status == StatusStopped:
			return fail(http.StatusUnprocessableEntity, "subscription %s is stopped: activate it before changing it", s.ID)
		}
		if r, bad := v.checkResources(b.Plan.Resources, "plan.resources"); bad {
			return r
		}
		// A plan switch names a new plan; a resource change repeats the
		// old one. Either way the body is the subscription's new shape.
		s.Plan = Plan{Name: b.Plan.Name, SKU: b.Plan.SKU, Resources: nonNilResources(b.Plan.Resources), Period: s.Plan.Period}
		if b.Plan.Period != nil {
			s.Plan.Period = b.Plan.Period
		}
		s.Updates++
	case "subscription/stop":
		s.Status = StatusStopped
	case "subscription/activate":
		s.Status = StatusActive
	case "subscription/delete":
		s.Status = StatusDeleted
	}
	return ok(http.StatusOK, struct{}{})
}

// applyPlan takes what a renewal sends: the renewal period and possibly
// new quantities; fields left out keep their values.
func (s *Subscription) applyPlan(p *Plan) {
	if p.Name != "" {
		s.Plan.Name = p.Name
	}
	if p.SKU != "" {
		s.Plan.SKU = p.SKU
	}
	if p.Resources != nil {
		s.Plan.Resources = slices.Clone(p.Resources)
	}
	if p.Period != nil {
		s.Plan.Period = p.Period
	}
}

// validateResources answers /subscription/resource_validation: a new
// quantity may not fall below what is in use, nor exceed the configured
// maximum. Every problem is named, so the operator sees them all at once.
// It changes nothing: the order it gates may still be cancelled.
func (v *Vendor) validateResources(c *call) reply {
	s, b, r, bad := v.lookup(c)
	if bad {
		return r
	}
	if b.Plan == nil || b.Plan.Resources == nil {
		return fail(http.StatusBadRequest, "missing required field plan.resources")
	}
	if r, bad := v.checkResources(b.Plan.Resources, "plan.resources"); bad {
		return r
	}
	var msgs []string
	for _, res := range b.Plan.Resources {
		if used := s.usageOf(res.Key); res.Quantity < used {
			msgs = append(msgs, fmt.Sprintf("%s: %d is below the %d in use", res.Key, res.Quantity, used))
		}
	}
	if len(msgs) > 0 {
		return fail(http.StatusUnprocessableEntity, "%s", strings.Join(msgs, "; "))
	}
	return ok(http.StatusOK, map[string]bool{"valid": true})
}

type usageLine struct {
	Key   string `json:"key"`
	Usage int64  `json:"usage"`
}

// usage answers /subscription/usage for the ordered resources, in the
// plan's order.
func (v *Vendor) usage(c *call) reply {
	s, _, r, bad := v.lookup(c)
	if bad {
		return r
	}
	out := []usageLine{}
	for _, res := range s.Plan.Resources {
		out = append(out, usageLine{res.Key, s.usageOf(res.Key)})
	}
	return ok(http.StatusOK, map[string]any{"resources": out})
}

type consumedLine struct {
	Key      string `json:"key"`
	Consumed int64  `json:"consumed"`
}

// consumption answers /subscription/consumption: each ordered unit is
// consumed once per started day of the period, a deterministic stand-in
// for metering that tests can compute.
func (v *Vendor) consumption(c *call) reply {
	s, b, r, bad := v.lookup(c)
	if bad {
		return r
	}
	if b.Period == nil {
		return fail(http.StatusBadRequest, "missing required field period")
	}
	var bounds [2]time.Time
	for i, f := range []struct {
		name string
		val  *string
	}{{"period.from", b.Period.From}, {"period.to", b.Period.To}} {
		if f.val == nil || *f.val == "" {
			return fail(http.StatusBadRequest, "missing required field %s", f.name)
		}
		t, err := time.Parse(time.RFC3339, *f.val)
		if err != nil {
			return fail(http.StatusBadRequest, "field %s must be an RFC 3339 time, got %q", f.name, *f.val)
		}
		bounds[i] = t
	}
	span := bounds[1].Sub(bounds[0])
	if span < 0 {
		return fail(http.StatusBadRequest, "period.to (%s) is before period.from (%s)", *b.Period.To, *b.Period.From)
	}
	days := int64((span + 24*time.Hour - 1) / (24 * time.Hour))
	out := []consumedLine{}
	for _, res := range s.Plan.Resources {
		out = append(out, consumedLine{res.Key, res.Quantity * days})
	}
	return ok(http.StatusOK, map[string]any{"resources": out})
}
