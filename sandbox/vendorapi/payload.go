package vendorapi

import (
	"strconv"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// The wire objects, field for field as seed 002 documents them. They are
// separate from the world's types on purpose: the world may grow fields the
// platform never sends, and the wire must not change when it does.

// Distributor is the wire distributor object.
type Distributor struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	Region     string            `json:"region"`
	Currency   string            `json:"currency"`
	Attributes map[string]string `json:"attributes"`
}

// Reseller is the wire reseller object.
type Reseller struct {
	ID             int64             `json:"id"`
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
}

// Tenant is the wire tenant (account) object.
type Tenant struct {
	ID          int64         `json:"id"`
	CompanyName string        `json:"company_name"`
	Type        string        `json:"type"`
	Contact     world.Contact `json:"contact"`
	Owner       world.Owner   `json:"owner"`
}

// ResourceQty is one ordered resource.
type ResourceQty struct {
	Key      string `json:"key"`
	Quantity int64  `json:"quantity"`
}

// Period is the ordered period.
type Period struct {
	Value   int    `json:"value"`
	Type    string `json:"type"`
	Trial   bool   `json:"trial"`
	Endless bool   `json:"endless"`
}

// Plan is the wire plan object.
type Plan struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Resources   []ResourceQty     `json:"resources"`
	Period      Period            `json:"period"`
	Attributes  map[string]string `json:"attributes"`
	SKU         string            `json:"sku"`
}

// SubscriptionRef is the wire subscription object. ID is a number or a
// string depending on Settings.SubscriptionIDAsString.
type SubscriptionRef struct {
	ID         any               `json:"id"`
	Attributes map[string]string `json:"attributes"`
}

// SubscriptionEvent is the body of every subscription event. ExternalID is
// empty (and omitted) on create, where the vendor has not named it yet.
type SubscriptionEvent struct {
	ExternalID   string            `json:"external_id,omitempty"`
	Distributor  Distributor       `json:"distributor"`
	Reseller     Reseller          `json:"reseller"`
	Tenant       Tenant            `json:"tenant"`
	Plan         Plan              `json:"plan"`
	Subscription SubscriptionRef   `json:"subscription"`
	Attributes   map[string]string `json:"attributes"`
}

// Target is what a subscription event describes: the subscription as it
// will be once the operation succeeds (new plan, period, quantities).
type Target struct {
	Plan      *world.Plan
	Period    *world.Period
	Resources map[string]int64
}

// SubscriptionBody builds the seed-002 body for s going to target t. It
// fails with not_found when the world is missing an entity s refers to.
func SubscriptionBody(w *world.World, s *world.Subscription, t Target, set Settings) (SubscriptionEvent, error) {
	tn, ok := w.Tenant(s.TenantID)
	if !ok {
		return SubscriptionEvent{}, world.NotFound("tenant", s.TenantID)
	}
	rs, ok := w.Reseller(s.ResellerID)
	if !ok {
		return SubscriptionEvent{}, world.NotFound("reseller", s.ResellerID)
	}
	ds, ok := w.Distributor(rs.DistributorID)
	if !ok {
		return SubscriptionEvent{}, world.NotFound("distributor", rs.DistributorID)
	}
	var id any = s.ID
	if set.SubscriptionIDAsString {
		id = strconv.FormatInt(s.ID, 10)
	}
	return SubscriptionEvent{
		ExternalID:   s.ExternalID,
		Distributor:  wireDistributor(ds),
		Reseller:     wireReseller(rs),
		Tenant:       wireTenant(tn),
		Plan:         wirePlan(t),
		Subscription: SubscriptionRef{ID: id, Attributes: nonNil(s.Attributes)},
		Attributes:   nonNil(s.OrderAttributes),
	}, nil
}

func wireDistributor(d *world.Distributor) Distributor {
	return Distributor{ID: d.ID, Name: d.Name, Region: d.Region, Currency: d.Currency, Attributes: nonNil(d.Attributes)}
}

func wireReseller(r *world.Reseller) Reseller {
	return Reseller{
		ID: r.ID, Name: r.Name, CompanyName: r.CompanyName,
		FirstAddress: r.FirstAddress, SecondAddress: r.SecondAddress,
		City: r.City, Region: r.Region, Zip: r.Zip, Country: r.Country,
		CompanyPhone: r.CompanyPhone, CompanyEmail: r.CompanyEmail, Currency: r.Currency,
		Attributes: nonNil(r.Attributes), CoreAttributes: nonNil(r.CoreAttributes),
	}
}

func wireTenant(t *world.Tenant) Tenant {
	return Tenant{ID: t.ID, CompanyName: t.CompanyName, Type: t.Type, Contact: t.Contact, Owner: t.Owner}
}

// wirePlan lists resources in the plan's own order, so bodies are stable.
func wirePlan(t Target) Plan {
	res := []ResourceQty{}
	for _, r := range t.Plan.Resources {
		if q, ok := t.Resources[r.Key]; ok {
			res = append(res, ResourceQty{Key: r.Key, Quantity: q})
		}
	}
	return Plan{
		Name:        t.Plan.Name,
		Description: t.Plan.Description,
		Resources:   res,
		Period: Period{
			Value: t.Period.Value, Type: t.Period.Type,
			Trial: t.Period.Trial, Endless: t.Period.Endless,
		},
		Attributes: nonNil(t.Plan.Attributes),
		SKU:        t.Plan.SKU,
	}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// CreateAnswer is what /subscription/create and /user/create return.
type CreateAnswer struct {
	ID         string            `json:"id"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// TaskError is the documented failure envelope.
type TaskError struct {
	Task struct {
		ErrorMessage string `json:"error_message"`
	} `json:"task"`
}
