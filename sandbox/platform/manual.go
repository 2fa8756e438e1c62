package platform

// Manual provisioning mode (seed 003) and manual approval of stops and
// deletes (service terms, reference §7.3).
//
// In manual mode the platform makes no call to the vendor: every
// subscription operation moves the subscription to its transitional
// status as usual, sends an e-mail to the integration's notification
// address, and waits there until the operator says how it went with
// Complete or Fail, as the vendor's staff would once they did the work.
// The outcome is applied exactly as a vendor answer would be (apply).
//
// A stop or delete whose service term says manual first waits in
// waiting_for_manual_approve with no call at all; Approve carries it out
// (by a call, or by e-mail in manual mode), Decline puts the subscription
// back as it was. The decision is made in begin, on the path every
// operation takes, so that stops and deletes started by the workspace
// clock wait for approval too.
//
// User operations in manual mode are applied by the platform at once and
// the vendor is told by e-mail, with nothing to wait for: the platform
// owns its users, and the vendor's user endpoints are optional (seed 003),
// so there is nothing on the vendor side that could refuse them. Attach,
// which exists only to call /user/create, is refused.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// CompleteRequest is the operator's report that the vendor carried out a
// manual operation.
type CompleteRequest struct {
	// ExternalID is the vendor's id of a created subscription; required
	// when completing a create, refused otherwise.
	ExternalID string
	// Attributes are subscription attributes the vendor set on creation.
	Attributes map[string]string
}

// waitsForOperator reports whether s waits for a person rather than for a
// vendor call: an approval, or a manual operation to be completed. Such a
// subscription survives a restart as it is.
func waitsForOperator(s *world.Subscription) bool {
	return s.Status == world.StatusWaitingForManualApprove ||
		(s.Pending != nil && s.Pending.Manual && s.Status.Transitional())
}

// needsApproval reports whether op must wait for a manager first: a stop
// or delete whose service term says manual. Retrying an approved
// operation that failed does not ask again.
func needsApproval(w *world.World, s *world.Subscription, op world.Operation) bool {
	if op.Kind != world.OpStop && op.Kind != world.OpDelete {
		return false
	}
	if s.Status == kinds[op.Kind].failed {
		return false
	}
	plan, ok := w.Plan(s.PlanID)
	if !ok {
		return false
	}
	term, ok := w.ServiceTerm(plan.ServiceTermID)
	if !ok {
		return false
	}
	if op.Kind == world.OpStop {
		return term.StopType == world.TermManual
	}
	return term.DeleteType == world.TermManual
}

// begin starts op on s once every check passed: it parks a stop or delete
// that needs approval, hands the operation to the vendor by e-mail in
// manual mode, or prepares the vendor call. Call with ws.mu held.
func (p *Platform) begin(ws *workspace, s *world.Subscription, op world.Operation, action string) (*flight, error) {
	if needsApproval(ws.world, s, op) {
		return p.park(ws, s, op), nil
	}
	return p.proceed(ws, s, op, action)
}

// proceed starts op for real: the vendor call, or in manual mode the
// e-mail. Call with ws.mu held.
func (p *Platform) proceed(ws *workspace, s *world.Subscription, op world.Operation, action string) (*flight, error) {
	op.Manual = ws.manual()
	op.Parked = nil
	f, err := p.start(ws, s, op, action)
	if err != nil || !op.Manual {
		return f, err
	}
	ws.notify(operationMail(ws, s, op))
	res := Result{Subscription: *s, ExchangeIDs: []int64{}, Warnings: []string{}}
	if o, ok := ws.world.Order(op.OrderID); ok {
		oc := *o
		res.Order = &oc
	}
	return p.answered(ws, res), nil
}

