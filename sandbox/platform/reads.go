package platform

import (
	"context"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// Reads return copies. Entities' maps are never changed in place (writers
// assign fresh maps), so a shallow copy taken under the lock is safe to
// hand out.

// World returns a deep copy of the workspace's world.
func (p *Platform) World(_ context.Context, name string) (*world.World, error) {
	ws, err := p.lock(name)
	if err != nil {
		return nil, err
	}
	defer ws.mu.Unlock()
	return ws.world.Clone(), nil
}

// read runs fn on the locked world.
func (p *Platform) read(name string, fn func(w *world.World) error) error {
	ws, err := p.lock(name)
	if err != nil {
		return err
	}
	defer ws.mu.Unlock()
	return fn(ws.world)
}

func get[T any](p *Platform, name, kind string, id int64, find func(*world.World, int64) (*T, bool)) (T, error) {
	var out T
	err := p.read(name, func(w *world.World) error {
		v, ok := find(w, id)
		if !ok {
			return world.NotFound(kind, id)
		}
		out = *v
		return nil
	})
	return out, err
}

func list[T any](p *Platform, name string, all func(*world.World) []T, keep func(*T) bool) ([]T, error) {
	var out []T
	err := p.read(name, func(w *world.World) error {
		src := all(w)
		out = make([]T, 0, len(src))
		for i := range src {
			if keep == nil || keep(&src[i]) {
				out = append(out, src[i])
			}
		}
		return nil
	})
	return out, err
}

// Distributors lists the distributors.
func (p *Platform) Distributors(_ context.Context, ws string) ([]world.Distributor, error) {
	return list(p, ws, func(w *world.World) []world.Distributor { return w.Distributors }, nil)
}

// Distributor returns one distributor.
func (p *Platform) Distributor(_ context.Context, ws string, id int64) (world.Distributor, error) {
	return get(p, ws, "distributor", id, (*world.World).Distributor)
}

// Resellers lists the resellers.
func (p *Platform) Resellers(_ context.Context, ws string) ([]world.Reseller, error) {
	return list(p, ws, func(w *world.World) []world.Reseller { return w.Resellers }, nil)
}

// Reseller returns one reseller.
func (p *Platform) Reseller(_ context.Context, ws string, id int64) (world.Reseller, error) {
	return get(p, ws, "reseller", id, (*world.World).Reseller)
}

// Tenants lists the tenants.
func (p *Platform) Tenants(_ context.Context, ws string) ([]world.Tenant, error) {
	return list(p, ws, func(w *world.World) []world.Tenant { return w.Tenants }, nil)
}

// Tenant returns one tenant.
func (p *Platform) Tenant(_ context.Context, ws string, id int64) (world.Tenant, error) {
	return get(p, ws, "tenant", id, (*world.World).Tenant)
}

// Users lists the users.
func (p *Platform) Users(_ context.Context, ws string) ([]world.User, error) {
	return list(p, ws, func(w *world.World) []world.User { return w.Users }, nil)
}

// User returns one user.
func (p *Platform) User(_ context.Context, ws string, id int64) (world.User, error) {
	return get(p, ws, "user", id, (*world.World).User)
}

// Plans lists the plan catalogue.
func (p *Platform) Plans(_ context.Context, ws string) ([]world.Plan, error) {
	return list(p, ws, func(w *world.World) []world.Plan { return w.Plans }, nil)
}

// Plan returns one plan.
func (p *Platform) Plan(_ context.Context, ws string, id int64) (world.Plan, error) {
	return get(p, ws, "plan", id, (*world.World).Plan)
}

// Subscriptions lists subscriptions passing f.
func (p *Platform) Subscriptions(_ context.Context, ws string, f SubscriptionFilter) ([]world.Subscription, error) {
	return list(p, ws, func(w *world.World) []world.Subscription { return w.Subscriptions }, func(s *world.Subscription) bool {
		return (f.TenantID == 0 || s.TenantID == f.TenantID) &&
			(f.PlanID == 0 || s.PlanID == f.PlanID) &&
			(f.Status == "" || s.Status == f.Status)
	})
}

// Subscription returns one subscription.
func (p *Platform) Subscription(_ context.Context, ws string, id int64) (world.Subscription, error) {
	return get(p, ws, "subscription", id, (*world.World).Subscription)
}

// Orders lists orders, of one subscription when subscriptionID is not 0.
func (p *Platform) Orders(_ context.Context, ws string, subscriptionID int64) ([]world.Order, error) {
	return list(p, ws, func(w *world.World) []world.Order { return w.Orders }, func(o *world.Order) bool {
		return subscriptionID == 0 || o.SubscriptionID == subscriptionID
	})
}

// Order returns one order.
func (p *Platform) Order(_ context.Context, ws string, id int64) (world.Order, error) {
	return get(p, ws, "order", id, (*world.World).Order)
}
