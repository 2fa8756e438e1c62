package platform

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// kind describes how an operation moves a subscription.
type kind struct {
	event        vendorapi.Event
	transitional world.Status
	failed       world.Status
	// verb names the operation in refusals.
	verb string
}

var kinds = map[string]kind{
	world.OpCreate:          {vendorapi.EventSubscriptionCreate, world.StatusInstalling, world.StatusInstallationFailed, "order"},
	world.OpRenew:           {vendorapi.EventSubscriptionRenew, world.StatusRenewing, world.StatusRenewingFailed, "renew"},
	world.OpChangeResources: {vendorapi.EventSubscriptionUpdate, world.StatusUpdating, world.StatusUpdatingFailed, "change resources of"},
	world.OpSwitchPlan:      {vendorapi.EventSubscriptionUpdate, world.StatusUpdating, world.StatusUpdatingFailed, "switch the plan of"},
	world.OpStop:            {vendorapi.EventSubscriptionStop, world.StatusStopping, world.StatusStoppingFailed, "stop"},
	world.OpActivate:        {vendorapi.EventSubscriptionActivate, world.StatusActivating, world.StatusActivationFailed, "activate"},
	world.OpDelete:          {vendorapi.EventSubscriptionDelete, world.StatusDeleting, world.StatusDeletionFailed, "delete"},
}

// flight is an operation whose vendor call is under way. Everything the
// call needs was copied out of the world under the lock.
type flight struct {
	ws    *workspace
	gen   int
	subID int64
	op    world.Operation
	call  vendorapi.Call
	now   time.Time
	// action names the operator action, for the exchange's record.
	action string
	// done is the answer of an operation that makes no call now (see
	// answered in manual.go); batch carries its change.
	done  *Result
	batch *journal.Batch
}

// ready refuses operations the workspace cannot carry out.
func (ws *workspace) ready() error {
	if ws.manual() {
		if ws.settings.NotificationEmail == "" {
			return world.Errorf(world.CodeConflict, "the workspace is in manual provisioning mode without a notification_email; set one with PUT integration")
		}
		return nil
	}
	if ws.settings.APIPath == "" {
		return world.Errorf(world.CodeConflict, "the workspace has no vendor api_path; set it with PUT integration (or serve --vendor)")
	}
	return nil
}

// start moves s to the operation's transitional status and prepares the
// call. It must be called with ws.mu held, after every check passed: from
// here on the world has changed.
func (p *Platform) start(ws *workspace, s *world.Subscription, op world.Operation, action string) (*flight, error) {
	w := ws.world
	k := kinds[op.Kind]
	plan, ok := w.Plan(op.PlanID)
	if !ok {
		return nil, world.NotFound("plan", op.PlanID)
	}
	period, ok := plan.Period(op.PeriodID)
	if !ok {
		return nil, world.NotFound("period", op.PeriodID)
	}
	body, err := vendorapi.SubscriptionBody(w, s, vendorapi.Target{Plan: plan, Period: period, Resources: op.Resources}, ws.settings)
	if err != nil {
		return nil, err
	}
	now := ws.clock
	s.Status = k.transitional
	s.Pending = &op
	s.UpdatedAt = now
	s.Ability = w.Ability(s)
	ws.touch(recSubscription, s.ID)
	if o, ok := w.Order(op.OrderID); ok {
		o.Status = world.OrderProvisioning
		o.Error = ""
		o.UpdatedAt = now
		ws.touch(recOrder, o.ID)
	}
	// The transitional state goes to the journal without anyone
	// waiting: it is deferred, so that when the vendor answers within
	// the journal's DeferWindow it shares a commit with the outcome, and when
	// the vendor is slow it is on disk while the call runs, for a restart
	// to find and fail (see recover).
	pre := ws.batch()
	pre.Defer = true
	p.store.Submit(pre)
	return &flight{
		ws: ws, gen: ws.generation, subID: s.ID, op: op, now: now, action: action,
		call: vendorapi.Call{
			Event:      k.event,
			Settings:   cloneSettings(ws.settings),
			APGUID:     w.APGUID,
			ResellerID: s.ResellerID,
			Body:       body,
			ExpectID:   op.Kind == world.OpCreate,
		},
	}, nil
}