// park moves s to waiting_for_manual_approve with op pending, and no
// call. A failed operation s carried is kept in op, for Decline to put
// back. Call with ws.mu held.
func (p *Platform) park(ws *workspace, s *world.Subscription, op world.Operation) *flight {
	if s.Pending != nil && s.Status.Failed() {
		op.Parked = s.Pending
	}
	s.Status = world.StatusWaitingForManualApprove
	s.Pending = &op
	s.UpdatedAt = ws.clock
	s.Ability = ws.world.Ability(s)
	ws.touch(recSubscription, s.ID)
	res := Result{Subscription: *s, ExchangeIDs: []int64{}, Warnings: []string{
		fmt.Sprintf("the service term of subscription %d asks a manager to approve a %s: approve or decline it", s.ID, op.Kind),
	}}
	return p.answered(ws, res)
}

// answered is the flight of an operation that makes no call now: its
// change is submitted here, under the lock, and fly only waits for it.
func (p *Platform) answered(ws *workspace, res Result) *flight {
	b := ws.batch()
	p.store.Submit(b)
	return &flight{ws: ws, done: &res, batch: b}
}

// settleAnswered finishes a flight made by answered.
func (p *Platform) settleAnswered(f *flight) (Result, error) {
	if err := p.settle(f.ws, f.batch); err != nil {
		return Result{}, err
	}
	return *f.done, nil
}

// Approve carries out the stop or delete waiting for a manager's
// approval, exactly as it would have run without one.
func (p *Platform) Approve(ctx context.Context, name string, id int64) (Result, error) {
	ws, err := p.lock(name)
	if err != nil {
		return Result{}, err
	}
	f, err := func() (*flight, error) {
		defer ws.mu.Unlock()
		s, err := waiting(ws, id, "approve")
		if err != nil {
			return nil, err
		}
		if err := ws.ready(); err != nil {
			return nil, err
		}
		return p.proceed(ws, s, *s.Pending, "approve")
	}()
	if err != nil {
		return Result{}, err
	}
	return p.fly(ctx, f)
}

// Decline refuses the stop or delete waiting for approval: the
// subscription goes back to the status it had, with the failed operation
// it carried then, and nothing is sent.
func (p *Platform) Decline(_ context.Context, name string, id int64) (Result, error) {
	ws, err := p.lock(name)
	if err != nil {
		return Result{}, err
	}
	f, err := func() (*flight, error) {
		defer ws.mu.Unlock()
		s, err := waiting(ws, id, "decline")
		if err != nil {
			return nil, err
		}
		op := s.Pending
		s.Status, s.Pending = op.PrevStatus, op.Parked
		s.UpdatedAt = ws.clock
		s.Ability = ws.world.Ability(s)
		ws.touch(recSubscription, s.ID)
		return p.answered(ws, Result{Subscription: *s, ExchangeIDs: []int64{}, Warnings: []string{}}), nil
	}()
	if err != nil {
		return Result{}, err
	}
	return p.settleAnswered(f)
}

// waiting finds subscription id waiting for approval.
func waiting(ws *workspace, id int64, verb string) (*world.Subscription, error) {
	s, ok := ws.world.Subscription(id)
	if !ok {
		return nil, world.NotFound("subscription", id)
	}
	if s.Status != world.StatusWaitingForManualApprove || s.Pending == nil {
		return nil, world.Errorf(world.CodeConflict, "cannot %s subscription %d: it is %s, not waiting for manual approval", verb, s.ID, s.Status)
	}
	return s, nil
}

// Complete reports that the vendor carried out the manual operation
// subscription id waits for; it lands as the vendor's success would.
func (p *Platform) Complete(ctx context.Context, name string, id int64, req CompleteRequest) (Result, error) {
	res, err := p.settleManual(name, id, "complete", func(op world.Operation) (vendorapi.Answer, error) {
		ans := vendorapi.Answer{OK: true}
		if op.Kind != world.OpCreate {
			if req.ExternalID != "" {
				return ans, world.Invalid("external_id", "only completing a create sets the external id; this is a %s", op.Kind)
			}
			if len(req.Attributes) > 0 {
				return ans, world.Invalid("attributes", "only completing a create sets attributes; this is a %s", op.Kind)
			}
			return ans, nil
		}
		ext := strings.TrimSpace(req.ExternalID)
		switch {
		case ext == "":
			return ans, world.Invalid("external_id", "is required to complete a create: it is the vendor's id of the subscription")
		case len(ext) > 255:
			return ans, world.Invalid("external_id", "must be at most 255 bytes")
		case strings.IndexFunc(ext, unicode.IsControl) >= 0:
			return ans, world.Invalid("external_id", "must not contain control characters")
		}
		attrs, err := cleanAttributes(req.Attributes)
		if err != nil {
			return ans, err
		}
		ans.ID, ans.Attributes = ext, attrs
		return ans, nil
	})
	if err != nil {
		return Result{}, err
	}
	return p.activateRenewed(ctx, name, id, res)
}

