package platform

// The optional call families of the Integration section (reference §1.1,
// §4.6 to §4.9): resource validation before an order that changes
// quantities, usage statistics, pay-as-you-go consumption, and order
// attributes with their validation. Every vendor call here is made
// without ws.mu, with the workspace's timeout; what it brings back is
// applied only after the lock is taken again and the world re-checked,
// because anything may have happened meanwhile.

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

// Refusal stages: which vendor call refused.
const (
	StageResourceValidation   = "resource_validation"
	StageOrderAttributes      = "order_attributes"
	StageAttributesValidation = "attributes_validation"
	StageUsage                = "usage"
	StageConsumption          = "consumption"
)

// Refusal is a vendor call that said no, or answered something the
// platform cannot use, before anything changed.
type Refusal struct {
	Stage   string `json:"stage"`
	Message string `json:"message"`
}

// ConsumptionRequest asks for the consumption of a period; nil bounds
// take their defaults: from the end of the last pulled period (or the
// subscription's start), to the workspace clock.
type ConsumptionRequest struct {
	From, To *time.Time
}

// ConsumptionResult is a consumption pull: the subscription after it,
// the period asked for and the charges it added (none on a refusal).
type ConsumptionResult struct {
	Result
	From, To time.Time
	Charges  []world.Charge
}

// OrderAttributesRequest asks the vendor which attributes an order of a
// plan by a tenant needs.
type OrderAttributesRequest struct {
	TenantID, PlanID int64
}

// OrderAttributesResult is the vendor's answer to /order/attributes. OK
// false means the vendor refused or answered something unreadable;
// Message says which.
type OrderAttributesResult struct {
	OK         bool
	Message    string
	Attributes []vendorapi.OrderAttribute
	ExchangeID int64
}

// ---- resource validation ----

// gate is a resource validation that must allow an operation before it
// begins: everything the call needs, copied out under the lock.
type gate struct {
	ws     *workspace
	gen    int
	subID  int64
	op     world.Operation
	action string
	now    time.Time
	call   vendorapi.Call
}

// resourceGate says whether op must first pass /subscription/resource_validation:
// with the toggle on, for a new change, switch-plan or renewal order
// that sets new quantities (a retry's order was validated already).
// Non-recurring plans never validate: they cannot change. Call with
// ws.mu held; it changes nothing.
func (p *Platform) resourceGate(ws *workspace, s *world.Subscription, op world.Operation, action string) (*gate, error) {
	// Manual provisioning mode calls nothing: the vendor checks the
	// quantities when it provisions the order by hand.
	if !ws.settings.AllowResourceValidation || op.OrderID != 0 || ws.manual() {
		return nil, nil
	}
	switch op.Kind {
	case world.OpChangeResources, world.OpSwitchPlan:
	case world.OpRenew:
		if maps.Equal(s.Resources, op.Resources) {
			return nil, nil
		}
	default:
		return nil, nil
	}
	w := ws.world
	plan, ok := w.Plan(op.PlanID)
	if !ok {
		return nil, world.NotFound("plan", op.PlanID)
	}
	if cur, ok := w.Plan(s.PlanID); plan.BillingType == world.BillingNonRecurring || (ok && cur.BillingType == world.BillingNonRecurring) {
		return nil, nil
	}
	period, ok := plan.Period(op.PeriodID)
	if !ok {
		return nil, world.NotFound("period", op.PeriodID)
	}
	body, err := vendorapi.SubscriptionBody(w, s, vendorapi.Target{Plan: plan, Period: period, Resources: op.Resources}, ws.settings)
	if err != nil {
		return nil, err
	}
	return &gate{
		ws: ws, gen: ws.generation, subID: s.ID, op: op, action: action, now: ws.clock,
		call: vendorapi.Call{
			Event: vendorapi.EventSubscriptionResourceCheck, Settings: cloneSettings(ws.settings),
			APGUID: w.APGUID, ResellerID: s.ResellerID, Body: body,
		},
	}, nil
}