// fly makes the vendor call without holding the lock, records it, and
// applies the answer. The caller's context only bounds waiting for the
// lock: once the call is made it runs to its own timeout, so that a client
// hanging up cannot leave a subscription in a transitional status.
func (p *Platform) fly(ctx context.Context, f *flight) (Result, error) {
	if f.done != nil {
		return p.settleAnswered(f)
	}
	dv := p.deliver(ctx, f.call, f.now, f.action, f.subID, f.op.OrderID, 0)
	ws := f.ws
	if err := p.land(ws, f.gen, dv.xs...); err != nil {
		return Result{}, err
	}
	res, err := p.apply(f, dv.ans)
	if err != nil {
		ws.mu.Unlock()
		return Result{}, err
	}
	b := ws.batch(dv.xs...)
	p.store.Submit(b)
	ws.mu.Unlock()
	if err := p.settle(ws, b); err != nil {
		return Result{}, err
	}
	res.ExchangeIDs = dv.ids()
	res.Warnings = append(res.Warnings, dv.warnings...)
	return res, nil
}

// land takes ws's lock after a vendor call, recorded as xs, made in
// generation gen. It returns with the lock held when the workspace is
// still the one the call was made for; otherwise without it, and an error
// saying what happened meanwhile. The answer of a call that outlived a reset is still recorded,
// as every exchange is, but not applied to the new world.
func (p *Platform) land(ws *workspace, gen int, xs ...*journal.Exchange) error {
	ws.mu.Lock()
	if ws.deleted {
		ws.mu.Unlock()
		return world.Errorf(world.CodeConflict, "workspace %q was deleted while the vendor call ran", ws.name)
	}
	if ws.generation != gen {
		ws.mu.Unlock()
		if err := p.commitExchange(ws, xs...); err != nil {
			return err
		}
		return world.Errorf(world.CodeConflict, "workspace %q was reset while the vendor call ran; its answer was recorded (exchange %d) but not applied", ws.name, xs[0].ID)
	}
	return nil
}

// apply moves the subscription and its order to the outcome of the
// vendor's answer. Call with ws.mu held.
func (p *Platform) apply(f *flight, ans vendorapi.Answer) (Result, error) {
	ws := f.ws
	w := ws.world
	s, ok := w.Subscription(f.subID)
	if !ok {
		return Result{}, world.NotFound("subscription", f.subID)
	}
	o, _ := w.Order(f.op.OrderID)
	now := ws.clock
	if ans.OK {
		applySuccess(w, s, f.op, ans, now)
		if o != nil {
			o.Status, o.Error = world.OrderCompleted, ""
		}
	} else {
		s.Status = kinds[f.op.Kind].failed
		s.LastError = ans.Message
		if o != nil {
			o.Status, o.Error = world.OrderProvisioningFailed, ans.Message
		}
	}
	if o != nil {
		o.UpdatedAt = now
		ws.touch(recOrder, o.ID)
	}
	s.UpdatedAt = now
	s.Ability = w.Ability(s)
	ws.touch(recSubscription, s.ID)
	res := Result{Subscription: *s, Warnings: []string{}}
	if o != nil {
		oc := *o
		res.Order = &oc
	}
	return res, nil
}

