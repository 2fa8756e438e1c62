package world

import (
	"maps"
	"slices"
)

// Clone returns a deep copy of w: no map, slice or pointer is shared, so
// that a reader can be handed a snapshot while the platform keeps changing
// the original under its lock. Nil maps and slices stay nil and empty ones
// stay empty, so the copy marshals exactly like the original.
func (w *World) Clone() *World {
	if w == nil {
		return nil
	}
	c := *w
	c.Distributors = cloneSlice(w.Distributors, func(d Distributor) Distributor {
		d.Attributes = cloneMap(d.Attributes)
		return d
	})
	c.Resellers = cloneSlice(w.Resellers, func(r Reseller) Reseller {
		r.Attributes = cloneMap(r.Attributes)
		r.CoreAttributes = cloneMap(r.CoreAttributes)
		return r
	})
	c.Tenants = slices.Clone(w.Tenants)
	c.Users = slices.Clone(w.Users)
	c.ServiceTerms = slices.Clone(w.ServiceTerms)
	c.Plans = cloneSlice(w.Plans, func(p Plan) Plan {
		p.Periods = slices.Clone(p.Periods)
		p.Resources = slices.Clone(p.Resources)
		p.Attributes = cloneMap(p.Attributes)
		return p
	})
	c.Subscriptions = cloneSlice(w.Subscriptions, cloneSubscription)
	c.Orders = cloneSlice(w.Orders, func(o Order) Order {
		o.Resources = cloneMap(o.Resources)
		return o
	})
	return &c
}

// cloneSubscription deep-copies one subscription.
func cloneSubscription(s Subscription) Subscription {
	if s.ExpirationDate != nil {
		t := *s.ExpirationDate
		s.ExpirationDate = &t
	}
	s.Resources = cloneMap(s.Resources)
	s.Attributes = cloneMap(s.Attributes)
	s.OrderAttributes = cloneMap(s.OrderAttributes)
	s.ClockMarks = cloneMap(s.ClockMarks)
	if s.StoppedAt != nil {
		t := *s.StoppedAt
		s.StoppedAt = &t
	}
	s.Usage = cloneMap(s.Usage)
	if s.UsageUpdatedAt != nil {
		t := *s.UsageUpdatedAt
		s.UsageUpdatedAt = &t
	}
	if s.ConsumedTo != nil {
		t := *s.ConsumedTo
		s.ConsumedTo = &t
	}
	s.Charges = slices.Clone(s.Charges)
	s.Pending = cloneOperation(s.Pending)
	return s
}

// cloneOperation deep-copies an operation with the one it parked.
func cloneOperation(op *Operation) *Operation {
	if op == nil {
		return nil
	}
	c := *op
	c.Resources = cloneMap(c.Resources)
	c.Parked = cloneOperation(c.Parked)
	return &c
}

// cloneSlice copies xs applying deep to each element; nil stays nil.
func cloneSlice[T any](xs []T, deep func(T) T) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = deep(x)
	}
	return out
}

// cloneMap copies a map; nil stays nil.
func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	return maps.Clone(m)
}