// flyGated asks the vendor to validate, then begins the operation if it
// allowed it and the subscription still allows it. A refusal changes
// nothing: no order, same status, same last_error.
func (p *Platform) flyGated(ctx context.Context, g *gate, chk check) (Result, error) {
	dv := p.deliver(ctx, g.call, g.now, g.action, g.subID, 0, 0)
	ans := dv.ans
	ws := g.ws
	if err := p.land(ws, g.gen, dv.xs...); err != nil {
		return Result{}, err
	}
	if !ans.OK {
		s, ok := ws.world.Subscription(g.subID)
		if !ok {
			ws.mu.Unlock()
			return Result{}, world.NotFound("subscription", g.subID)
		}
		res := Result{Subscription: *s, Warnings: append([]string{}, dv.warnings...), Refusal: &Refusal{StageResourceValidation, ans.Message}}
		if err := p.commitLocked(ws, dv.xs...); err != nil {
			return Result{}, err
		}
		res.ExchangeIDs = dv.ids()
		return res, nil
	}
	// The validation is recorded first, so that its exchange comes before
	// the operation's.
	vb := &journal.Batch{Workspace: ws.name, Exchanges: dv.xs}
	p.store.Submit(vb)
	f, _, err := p.beginOp(ws, g.subID, g.action, chk, &g.op)
	ws.mu.Unlock()
	if err != nil {
		if serr := p.settle(ws, vb); serr != nil {
			return Result{}, serr
		}
		return Result{}, err
	}
	res, err := p.fly(ctx, f)
	if serr := p.settle(ws, vb); serr != nil {
		return Result{}, serr
	}
	if err != nil {
		return Result{}, err
	}
	res.ExchangeIDs = append(dv.ids(), res.ExchangeIDs...)
	res.Warnings = append(dv.warnings, res.Warnings...)
	return res, nil
}

// sameOperation reports whether b is the operation a was validated as.
func sameOperation(a, b world.Operation) bool {
	return a.Kind == b.Kind && a.PlanID == b.PlanID && a.PeriodID == b.PeriodID && maps.Equal(a.Resources, b.Resources)
}

// commitLocked records x with whatever changed under ws.mu, unlocks and
// waits for the commit; x.ID is set when it returns nil.
func (p *Platform) commitLocked(ws *workspace, xs ...*journal.Exchange) error {
	b := ws.batch(xs...)
	p.store.Submit(b)
	ws.mu.Unlock()
	return p.settle(ws, b)
}

// ---- usage and consumption ----

// meterCall is a usage or consumption call prepared under the lock.
type meterCall struct {
	ws         *workspace
	gen        int
	now        time.Time
	externalID string
	consumedTo *time.Time
	from, to   time.Time
	call       vendorapi.Call
}

// provisioned refuses a subscription the vendor does not know (never
// created there) or no longer serves.
func provisioned(s *world.Subscription, what string) error {
	switch {
	case s.ExternalID == "":
		return world.Errorf(world.CodeConflict, "subscription %d was never provisioned (no external_id), so the vendor has no %s for it", s.ID, what)
	case s.Status == world.StatusDeleted:
		return world.Errorf(world.CodeConflict, "subscription %d is deleted; the vendor has no %s for it", s.ID, what)
	}
	return nil
}

// currentBody is the subscription body describing s as it is.
func currentBody(ws *workspace, s *world.Subscription) (vendorapi.SubscriptionEvent, *world.Plan, error) {
	plan, ok := ws.world.Plan(s.PlanID)
	if !ok {
		return vendorapi.SubscriptionEvent{}, nil, world.NotFound("plan", s.PlanID)
	}
	period, ok := plan.Period(s.PeriodID)
	if !ok {
		return vendorapi.SubscriptionEvent{}, nil, world.NotFound("period", s.PeriodID)
	}
	body, err := vendorapi.SubscriptionBody(ws.world, s, vendorapi.Target{Plan: plan, Period: period, Resources: s.Resources}, ws.settings)
	return body, plan, err
}