// applySuccess moves s to the outcome of op once the vendor confirmed it.
func applySuccess(w *world.World, s *world.Subscription, op world.Operation, ans vendorapi.Answer, now time.Time) {
	plan, _ := w.Plan(op.PlanID)
	period, _ := plan.Period(op.PeriodID)
	settled := world.StatusActive
	if plan.BillingType == world.BillingNonRecurring {
		settled = world.StatusDelivered
	}
	switch op.Kind {
	case world.OpCreate:
		s.ExternalID = ans.ID
		attrs := cloneMap(s.Attributes)
		for k, v := range ans.Attributes {
			attrs[k] = v
		}
		s.Attributes = attrs
		s.StartDate = now
		s.ExpirationDate = expiry(now, plan, period)
		s.Status = settled
	case world.OpRenew:
		base := now
		if s.ExpirationDate != nil && s.ExpirationDate.After(now) {
			base = *s.ExpirationDate
		}
		s.PeriodID, s.Trial, s.Resources = op.PeriodID, period.Trial, op.Resources
		s.ExpirationDate = expiry(base, plan, period)
		s.Status = settled
		if op.PrevStatus == world.StatusStopped {
			// Renewed but still stopped: Renew follows with an activation,
			// as the platform does when a renewal of a stopped
			// subscription completes.
			s.Status = world.StatusStopped
		}
	case world.OpChangeResources:
		s.Resources = op.Resources
		s.Status = settled
	case world.OpSwitchPlan:
		s.PlanID, s.PeriodID, s.Trial, s.Resources = op.PlanID, op.PeriodID, period.Trial, op.Resources
		switch {
		case period.Endless || plan.BillingType == world.BillingNonRecurring:
			s.ExpirationDate = nil
		case s.ExpirationDate == nil:
			s.ExpirationDate = expiry(now, plan, period)
		}
		s.Status = settled
	case world.OpStop:
		s.Status = world.StatusStopped
		at := now
		s.StoppedAt = &at
	case world.OpActivate:
		s.Status = settled
		s.StoppedAt = nil
	case world.OpDelete:
		s.Status = world.StatusDeleted
		s.AutoRenew = false
	}
	s.LastError = ""
	s.Pending = nil
	// The subscription has moved on: the clock's lifecycle events are to
	// be judged afresh (an activated subscription past its expiry is due
	// to expire again). Notices and pulls are marked by their own day.
	for _, k := range []string{EventAutoRenew, EventExpire, EventTrialEnd, EventGraceEnd, EventStopPeriodEnd} {
		delete(s.ClockMarks, k)
	}
}

// expiry is when a period bought at from ends; nil when it never does.
func expiry(from time.Time, plan *world.Plan, period *world.Period) *time.Time {
	if period.Endless || plan.BillingType == world.BillingNonRecurring {
		return nil
	}
	t := world.AddPeriod(from, *period)
	return &t
}

// refuse explains why the ability set does not allow an operation.
func refuse(s *world.Subscription, verb string) error {
	return world.Errorf(world.CodeConflict, "cannot %s subscription %d in status %s", verb, s.ID, s.Status)
}

// check decides, under the workspace lock, which operation a request
// makes of a subscription, or refuses it.
type check func(w *world.World, s *world.Subscription) (world.Operation, error)

// subscriptionOp finds the subscription, runs chk under the lock, starts
// the operation it returns and flies it. When the vendor must validate
// the new quantities first (see resourceGate), that call is made and the
// operation begins only if the vendor allows it.
//
// With a late delivery asked for (see Delivery), the subscription's
// previous call follows once the operation is done.
func (p *Platform) subscriptionOp(ctx context.Context, name string, id int64, action string, chk check) (Result, error) {
	res, err := p.subscriptionOpOnce(ctx, name, id, action, chk)
	if err != nil {
		return Result{}, err
	}
	return p.lateSubscription(ctx, name, id, res)
}

// lateSubscription delivers the subscription's previous call late when
// ctx asks for it, and adds it to res.
func (p *Platform) lateSubscription(ctx context.Context, name string, id int64, res Result) (Result, error) {
	l, err := p.deliverLate(ctx, name, journal.Filter{SubscriptionID: id}, res.ExchangeIDs)
	if err != nil {
		return Result{}, err
	}
	l.addTo(&res.ExchangeIDs, &res.Warnings)
	return res, nil
}

// subscriptionOpOnce is subscriptionOp without the late delivery.
func (p *Platform) subscriptionOpOnce(ctx context.Context, name string, id int64, action string, chk check) (Result, error) {
	ws, err := p.lock(name)
	if err != nil {
		return Result{}, err
	}
	f, g, err := func() (*flight, *gate, error) {
		defer ws.mu.Unlock()
		return p.beginOp(ws, id, action, chk, nil)
	}()
	if err != nil {
		return Result{}, err
	}
	if g != nil {
		return p.flyGated(ctx, g, chk)
	}
	return p.fly(ctx, f)
}

