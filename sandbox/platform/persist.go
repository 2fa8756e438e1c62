package platform

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// Kinds of persisted world records. The names are stored in data
// directories, so they never change.
const (
	recDistributor  = "distributor"
	recReseller     = "reseller"
	recTenant       = "tenant"
	recUser         = "user"
	recServiceTerm  = "service_term"
	recPlan         = "plan"
	recSubscription = "subscription"
	recOrder        = "order"
)

// meta is a workspace's persisted header: everything but the world's
// entities, which are records of their own so that an operation rewrites
// only what it touched.
type meta struct {
	Seed       int64              `json:"seed"`
	Clock      time.Time          `json:"clock"`
	Generation int                `json:"generation"`
	Settings   vendorapi.Settings `json:"settings"`
	APGUID     string             `json:"ap_guid"`
	WorldSeed  int64              `json:"world_seed"`
	Product    world.Product      `json:"product"`
	NextID     int64              `json:"next_id"`
	// FixedAPGUID is the ap_guid the workspace was created with, which a
	// reset keeps; empty when the seed's is used.
	FixedAPGUID string `json:"fixed_ap_guid,omitempty"`
}

type recKey struct {
	kind string
	id   int64
}

// touch marks a world entity as changed, to be written with the next
// batch. Every change to the world under ws.mu must be touched; the
// restart tests compare a restored world with the live one to catch a
// change that was not.
func (ws *workspace) touch(kind string, id int64) {
	if ws.dirty == nil {
		ws.dirty = map[recKey]struct{}{}
	}
	ws.dirty[recKey{kind, id}] = struct{}{}
}

// batch collects the header and the touched records, and resets the
// touched set. Call with ws.mu held, and submit before unlocking so that
// batches reach the store in the order the world changed.
func (ws *workspace) batch(xs ...*journal.Exchange) *journal.Batch {
	if ws.unsaved.full {
		b := ws.fullBatch()
		b.Exchanges = xs
		return b
	}
	b := &journal.Batch{Workspace: ws.name, CreatedAt: ws.createdAt, Meta: ws.meta(), Exchanges: xs}
	for k := range ws.dirty {
		if data, ok := ws.record(k); ok {
			b.Records = append(b.Records, journal.Record{Kind: k.kind, ID: k.id, Data: data})
		}
	}
	clear(ws.dirty)
	return b
}

// fullBatch writes the whole world, replacing what was stored.
func (ws *workspace) fullBatch() *journal.Batch {
	b := &journal.Batch{Workspace: ws.name, CreatedAt: ws.createdAt, Meta: ws.meta(), Replace: true, ClearExchanges: ws.unsaved.clearExchanges}
	ws.unsaved = unsaved{}
	w := ws.world
	add := func(kind string, id int64, v any) {
		b.Records = append(b.Records, journal.Record{Kind: kind, ID: id, Data: mustJSON(v)})
	}
	for i := range w.Distributors {
		add(recDistributor, w.Distributors[i].ID, &w.Distributors[i])
	}
	for i := range w.Resellers {
		add(recReseller, w.Resellers[i].ID, &w.Resellers[i])
	}
	for i := range w.Tenants {
		add(recTenant, w.Tenants[i].ID, &w.Tenants[i])
	}
	for i := range w.Users {
		add(recUser, w.Users[i].ID, &w.Users[i])
	}
	for i := range w.ServiceTerms {
		add(recServiceTerm, w.ServiceTerms[i].ID, &w.ServiceTerms[i])
	}
	for i := range w.Plans {
		add(recPlan, w.Plans[i].ID, &w.Plans[i])
	}
	for i := range w.Subscriptions {
		add(recSubscription, w.Subscriptions[i].ID, &w.Subscriptions[i])
	}
	for i := range w.Orders {
		add(recOrder, w.Orders[i].ID, &w.Orders[i])
	}
	for i := range ws.outbox.mails {
		m := &ws.outbox.mails[i]
		add(recMail, ws.outbox.slot(m.ID), m)
	}
	clear(ws.dirty)
	return b
}

func (ws *workspace) meta() []byte {
	w := ws.world
	return mustJSON(meta{
		Seed: ws.seed, Clock: ws.clock, Generation: ws.generation, Settings: ws.settings,
		APGUID: w.APGUID, WorldSeed: w.Seed, Product: w.Product, NextID: w.NextID,
		FixedAPGUID: ws.apguid,
	})
}

// record encodes one touched entity; false when it no longer exists.
func (ws *workspace) record(k recKey) ([]byte, bool) {
	w := ws.world
	var v any
	var ok bool
	switch k.kind {
	case recDistributor:
		v, ok = w.Distributor(k.id)
	case recReseller:
		v, ok = w.Reseller(k.id)
	case recTenant:
		v, ok = w.Tenant(k.id)
	case recUser:
		v, ok = w.User(k.id)
	case recServiceTerm:
		v, ok = w.ServiceTerm(k.id)
	case recPlan:
		v, ok = w.Plan(k.id)
	case recSubscription:
		v, ok = w.Subscription(k.id)
	case recOrder:
		v, ok = w.Order(k.id)
	case recMail:
		v, ok = ws.outbox.bySlot(k.id)
	}
	if !ok {
		return nil, false
	}
	return mustJSON(v), true
}