// PullUsage asks the vendor what is in use of each resource
// (/subscription/usage) and stores it on the subscription. A refusal or
// an unreadable answer changes nothing and is the Result's Refusal.
// Keys the plan does not have are ignored, with a warning.
func (p *Platform) PullUsage(ctx context.Context, name string, id int64) (Result, error) {
	ws, err := p.lock(name)
	if err != nil {
		return Result{}, err
	}
	m, err := func() (*meterCall, error) {
		defer ws.mu.Unlock()
		s, ok := ws.world.Subscription(id)
		if !ok {
			return nil, world.NotFound("subscription", id)
		}
		if err := ws.callsVendor("pull usage statistics"); err != nil {
			return nil, err
		}
		if !ws.settings.AllowUsageURL {
			return nil, world.Errorf(world.CodeConflict, "allow_usage_url is off in the workspace's integration settings; turn it on to pull usage statistics")
		}
		if err := provisioned(s, "usage"); err != nil {
			return nil, err
		}
		if err := ws.ready(); err != nil {
			return nil, err
		}
		body, _, err := currentBody(ws, s)
		if err != nil {
			return nil, err
		}
		return p.meterCall(ws, s, vendorapi.EventSubscriptionUsage, body), nil
	}()
	if err != nil {
		return Result{}, err
	}
	dv := p.deliver(ctx, m.call, m.now, "usage", id, 0, 0)
	ans, x := dv.ans, dv.first()
	if err := p.land(ws, m.gen, dv.xs...); err != nil {
		return Result{}, err
	}
	s, ok := ws.world.Subscription(id)
	if !ok {
		ws.mu.Unlock()
		return Result{}, world.NotFound("subscription", id)
	}
	res := Result{Warnings: append([]string{}, dv.warnings...)}
	switch lines, err := vendorapi.ReadUsage(ans.Body); {
	case !ans.OK:
		res.Refusal = &Refusal{StageUsage, ans.Message}
	case err != nil:
		res.Refusal = &Refusal{StageUsage, "the vendor's answer to /subscription/usage: " + err.Error()}
	case s.ExternalID != m.externalID || s.Status == world.StatusDeleted:
		if err := p.commitLocked(ws, dv.xs...); err != nil {
			return Result{}, err
		}
		return Result{}, world.Errorf(world.CodeConflict, "subscription %d was deleted or re-provisioned while the vendor answered; its answer was recorded (exchange %d) but not stored", id, x.ID)
	default:
		plan, _ := ws.world.Plan(s.PlanID)
		usage := map[string]int64{}
		for _, l := range lines {
			if _, ok := plan.Resource(l.Key); !ok {
				res.Warnings = append(res.Warnings, fmt.Sprintf("the vendor reported usage of %q, which plan %d has no resource for; ignored", l.Key, plan.ID))
				continue
			}
			usage[l.Key] = l.Usage
		}
		now := ws.clock
		s.Usage, s.UsageUpdatedAt, s.UpdatedAt = usage, &now, now
		ws.touch(recSubscription, s.ID)
	}
	res.Subscription = *s
	if err := p.commitLocked(ws, dv.xs...); err != nil {
		return Result{}, err
	}
	res.ExchangeIDs = dv.ids()
	return p.lateSubscription(ctx, name, id, res)
}

// meterCall prepares a call about s. Call with ws.mu held.
func (p *Platform) meterCall(ws *workspace, s *world.Subscription, event vendorapi.Event, body any) *meterCall {
	m := &meterCall{ws: ws, gen: ws.generation, now: ws.clock, externalID: s.ExternalID,
		call: vendorapi.Call{Event: event, Settings: cloneSettings(ws.settings), APGUID: ws.world.APGUID, ResellerID: s.ResellerID, Body: body}}
	if s.ConsumedTo != nil {
		t := *s.ConsumedTo
		m.consumedTo = &t
	}
	return m
}

// PullConsumption collects the units a pay-as-you-go subscription
// consumed in a period (/subscription/consumption) and charges them at
// the plan's unit prices, exactly: each amount is parsed as a decimal and
// rounded half away from zero to minor units. A refusal, an unreadable
// answer or an amount that cannot be charged (negative, not a number,
// beyond int64) changes nothing and is the Result's Refusal. The clock
// calls it on the billing day with the default period.
func (p *Platform) PullConsumption(ctx context.Context, name string, id int64, req ConsumptionRequest) (ConsumptionResult, error) {
	return p.pullConsumption(ctx, name, nil, 0, id, req, "consumption")
}