// beginLocked starts, with ws.mu held, an operation the vendor need not
// validate first: the clock's, which keep the quantities. It is separate
// from fly so that the clock can start the operations of one instant in
// a fixed order, which fixes the ids of their orders, and then fly them
// concurrently.
func (p *Platform) beginLocked(ws *workspace, id int64, action string, chk check) (*flight, error) {
	f, g, err := p.beginOp(ws, id, action, chk, nil)
	if g != nil {
		return nil, world.Errorf(world.CodeConflict, "the %s of subscription %d needs the vendor's resource validation first, which the clock does not ask for", action, id)
	}
	return f, err
}

// beginOp runs chk on the subscription and starts the operation, with
// ws.mu held. Without validated, an operation the vendor must validate
// first answers a gate instead, having changed nothing; with it (the
// operation the vendor allowed), the operation must still be that one.
func (p *Platform) beginOp(ws *workspace, id int64, action string, chk check, validated *world.Operation) (*flight, *gate, error) {
	s, ok := ws.world.Subscription(id)
	if !ok {
		return nil, nil, world.NotFound("subscription", id)
	}
	op, err := chk(ws.world, s)
	if err != nil {
		return nil, nil, err
	}
	if err := ws.ready(); err != nil {
		return nil, nil, err
	}
	if op.PrevStatus == "" {
		op.PrevStatus = s.Status
	}
	switch {
	case validated == nil:
		if g, err := p.resourceGate(ws, s, op, action); g != nil || err != nil {
			return nil, g, err
		}
	case !sameOperation(*validated, op):
		return nil, nil, world.Errorf(world.CodeConflict, "subscription %d changed while the vendor validated the new quantities; nothing was ordered, try again", id)
	}
	if op.OrderID == 0 && op.Kind != world.OpStop && op.Kind != world.OpActivate && op.Kind != world.OpDelete {
		o, err := newOrder(ws.world, s, op, ws.clock)
		if err != nil {
			return nil, nil, err
		}
		op.OrderID = o.ID
	}
	f, err := p.begin(ws, s, op, action)
	return f, nil, err
}

// Renew renews a subscription with a renewal order.
func (p *Platform) Renew(ctx context.Context, name string, id int64, req RenewRequest) (Result, error) {
	var warnings []string
	// The stale call of a late delivery comes after the activation that
	// may follow, once.
	once := withoutLate(ctx)
	res, err := p.subscriptionOp(once, name, id, "renew", renewCheck(req, &warnings))
	if err != nil {
		return Result{}, err
	}
	// A renewal the vendor validated first was checked twice.
	for _, w := range warnings {
		if !slices.Contains(res.Warnings, w) {
			res.Warnings = append(res.Warnings, w)
		}
	}
	if res, err = p.activateRenewed(once, name, id, res); err != nil {
		return res, err
	}
	return p.lateSubscription(ctx, name, id, res)
}

// renewCheck decides a renewal; the warnings it has for the operator go
// to *warnings.
func renewCheck(req RenewRequest, warnings *[]string) check {
	return func(w *world.World, s *world.Subscription) (world.Operation, error) {
		plan, _ := w.Plan(s.PlanID)
		periodID := req.PeriodID
		if periodID == 0 {
			periodID = s.PeriodID
		}
		period, ok := plan.Period(periodID)
		if !ok {
			return world.Operation{}, world.Invalid("period_id", "plan %d has no period %d", plan.ID, periodID)
		}
		res, err := resolveResources(plan, s.Resources, req.Resources, "resources")
		if err != nil {
			return world.Operation{}, err
		}
		if !s.Ability.Renew {
			return world.Operation{}, refuse(s, "renew")
		}
		if period.Endless {
			return world.Operation{}, world.Errorf(world.CodeConflict, "cannot renew subscription %d to endless period %d: endless periods have no renewal", s.ID, period.ID)
		}
		if period.Trial {
			*warnings = append(*warnings, "renewing to a trial period may lead to a financial loss for the reseller")
		}
		if s.Trial && addsResources(s.Resources, res) && period.Trial {
			return world.Operation{}, world.Errorf(world.CodeConflict, "cannot add resources to trial subscription %d", s.ID)
		}
		return world.Operation{Kind: world.OpRenew, PlanID: plan.ID, PeriodID: period.ID, Resources: res}, nil
	}
}