// Fail reports that the vendor could not carry out the manual operation
// subscription id waits for; it lands as a vendor refusal would, with
// message as last_error, and can be retried.
func (p *Platform) Fail(_ context.Context, name string, id int64, message string) (Result, error) {
	return p.settleManual(name, id, "fail", func(world.Operation) (vendorapi.Answer, error) {
		msg := strings.TrimSpace(message)
		switch {
		case msg == "":
			return vendorapi.Answer{}, world.Invalid("message", "must say why the operation failed")
		case len(msg) > 2000:
			return vendorapi.Answer{}, world.Invalid("message", "must be at most 2000 bytes")
		}
		return vendorapi.Answer{OK: false, Message: msg}, nil
	})
}

// settleManual applies the answer that answer makes of the operation
// subscription id waits for in manual mode.
func (p *Platform) settleManual(name string, id int64, verb string, answer func(world.Operation) (vendorapi.Answer, error)) (Result, error) {
	ws, err := p.lock(name)
	if err != nil {
		return Result{}, err
	}
	var b *journal.Batch
	res, err := func() (Result, error) {
		defer ws.mu.Unlock()
		s, ok := ws.world.Subscription(id)
		if !ok {
			return Result{}, world.NotFound("subscription", id)
		}
		if s.Pending == nil || !s.Pending.Manual || s.Status != kinds[s.Pending.Kind].transitional {
			return Result{}, world.Errorf(world.CodeConflict, "cannot %s subscription %d: it is %s, with no manual operation waiting", verb, s.ID, s.Status)
		}
		op := *s.Pending
		ans, err := answer(op)
		if err != nil {
			return Result{}, err
		}
		res, err := p.apply(&flight{ws: ws, gen: ws.generation, subID: s.ID, op: op}, ans)
		if err != nil {
			return Result{}, err
		}
		b = ws.batch()
		p.store.Submit(b)
		return res, nil
	}()
	if err != nil {
		return Result{}, err
	}
	if err := p.settle(ws, b); err != nil {
		return Result{}, err
	}
	res.ExchangeIDs = []int64{}
	return res, nil
}

// mailVerbs say what the vendor is asked to do, per operation kind.
var mailVerbs = map[string]string{
	world.OpCreate:          "provision new subscription",
	world.OpRenew:           "renew subscription",
	world.OpChangeResources: "change the resources of subscription",
	world.OpSwitchPlan:      "switch the plan of subscription",
	world.OpStop:            "stop subscription",
	world.OpActivate:        "activate subscription",
	world.OpDelete:          "delete subscription",
}