// pullConsumption is PullConsumption recorded as action. With for set,
// it refuses unless the workspace is still that one in generation gen:
// the clock queues pulls, and a reset or a new workspace of the same
// name meanwhile must not be charged for the old world's time.
func (p *Platform) pullConsumption(ctx context.Context, name string, owner *workspace, gen int, id int64, req ConsumptionRequest, action string) (ConsumptionResult, error) {
	ws, err := p.lock(name)
	if err != nil {
		return ConsumptionResult{}, err
	}
	m, err := func() (*meterCall, error) {
		defer ws.mu.Unlock()
		if owner != nil && (ws != owner || ws.generation != gen) {
			return nil, world.Errorf(world.CodeConflict, "workspace %q was reset or replaced before the clock's consumption pull of subscription %d ran", name, id)
		}
		s, ok := ws.world.Subscription(id)
		if !ok {
			return nil, world.NotFound("subscription", id)
		}
		if err := ws.callsVendor("pull consumption"); err != nil {
			return nil, err
		}
		if !ws.settings.AllowConsumptionURL {
			return nil, world.Errorf(world.CodeConflict, "allow_consumption_url is off in the workspace's integration settings; turn it on to pull consumption")
		}
		body, plan, err := currentBody(ws, s)
		if err != nil {
			return nil, err
		}
		if plan.BillingType != world.BillingPayAsYouGo {
			return nil, world.Errorf(world.CodeConflict, "subscription %d is on %s plan %d; only pay-as-you-go plans are charged for consumption", s.ID, plan.BillingType, plan.ID)
		}
		if err := provisioned(s, "consumption"); err != nil {
			return nil, err
		}
		from, to, err := consumptionPeriod(s, req, ws.clock)
		if err != nil {
			return nil, err
		}
		if err := ws.ready(); err != nil {
			return nil, err
		}
		m := p.meterCall(ws, s, vendorapi.EventSubscriptionConsumption, vendorapi.NewConsumptionEvent(body, from, to))
		m.from, m.to = from, to
		return m, nil
	}()
	if err != nil {
		return ConsumptionResult{}, err
	}
	dv := p.deliver(ctx, m.call, m.now, action, id, 0, 0)
	ans, x := dv.ans, dv.first()
	if err := p.land(ws, m.gen, dv.xs...); err != nil {
		return ConsumptionResult{}, err
	}
	out := ConsumptionResult{From: m.from, To: m.to, Charges: []world.Charge{}}
	out.Warnings = []string{}
	s, ok := ws.world.Subscription(id)
	if !ok {
		ws.mu.Unlock()
		return ConsumptionResult{}, world.NotFound("subscription", id)
	}
	var charges []world.Charge
	var msg string
	switch {
	case !ans.OK:
		msg = ans.Message
	case !m.unchanged(s):
		if err := p.commitLocked(ws, dv.xs...); err != nil {
			return ConsumptionResult{}, err
		}
		return ConsumptionResult{}, m.changedError(id, x.ID)
	default:
		plan, _ := ws.world.Plan(s.PlanID)
		charges, out.Warnings, msg = price(ans.Body, plan, m.from, m.to)
	}
	out.Subscription = *s
	if msg != "" {
		out.Refusal = &Refusal{StageConsumption, msg}
	}
	out.Warnings = append(out.Warnings, dv.warnings...)
	// The exchange is committed first: its id is part of each charge.
	if err := p.commitLocked(ws, dv.xs...); err != nil {
		return ConsumptionResult{}, err
	}
	out.ExchangeIDs = dv.ids()
	if out.Refusal != nil {
		return p.lateConsumption(ctx, name, id, out)
	}
	ws.mu.Lock()
	if ws.deleted || ws.generation != m.gen {
		ws.mu.Unlock()
		return ConsumptionResult{}, world.Errorf(world.CodeConflict, "workspace %q was reset or deleted while the consumption was recorded (exchange %d); nothing was charged", name, x.ID)
	}
	// Entities may have moved in memory while the lock was free.
	s, ok = ws.world.Subscription(id)
	if !ok || !m.unchanged(s) {
		ws.mu.Unlock()
		return ConsumptionResult{}, m.changedError(id, x.ID)
	}
	for i := range charges {
		charges[i].ExchangeID = x.ID
	}
	to := m.to
	s.Charges = append(slices.Clip(s.Charges), charges...)
	s.ConsumedTo, s.UpdatedAt = &to, ws.clock
	ws.touch(recSubscription, s.ID)
	out.Subscription = *s
	out.Charges = charges
	if err := p.commitLocked(ws); err != nil {
		return ConsumptionResult{}, err
	}
	return p.lateConsumption(ctx, name, id, out)
}