// activateRenewed follows a completed renewal of a stopped subscription
// with its activation, as the platform does.
func (p *Platform) activateRenewed(ctx context.Context, name string, id int64, res Result) (Result, error) {
	if res.Order == nil || res.Order.Type != world.OrderRenewal || res.Order.Status != world.OrderCompleted ||
		res.Subscription.Status != world.StatusStopped {
		return res, nil
	}
	act, err := p.Activate(ctx, name, id)
	if err != nil {
		return res, err
	}
	act.Order = res.Order
	act.ExchangeIDs = append(res.ExchangeIDs, act.ExchangeIDs...)
	act.Warnings = append(res.Warnings, act.Warnings...)
	return act, nil
}

// ChangeResources changes resource quantities with a change order.
func (p *Platform) ChangeResources(ctx context.Context, name string, id int64, resources map[string]int64) (Result, error) {
	return p.subscriptionOp(ctx, name, id, "change-resources", func(w *world.World, s *world.Subscription) (world.Operation, error) {
		if len(resources) == 0 {
			return world.Operation{}, world.Invalid("resources", "must name at least one resource")
		}
		plan, _ := w.Plan(s.PlanID)
		res, err := resolveResources(plan, s.Resources, resources, "resources")
		if err != nil {
			return world.Operation{}, err
		}
		if !s.Ability.ChangeResources {
			return world.Operation{}, refuse(s, "change resources of")
		}
		if !s.Ability.AddResources && addsResources(s.Resources, res) {
			return world.Operation{}, world.Errorf(world.CodeConflict, "cannot add resources to trial subscription %d; renew or switch it to a paid period first", s.ID)
		}
		if maps.Equal(s.Resources, res) {
			return world.Operation{}, world.Invalid("resources", "the quantities are already %v; nothing to change", res)
		}
		return world.Operation{Kind: world.OpChangeResources, PlanID: s.PlanID, PeriodID: s.PeriodID, Resources: res}, nil
	})
}

// SwitchPlan moves a subscription to another plan with a switch order.
func (p *Platform) SwitchPlan(ctx context.Context, name string, id int64, req SwitchRequest) (Result, error) {
	return p.subscriptionOp(ctx, name, id, "switch-plan", func(w *world.World, s *world.Subscription) (world.Operation, error) {
		plan, ok := w.Plan(req.PlanID)
		if !ok {
			return world.Operation{}, world.Invalid("plan_id", "plan %d not found", req.PlanID)
		}
		if plan.ID == s.PlanID {
			return world.Operation{}, world.Invalid("plan_id", "subscription %d is already on plan %d", s.ID, plan.ID)
		}
		period, err := resolvePeriod(plan, req.PeriodID)
		if err != nil {
			return world.Operation{}, err
		}
		base := map[string]int64{}
		for k, q := range s.Resources {
			if _, ok := plan.Resource(k); ok {
				base[k] = q
			}
		}
		res, err := resolveResources(plan, base, req.Resources, "resources")
		if err != nil {
			return world.Operation{}, err
		}
		if !s.Ability.SwitchPlan {
			return world.Operation{}, refuse(s, "switch the plan of")
		}
		if plan.BillingType == world.BillingNonRecurring {
			return world.Operation{}, world.Errorf(world.CodeConflict, "cannot switch subscription %d to non-recurring plan %d", s.ID, plan.ID)
		}
		return world.Operation{Kind: world.OpSwitchPlan, PlanID: plan.ID, PeriodID: period.ID, Resources: res}, nil
	})
}

// Stop stops a subscription.
func (p *Platform) Stop(ctx context.Context, name string, id int64) (Result, error) {
	return p.simpleOp(ctx, name, id, world.OpStop, func(a world.Ability) bool { return a.Stop })
}

// Activate resumes a stopped subscription.
func (p *Platform) Activate(ctx context.Context, name string, id int64) (Result, error) {
	return p.simpleOp(ctx, name, id, world.OpActivate, func(a world.Ability) bool { return a.Activate })
}

// Delete deletes a subscription.
func (p *Platform) Delete(ctx context.Context, name string, id int64) (Result, error) {
	return p.simpleOp(ctx, name, id, world.OpDelete, func(a world.Ability) bool { return a.Delete })
}

func (p *Platform) simpleOp(ctx context.Context, name string, id int64, opKind string, allowed func(world.Ability) bool) (Result, error) {
	return p.subscriptionOp(ctx, name, id, opKind, simpleCheck(opKind, allowed))
}