// unsaved is what a batch that failed to commit leaves for the next one
// to write.
type unsaved struct {
	// full: the whole world must be written again (a failed reset or
	// creation of the world).
	full bool
	// clearExchanges: a reset's forgetting of the exchanges failed.
	clearExchanges bool
}

// settle waits for b. When the store could not commit it, the world in
// memory has changes the disk lacks: what b carried is marked to be
// written again with the workspace's next batch, so the two agree as soon
// as the store recovers instead of differing until a restart shows it.
func (p *Platform) settle(ws *workspace, b *journal.Batch) error {
	err := b.Wait()
	if err == nil {
		return nil
	}
	p.log.Error("journal commit failed; the change will be written with the next one", "workspace", ws.name, "err", err)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if b.Replace {
		ws.unsaved.full = true
	}
	if b.ClearExchanges {
		ws.unsaved.clearExchanges = true
	}
	for _, r := range b.Records {
		ws.touch(r.Kind, r.ID)
	}
	return storeError(err)
}

// mustJSON encodes world values, which are plain data and always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("platform: encode %T: %v", v, err))
	}
	return b
}

// restore rebuilds a workspace from what the store saved; outboxCap is
// the cap of its outbox (0: DefaultOutboxCap).
func restore(saved journal.SavedWorkspace, outboxCap int) (*workspace, error) {
	var m meta
	if err := json.Unmarshal(saved.Meta, &m); err != nil {
		return nil, fmt.Errorf("workspace %q: header: %w", saved.Name, err)
	}
	w := &world.World{
		APGUID: m.APGUID, Seed: m.WorldSeed, Product: m.Product, NextID: m.NextID,
		Distributors: []world.Distributor{}, Resellers: []world.Reseller{}, Tenants: []world.Tenant{},
		Users: []world.User{}, ServiceTerms: []world.ServiceTerm{}, Plans: []world.Plan{},
		Subscriptions: []world.Subscription{}, Orders: []world.Order{},
	}
	ob := outbox{cap: outboxCap}
	slots := map[int64]int64{}
	for _, r := range saved.Records {
		var err error
		switch r.Kind {
		case recDistributor:
			w.Distributors, err = appendJSON(w.Distributors, r.Data)
		case recReseller:
			w.Resellers, err = appendJSON(w.Resellers, r.Data)
		case recTenant:
			w.Tenants, err = appendJSON(w.Tenants, r.Data)
		case recUser:
			w.Users, err = appendJSON(w.Users, r.Data)
		case recServiceTerm:
			w.ServiceTerms, err = appendJSON(w.ServiceTerms, r.Data)
		case recPlan:
			w.Plans, err = appendJSON(w.Plans, r.Data)
		case recSubscription:
			w.Subscriptions, err = appendJSON(w.Subscriptions, r.Data)
		case recOrder:
			w.Orders, err = appendJSON(w.Orders, r.Data)
		case recMail:
			ob.mails, err = appendJSON(ob.mails, r.Data)
			if err == nil {
				slots[ob.mails[len(ob.mails)-1].ID] = r.ID
			}
		default:
			err = fmt.Errorf("unknown kind")
		}
		if err != nil {
			return nil, fmt.Errorf("workspace %q: %s %d: %w", saved.Name, r.Kind, r.ID, err)
		}
	}
	if m.Settings.Paths == nil {
		m.Settings.Paths = map[string]string{}
	}
	if m.Settings.Headers == nil {
		m.Settings.Headers = map[string]string{}
	}
	ws := &workspace{
		name: saved.Name, createdAt: saved.CreatedAt, seed: m.Seed, world: w, apguid: m.FixedAPGUID,
		settings: m.Settings, clock: m.Clock, generation: m.Generation, outbox: ob,
	}
	// Saved under another cap: written again whole with the next batch.
	ws.unsaved.full = ws.outbox.restored(slots)
	return ws, nil
}

func appendJSON[T any](s []T, data []byte) ([]T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return s, err
	}
	return append(s, v), nil
}

// recover settles operations a previous process left in flight: their
// vendor call may or may not have happened and its answer is lost, so the
// operation is failed with a message saying so and can be retried, as the
// platform does with a task interrupted by an outage.
func (ws *workspace) recover() int {
	n := 0
	for i := range ws.world.Subscriptions {
		s := &ws.world.Subscriptions[i]
		if !s.Status.Transitional() || s.Pending == nil || waitsForOperator(s) {
			continue
		}
		k := kinds[s.Pending.Kind]
		msg := "the sandbox stopped while the vendor call was in flight; its answer was lost. Retry the operation"
		s.Status, s.LastError, s.UpdatedAt = k.failed, msg, ws.clock
		s.Ability = ws.world.Ability(s)
		ws.touch(recSubscription, s.ID)
		if o, ok := ws.world.Order(s.Pending.OrderID); ok {
			o.Status, o.Error, o.UpdatedAt = world.OrderProvisioningFailed, msg, ws.clock
			ws.touch(recOrder, o.ID)
		}
		n++
	}
	return n
}