// lateConsumption delivers the subscription's previous call late when
// ctx asks for it, after a consumption pull, and adds it to out.
func (p *Platform) lateConsumption(ctx context.Context, name string, id int64, out ConsumptionResult) (ConsumptionResult, error) {
	res, err := p.lateSubscription(ctx, name, id, out.Result)
	if err != nil {
		return ConsumptionResult{}, err
	}
	out.Result = res
	return out, nil
}

// unchanged reports whether s is still the subscription the call was
// about: same vendor id, not deleted, no other pull since.
func (m *meterCall) unchanged(s *world.Subscription) bool {
	same := (s.ConsumedTo == nil) == (m.consumedTo == nil) && (s.ConsumedTo == nil || s.ConsumedTo.Equal(*m.consumedTo))
	return same && s.ExternalID == m.externalID && s.Status != world.StatusDeleted
}

func (m *meterCall) changedError(id, exchangeID int64) error {
	return world.Errorf(world.CodeConflict, "subscription %d was deleted, re-provisioned or pulled again while the vendor answered; its answer was recorded (exchange %d) but nothing was charged", id, exchangeID)
}

// consumptionPeriod resolves and checks the period of a pull. Periods
// never overlap, so that no unit is charged twice.
func consumptionPeriod(s *world.Subscription, req ConsumptionRequest, clock time.Time) (from, to time.Time, err error) {
	last := s.StartDate
	if s.ConsumedTo != nil {
		last = *s.ConsumedTo
	}
	from, to = last, clock
	if req.From != nil {
		from = req.From.UTC()
		switch {
		case from.Before(s.StartDate):
			return from, to, world.Invalid("from", "%s is before the subscription's start date %s", from.Format(time.RFC3339), s.StartDate.Format(time.RFC3339))
		case s.ConsumedTo != nil && from.Before(*s.ConsumedTo):
			return from, to, world.Invalid("from", "%s overlaps the consumption pulled up to %s; start there or later", from.Format(time.RFC3339), s.ConsumedTo.Format(time.RFC3339))
		}
	}
	if req.To != nil {
		to = req.To.UTC()
		if to.After(clock) {
			return from, to, world.Invalid("to", "%s is in the future: the workspace clock is %s", to.Format(time.RFC3339), clock.Format(time.RFC3339))
		}
	}
	if !to.After(from) {
		return from, to, world.Invalid("to", "%s must be after from (%s); advance the clock or give an earlier from", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	return from, to, nil
}

// price reads a consumption answer and charges each resource of plan.
// msg says why nothing can be charged; keys the plan lacks are warnings.
func price(body []byte, plan *world.Plan, from, to time.Time) (charges []world.Charge, warnings []string, msg string) {
	warnings = []string{}
	lines, err := vendorapi.ReadConsumption(body)
	if err != nil {
		return nil, warnings, "the vendor's answer to /subscription/consumption: " + err.Error()
	}
	for _, l := range lines {
		r, ok := plan.Resource(l.Key)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("the vendor reported consumption of %q, which plan %d has no resource for; ignored", l.Key, plan.ID))
			continue
		}
		units, err := world.ParseUnits(string(l.Consumed))
		if err != nil {
			return nil, warnings, fmt.Sprintf("resource %s: consumed %v", l.Key, err)
		}
		amount, err := world.Price(units, r.UnitPrice)
		if err != nil {
			return nil, warnings, fmt.Sprintf("resource %s: %s units at %d: %v", l.Key, world.FormatUnits(units), r.UnitPrice, err)
		}
		charges = append(charges, world.Charge{
			Resource: l.Key, Units: world.FormatUnits(units), UnitPrice: r.UnitPrice, Amount: amount,
			Currency: plan.Currency, From: from, To: to,
		})
	}
	return charges, warnings, ""
}