// simpleCheck decides an operation that changes no plan or quantity.
func simpleCheck(opKind string, allowed func(world.Ability) bool) check {
	return func(_ *world.World, s *world.Subscription) (world.Operation, error) {
		if !allowed(s.Ability) {
			return world.Operation{}, refuse(s, kinds[opKind].verb)
		}
		return world.Operation{Kind: opKind, PlanID: s.PlanID, PeriodID: s.PeriodID, Resources: s.Resources}, nil
	}
}

// Retry sends the failed operation of a subscription again, with its
// original order.
func (p *Platform) Retry(ctx context.Context, name string, id int64) (Result, error) {
	once := withoutLate(ctx)
	res, err := p.subscriptionOp(once, name, id, "retry", func(_ *world.World, s *world.Subscription) (world.Operation, error) {
		if !s.Ability.Retry || s.Pending == nil {
			return world.Operation{}, world.Errorf(world.CodeConflict, "subscription %d in status %s has no failed operation to retry", s.ID, s.Status)
		}
		return *s.Pending, nil
	})
	if err != nil {
		return Result{}, err
	}
	if res, err = p.activateRenewed(once, name, id, res); err != nil {
		return res, err
	}
	return p.lateSubscription(ctx, name, id, res)
}

// PlaceOrder orders a new subscription: a sales order whose provisioning
// calls /subscription/create. With order attributes allowed, the vendor
// is asked for its attribute definitions (and may validate the values)
// first; see orderGate.
func (p *Platform) PlaceOrder(ctx context.Context, name string, req OrderRequest) (Result, error) {
	pre, err := p.orderGate(ctx, name, req)
	if err != nil {
		return Result{}, err
	}
	if pre.refusal != nil {
		res := pre.result()
		if DeliveryOf(ctx).Late {
			res.Warnings = append(res.Warnings, "late: the order was refused before a subscription existed, so nothing was delivered late")
		}
		return res, nil
	}
	ws, err := p.lock(name)
	if err != nil {
		return Result{}, err
	}
	f, err := func() (*flight, error) {
		defer ws.mu.Unlock()
		if pre.asked && ws.generation != pre.gen {
			return nil, world.Errorf(world.CodeConflict, "workspace %q was reset while the vendor was asked about order attributes; nothing was ordered", name)
		}
		draft, err := checkOrder(ws, req)
		if err != nil {
			return nil, err
		}
		// Every check passed: from here the world changes.
		w := ws.world
		s := draft
		s.ID = w.NewID()
		op := world.Operation{Kind: world.OpCreate, PlanID: s.PlanID, PeriodID: s.PeriodID, Resources: s.Resources, PrevStatus: world.StatusOrdered}
		w.Subscriptions = append(w.Subscriptions, s)
		sp, _ := w.Subscription(s.ID)
		o, err := newOrder(w, sp, op, ws.clock)
		if err != nil {
			return nil, err
		}
		op.OrderID = o.ID
		return p.begin(ws, sp, op, "order")
	}()
	if err != nil {
		return Result{}, err
	}
	res, err := p.fly(ctx, f)
	if err != nil {
		return Result{}, err
	}
	// A new subscription has no earlier call of its own (the attribute
	// calls are the order's, made before it existed): a late delivery
	// only warns.
	if res, err = p.lateSubscription(ctx, name, res.Subscription.ID, res); err != nil {
		return Result{}, err
	}
	res.ExchangeIDs = append(pre.ids, res.ExchangeIDs...)
	return res, nil
}