// operationMail is the e-mail that asks the vendor to carry out op on s
// by hand. It names what the vendor needs, not the whole event body:
// attributes may hold secrets, and mails are not redacted.
func operationMail(ws *workspace, s *world.Subscription, op world.Operation) world.Mail {
	w := ws.world
	verb := mailVerbs[op.Kind]
	var b strings.Builder
	fmt.Fprintf(&b, "%s is in manual provisioning mode. Please %s %d by hand.\n\n", w.Product.Name, verb, s.ID)
	fmt.Fprintf(&b, "Subscription: %d %q\n", s.ID, s.Name)
	if s.ExternalID != "" {
		fmt.Fprintf(&b, "External id: %s\n", s.ExternalID)
	}
	if tn, ok := w.Tenant(s.TenantID); ok {
		fmt.Fprintf(&b, "Customer: %s (tenant %d)\n", tn.CompanyName, tn.ID)
	}
	if rs, ok := w.Reseller(s.ResellerID); ok {
		fmt.Fprintf(&b, "Reseller: %s (%d)\n", rs.Name, rs.ID)
	}
	planName := fmt.Sprintf("plan %d", op.PlanID)
	if plan, ok := w.Plan(op.PlanID); ok {
		planName = plan.Name
		fmt.Fprintf(&b, "Plan: %s (SKU %s)\n", plan.Name, plan.SKU)
		if pd, ok := plan.Period(op.PeriodID); ok {
			fmt.Fprintf(&b, "Period: %d %s%s\n", pd.Value, pd.Type, map[bool]string{true: " (trial)"}[pd.Trial])
		}
	}
	if len(op.Resources) > 0 {
		keys := make([]string, 0, len(op.Resources))
		for k := range op.Resources {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("Resources:\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %d\n", k, op.Resources[k])
		}
	}
	if op.OrderID != 0 {
		fmt.Fprintf(&b, "Order: %d\n", op.OrderID)
	}
	fmt.Fprintf(&b, "\nWhen it is done, report it: POST /api/v1/workspaces/%s/subscriptions/%d/complete", ws.name, s.ID)
	if op.Kind == world.OpCreate {
		b.WriteString(` with {"external_id": "<your id>"}`)
	}
	fmt.Fprintf(&b, "; if it cannot be done, POST …/subscriptions/%d/fail with {\"message\": \"<why>\"}.\n", s.ID)
	return world.Mail{
		Subject:        fmt.Sprintf("Action required: %s %d (%s)", verb, s.ID, planName),
		Body:           b.String(),
		Operation:      op.Kind,
		SubscriptionID: s.ID,
	}
}

// userDone says what happened to a user, per user event.
var userDone = map[vendorapi.Event]string{
	vendorapi.EventUserCreate:        "was created",
	vendorapi.EventUserUpdate:        "was updated",
	vendorapi.EventUserDelete:        "was deleted",
	vendorapi.EventUserActivate:      "was activated",
	vendorapi.EventUserDeactivate:    "was deactivated",
	vendorapi.EventUserPasswordReset: "had the password reset",
}

// userMail tells the vendor about a user operation the platform applied
// in manual mode. Passwords are never mailed.
func userMail(ws *workspace, u *world.User, event vendorapi.Event) world.Mail {
	what := strings.TrimPrefix(string(event), "user.")
	var b strings.Builder
	fmt.Fprintf(&b, "%s is in manual provisioning mode. A user of your service %s; update your service if it keeps users.\n\n", ws.world.Product.Name, userDone[event])
	fmt.Fprintf(&b, "User: %d %s %s <%s>\n", u.ID, u.FirstName, u.LastName, u.Email)
	fmt.Fprintf(&b, "Role: %s\nStatus: %s\n", u.Role, u.Status)
	if u.VendorID != "" {
		fmt.Fprintf(&b, "Your id: %s\n", u.VendorID)
	}
	if tn, ok := ws.world.Tenant(u.TenantID); ok {
		fmt.Fprintf(&b, "Customer: %s (tenant %d)\n", tn.CompanyName, tn.ID)
	}
	return world.Mail{
		Subject:   fmt.Sprintf("User %s %s (user %d)", u.Email, userDone[event], u.ID),
		Body:      b.String(),
		Operation: "user_" + what,
		UserID:    u.ID,
	}
}

// userByMail applies a user operation at once in manual mode and mails
// the vendor about it. Call with ws.mu held.
func (p *Platform) userByMail(ws *workspace, u *world.User, action string, event vendorapi.Event, password string, ok func(*world.User, vendorapi.Answer)) *userFlight {
	if ok != nil {
		ok(u, vendorapi.Answer{})
	}
	u.LastError = ""
	ws.touch(recUser, u.ID)
	ws.notify(userMail(ws, u, event))
	return p.localUser(ws, u, action, password)
}

// manual reports whether the workspace is in manual provisioning mode.
func (ws *workspace) manual() bool { return ws.settings.Mode == vendorapi.ModeManual }