// ---- order attributes ----

// OrderAttributes asks the vendor which attributes an order of a plan by
// a tenant needs (/order/attributes). The exchange is recorded whatever
// the answer.
func (p *Platform) OrderAttributes(ctx context.Context, name string, req OrderAttributesRequest) (OrderAttributesResult, error) {
	ws, err := p.lock(name)
	if err != nil {
		return OrderAttributesResult{}, err
	}
	call, now, err := func() (vendorapi.Call, time.Time, error) {
		defer ws.mu.Unlock()
		if err := ws.callsVendor("ask for order attributes"); err != nil {
			return vendorapi.Call{}, time.Time{}, err
		}
		if !ws.settings.AllowOrderAttributes {
			return vendorapi.Call{}, time.Time{}, errOrderAttributesOff()
		}
		if _, ok := ws.world.Tenant(req.TenantID); !ok {
			return vendorapi.Call{}, time.Time{}, world.Invalid("tenant_id", "tenant %d not found", req.TenantID)
		}
		if _, ok := ws.world.Plan(req.PlanID); !ok {
			return vendorapi.Call{}, time.Time{}, world.Invalid("plan_id", "plan %d not found", req.PlanID)
		}
		if err := ws.ready(); err != nil {
			return vendorapi.Call{}, time.Time{}, err
		}
		call, _, err := orderAttributesCall(ws, req.TenantID)
		return call, ws.clock, err
	}()
	if err != nil {
		return OrderAttributesResult{}, err
	}
	dv := p.deliver(ctx, call, now, "order-attributes", 0, 0, 0)
	ans := dv.ans
	if err := p.commitExchange(ws, dv.xs...); err != nil {
		return OrderAttributesResult{}, err
	}
	out := OrderAttributesResult{ExchangeID: dv.first().ID, Attributes: []vendorapi.OrderAttribute{}}
	defs, err := vendorapi.ReadOrderAttributes(ans.Body)
	switch {
	case !ans.OK:
		out.Message = ans.Message
	case err != nil:
		out.Message = "the vendor's answer to /order/attributes: " + err.Error()
	default:
		out.OK, out.Attributes = true, defs
	}
	return out, nil
}

func errOrderAttributesOff() error {
	return world.Errorf(world.CodeConflict, "allow_order_attributes is off in the workspace's integration settings; turn it on to ask the vendor for order attributes")
}

// orderAttributesCall prepares /order/attributes for a tenant's order.
// Call with ws.mu held.
func orderAttributesCall(ws *workspace, tenantID int64) (vendorapi.Call, vendorapi.OrderAttributesEvent, error) {
	body, err := vendorapi.OrderAttributesBody(ws.world, tenantID)
	if err != nil {
		return vendorapi.Call{}, body, err
	}
	tn, _ := ws.world.Tenant(tenantID)
	return vendorapi.Call{
		Event: vendorapi.EventOrderAttributes, Settings: cloneSettings(ws.settings),
		APGUID: ws.world.APGUID, ResellerID: tn.ResellerID, Body: body,
	}, body, nil
}

// orderPre is what happened before an order was placed: the exchanges of
// the attribute calls, and a refusal that stops the order.
type orderPre struct {
	// asked: the vendor was called, in workspace generation gen.
	asked   bool
	gen     int
	ids     []int64
	draft   world.Subscription
	refusal *Refusal
}

// result answers a refused order: nothing was created; the subscription
// is the draft that would have been (id 0).
func (pre orderPre) result() Result {
	return Result{Subscription: pre.draft, ExchangeIDs: pre.ids, Warnings: []string{}, Refusal: pre.refusal}
}