// checkOrder checks an order against the world and returns the
// subscription it would create, without an id. Call with ws.mu held; it
// changes nothing.
func checkOrder(ws *workspace, req OrderRequest) (world.Subscription, error) {
	w := ws.world
	tn, ok := w.Tenant(req.TenantID)
	if !ok {
		return world.Subscription{}, world.Invalid("tenant_id", "tenant %d not found", req.TenantID)
	}
	plan, ok := w.Plan(req.PlanID)
	if !ok {
		return world.Subscription{}, world.Invalid("plan_id", "plan %d not found", req.PlanID)
	}
	period, err := resolvePeriod(plan, req.PeriodID)
	if err != nil {
		return world.Subscription{}, err
	}
	res, err := resolveResources(plan, nil, req.Resources, "resources")
	if err != nil {
		return world.Subscription{}, err
	}
	attrs, err := cleanAttributes(req.Attributes)
	if err != nil {
		return world.Subscription{}, err
	}
	subName := strings.TrimSpace(req.Name)
	if subName == "" {
		subName = plan.Name
	}
	if len(subName) > 255 {
		return world.Subscription{}, world.Invalid("name", "must be at most 255 bytes")
	}
	now := ws.clock
	s := world.Subscription{
		Name: subName, TenantID: tn.ID, ResellerID: tn.ResellerID,
		PlanID: plan.ID, PeriodID: period.ID, Status: world.StatusOrdered, Trial: period.Trial,
		StartDate: now, Resources: res, Attributes: map[string]string{}, OrderAttributes: attrs,
		CreatedAt: now, UpdatedAt: now,
	}
	renewable := plan.BillingType != world.BillingNonRecurring && !period.Endless
	s.AutoRenew = renewable
	if req.AutoRenew != nil {
		if *req.AutoRenew && !renewable {
			return world.Subscription{}, world.Invalid("auto_renew", "plan %d period %d cannot renew, so auto-renew cannot be on", plan.ID, period.ID)
		}
		s.AutoRenew = *req.AutoRenew
	}
	if err := ws.ready(); err != nil {
		return world.Subscription{}, err
	}
	return s, nil
}

// UpdateSubscription changes a subscription's name and auto-renew option.
// All fields are checked before any is applied.
func (p *Platform) UpdateSubscription(_ context.Context, name string, id int64, patch SubscriptionPatch) (world.Subscription, error) {
	ws, err := p.lock(name)
	if err != nil {
		return world.Subscription{}, err
	}
	unlocked := false
	defer func() {
		if !unlocked {
			ws.mu.Unlock()
		}
	}()
	w := ws.world
	s, ok := w.Subscription(id)
	if !ok {
		return world.Subscription{}, world.NotFound("subscription", id)
	}
	var newName string
	if patch.Name != nil {
		newName = strings.TrimSpace(*patch.Name)
		if newName == "" || len(newName) > 255 {
			return world.Subscription{}, world.Invalid("name", "must be 1-255 bytes")
		}
	}
	if s.Status == world.StatusDeleted || s.Status.Transitional() {
		return world.Subscription{}, world.Errorf(world.CodeConflict, "cannot change subscription %d in status %s", s.ID, s.Status)
	}
	if patch.AutoRenew != nil && *patch.AutoRenew != s.AutoRenew {
		// Judge against the subscription as this request leaves it: a
		// reseller may lift its lock and change the option at once. The
		// plan's and the reseller's own locks still hold.
		probe := *s
		if patch.AutoRenewLocked != nil {
			probe.AutoRenewLocked = *patch.AutoRenewLocked
		}
		switch {
		case w.AutoRenewLockedFor(&probe):
			return world.Subscription{}, world.Errorf(world.CodeConflict, "the reseller has locked the auto-renew option of subscription %d", s.ID)
		case !w.Ability(&probe).ChangeAutoRenew:
			return world.Subscription{}, world.Errorf(world.CodeConflict, "auto-renew cannot be changed on subscription %d (status %s, plan %d)", s.ID, s.Status, s.PlanID)
		}
	}
	if patch.Name != nil {
		s.Name = newName
	}
	if patch.AutoRenewLocked != nil {
		s.AutoRenewLocked = *patch.AutoRenewLocked
	}
	if patch.AutoRenew != nil {
		s.AutoRenew = *patch.AutoRenew
	}
	s.UpdatedAt = ws.clock
	s.Ability = w.Ability(s)
	ws.touch(recSubscription, s.ID)
	out := *s
	b := ws.batch()
	p.store.Submit(b)
	unlocked = true
	ws.mu.Unlock()
	if err := p.settle(ws, b); err != nil {
		return world.Subscription{}, err
	}
	return out, nil
}