// orderGate runs the order attribute calls of an order when the workspace
// allows order attributes: the definitions are fetched and the values
// checked against them (a bad value is the caller's error, naming
// attributes.<key>), then, when the installation supports it, the vendor
// validates the values. Nothing is created here; the exchanges are
// recorded whatever happens.
func (p *Platform) orderGate(ctx context.Context, name string, req OrderRequest) (orderPre, error) {
	pre := orderPre{ids: []int64{}}
	ws, err := p.lock(name)
	if err != nil {
		return pre, err
	}
	var (
		call   vendorapi.Call
		base   vendorapi.OrderAttributesEvent
		target vendorapi.Target
		now    time.Time
	)
	err = func() error {
		defer ws.mu.Unlock()
		draft, err := checkOrder(ws, req)
		// Manual provisioning mode calls nothing, this neither.
		if err != nil || !ws.settings.AllowOrderAttributes || ws.manual() {
			return err
		}
		pre.draft, pre.asked, pre.gen, now = draft, true, ws.generation, ws.clock
		plan, _ := ws.world.Plan(draft.PlanID)
		period, _ := plan.Period(draft.PeriodID)
		target = vendorapi.Target{Plan: plan, Period: period, Resources: draft.Resources}
		call, base, err = orderAttributesCall(ws, req.TenantID)
		return err
	}()
	if err != nil || !pre.asked {
		return pre, err
	}
	dv := p.deliver(ctx, call, now, "order", 0, 0, 0)
	ans := dv.ans
	if err := p.commitExchange(ws, dv.xs...); err != nil {
		return pre, err
	}
	pre.ids = append(pre.ids, dv.ids()...)
	defs, err := vendorapi.ReadOrderAttributes(ans.Body)
	switch {
	case !ans.OK:
		pre.refusal = &Refusal{StageOrderAttributes, ans.Message}
		return pre, nil
	case err != nil:
		pre.refusal = &Refusal{StageOrderAttributes, "the vendor's answer to /order/attributes: " + err.Error()}
		return pre, nil
	}
	if err := checkAttributes(defs, pre.draft.OrderAttributes); err != nil {
		return pre, err
	}
	if !call.Settings.AttributesValidation {
		return pre, nil
	}
	vcall := call
	vcall.Event = vendorapi.EventOrderAttributesValidation
	vcall.Body = vendorapi.AttributesValidationBody(base, target, pre.draft.OrderAttributes)
	dv = p.deliver(ctx, vcall, now, "order", 0, 0, 0)
	ans = dv.ans
	if err := p.commitExchange(ws, dv.xs...); err != nil {
		return pre, err
	}
	pre.ids = append(pre.ids, dv.ids()...)
	switch msg, err := vendorapi.ReadAttributesValidation(ans.Body); {
	case !ans.OK:
		pre.refusal = &Refusal{StageAttributesValidation, ans.Message}
	case err != nil:
		pre.refusal = &Refusal{StageAttributesValidation, "the vendor's answer to /order/attributes_validation: " + err.Error()}
	case msg != "":
		pre.refusal = &Refusal{StageAttributesValidation, msg}
	}
	return pre, nil
}

// checkAttributes checks the values entered against the vendor's
// definitions: every required one present, each value among the allowed
// ones when the vendor lists them, nothing the vendor did not ask for.
func checkAttributes(defs []vendorapi.OrderAttribute, values map[string]string) error {
	known := map[string]vendorapi.OrderAttribute{}
	var keys []string
	for _, d := range defs {
		known[d.Key] = d
		keys = append(keys, d.Key)
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		d, ok := known[k]
		if !ok {
			asks := "none"
			if len(keys) > 0 {
				asks = strings.Join(keys, ", ")
			}
			return world.Invalid("attributes."+k, "the vendor asks for no attribute %q (it asks for: %s)", k, asks)
		}
		if v := values[k]; v != "" && len(d.Values) > 0 && !slices.Contains(d.Values, v) {
			return world.Invalid("attributes."+k, "must be one of %s, got %q", strings.Join(d.Values, ", "), v)
		}
	}
	for _, d := range defs {
		if d.Required && strings.TrimSpace(values[d.Key]) == "" {
			label := d.Label
			if label == "" {
				label = d.Key
			}
			return world.Invalid("attributes."+d.Key, "is required by the vendor (%s)", label)
		}
	}
	return nil
}

// callsVendor refuses a request whose only purpose is a vendor call when
// the workspace is in manual provisioning mode, which makes none.
func (ws *workspace) callsVendor(what string) error {
	if ws.manual() {
		return world.Errorf(world.CodeConflict, "the workspace is in manual provisioning mode, which makes no calls to the vendor; cannot %s", what)
	}
	return nil
}