// resolvePeriod finds the period; 0 means the plan's first paid period.
func resolvePeriod(plan *world.Plan, id int64) (*world.Period, error) {
	if id == 0 {
		if p := plan.DefaultPeriod(); p != nil {
			return p, nil
		}
		return nil, world.Invalid("period_id", "plan %d has no default period; name one", plan.ID)
	}
	p, ok := plan.Period(id)
	if !ok {
		return nil, world.Invalid("period_id", "plan %d has no period %d", plan.ID, id)
	}
	return p, nil
}

// resolveResources checks requested quantities against the plan and fills
// the rest from base, or the plan's default amount. It returns a fresh map.
func resolveResources(plan *world.Plan, base, req map[string]int64, field string) (map[string]int64, error) {
	keys := make([]string, 0, len(req))
	for k := range req {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		r, ok := plan.Resource(k)
		if !ok {
			var known []string
			for _, r := range plan.Resources {
				known = append(known, r.Key)
			}
			return nil, world.Invalid(field+"."+k, "plan %d has no resource %q (it has: %s)", plan.ID, k, strings.Join(known, ", "))
		}
		q := req[k]
		switch {
		case q < 0:
			return nil, world.Invalid(field+"."+k, "must not be negative, got %d", q)
		case q < r.Min:
			return nil, world.Invalid(field+"."+k, "must be at least %d, got %d", r.Min, q)
		case r.Max > 0 && q > r.Max:
			return nil, world.Invalid(field+"."+k, "must be at most %d, got %d", r.Max, q)
		}
	}
	out := make(map[string]int64, len(plan.Resources))
	for _, r := range plan.Resources {
		switch q, ok := req[r.Key]; {
		case ok:
			out[r.Key] = q
		default:
			if b, ok := base[r.Key]; ok {
				out[r.Key] = b
			} else {
				out[r.Key] = max(r.Included, r.Min)
			}
		}
	}
	return out, nil
}

func addsResources(old, new map[string]int64) bool {
	for k, q := range new {
		if q > old[k] {
			return true
		}
	}
	return false
}

func cleanAttributes(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if strings.TrimSpace(k) == "" {
			return nil, world.Invalid("attributes", "attribute keys must not be empty")
		}
		out[k] = v
	}
	return out, nil
}

// newOrder opens the order for op, priced exactly in minor units.
func newOrder(w *world.World, s *world.Subscription, op world.Operation, now time.Time) (*world.Order, error) {
	plan, ok := w.Plan(op.PlanID)
	if !ok {
		return nil, world.NotFound("plan", op.PlanID)
	}
	period, ok := plan.Period(op.PeriodID)
	if !ok {
		return nil, world.NotFound("period", op.PeriodID)
	}
	var typ string
	var total world.Money
	switch op.Kind {
	case world.OpCreate:
		typ = world.OrderSales
		total = plan.SetupFee + period.Price + extras(plan, op.Resources)
	case world.OpRenew:
		typ = world.OrderRenewal
		price := period.RenewalPrice
		if price == 0 {
			price = period.Price
		}
		total = price + extras(plan, op.Resources)
	case world.OpChangeResources:
		typ = world.OrderChange
		for _, r := range plan.Resources {
			if d := op.Resources[r.Key] - s.Resources[r.Key]; d > 0 {
				total += world.Money(d) * r.UnitPrice
			}
		}
	case world.OpSwitchPlan:
		typ = world.OrderSwitchPlan
		total = period.Price + extras(plan, op.Resources)
	default:
		return nil, fmt.Errorf("no order for %s", op.Kind)
	}
	if period.Trial {
		total = 0
	}
	o := world.Order{
		ID: w.NewID(), SubscriptionID: s.ID, TenantID: s.TenantID, Type: typ,
		Status: world.OrderProvisioning, PlanID: plan.ID, PeriodID: period.ID,
		Resources: cloneMap(op.Resources), Total: total, Currency: plan.Currency,
		CreatedAt: now, UpdatedAt: now,
	}
	w.Orders = append(w.Orders, o)
	op2, _ := w.Order(o.ID)
	return op2, nil
}

// extras is the price of resources above their included amounts.
func extras(plan *world.Plan, res map[string]int64) world.Money {
	var sum world.Money
	for _, r := range plan.Resources {
		if over := res[r.Key] - r.Included; over > 0 {
			sum += world.Money(over) * r.UnitPrice
		}
	}
	return sum
}
