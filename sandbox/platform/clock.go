package platform

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// Kinds of time-driven events. At one instant they fire in this order, so
// that a renewal made at the moment of expiry prevents the expiry.
const (
	EventBillingNotice = "billing_notice"
	EventConsumption   = "consumption"
	EventAutoRenew     = "auto_renew"
	EventExpire        = "expire"
	EventTrialEnd      = "trial_end"
	EventGraceEnd      = "grace_end"
	EventStopPeriodEnd = "stop_period_end"
)

var eventRank = map[string]int{
	EventBillingNotice: 0,
	EventConsumption:   1,
	EventAutoRenew:     2,
	EventExpire:        3,
	EventTrialEnd:      4,
	EventGraceEnd:      5,
	EventStopPeriodEnd: 6,
}

// Outcomes of a time-driven event.
const (
	// OutcomeDone: the platform did it (and the vendor, when called, agreed).
	OutcomeDone = "done"
	// OutcomeFailed: the vendor refused, timed out or could not be reached.
	// An operation leaves the subscription in its failed status with
	// last_error; a consumption pull changes nothing, and the next billing
	// day pulls the whole period since the last good pull.
	OutcomeFailed = "failed"
	// OutcomeRefused: the platform's rules did not allow it at that time
	// (say the workspace has no api_path); the message says why. It is
	// not tried again for the same due time.
	OutcomeRefused = "refused"
	// OutcomeWaiting: the operation waits for someone (manual approval,
	// manual provisioning).
	OutcomeWaiting = "waiting"
)

// ClockEvent is one time-driven event: when it was due, what it was about
// and, once fired, how it went.
type ClockEvent struct {
	// At is the workspace time the event fired at: its due time, or the
	// time of the advance that found it overdue.
	At             time.Time
	Kind           string
	SubscriptionID int64
	Outcome        string
	Message        string
	// Status is the subscription's status after the event.
	Status      world.Status
	OrderID     int64
	ExchangeIDs []int64
}

// ClockInfo describes a workspace clock.
type ClockInfo struct {
	Now   time.Time
	Epoch time.Time
	// Advancing is true while an advance is firing events.
	Advancing bool
	// Next is the next event the clock would fire, nil when none is
	// scheduled. Its Outcome is empty.
	Next *ClockEvent
}

// AdvanceRequest moves a workspace clock forward: By a span ("36h",
// "7d", "1mo15d", "13mo", "1y") or To a time. Exactly one is set.
type AdvanceRequest struct {
	By string
	To *time.Time
}

// AdvanceResult is what an advance did, in the order it happened.
type AdvanceResult struct {
	From time.Time
	Now  time.Time
	// Events lists the first MaxListedEvents events fired;
	// EventsTotal counts them all and Truncated says when some are not
	// listed (every vendor call is in the exchanges either way).
	Events      []ClockEvent
	EventsTotal int
	Truncated   bool
}

// MaxListedEvents caps the events an advance lists in its answer.
const MaxListedEvents = 1000

// maxAdvance bounds one advance, so a typo ("1000y") is an error and not
// an afternoon of renewals.
const maxAdvance = 50 * 366 * 24 * time.Hour

var spanPart = regexp.MustCompile(`(\d+)(mo|y|w|d|h|m|s)`)

// addSpan adds a span such as "1y2mo3d4h" to t. Years, months and days
// are calendar units, as service terms count them.
func addSpan(t time.Time, span string) (time.Time, error) {
	if span == "" {
		return t, fmt.Errorf("must not be empty")
	}
	parts := spanPart.FindAllStringSubmatchIndex(span, -1)
	pos := 0
	var y, mo, d int
	var dur time.Duration
	for _, m := range parts {
		if m[0] != pos {
			break
		}
		n, err := strconv.Atoi(span[m[2]:m[3]])
		if err != nil || n > 100_000 {
			return t, fmt.Errorf("%q is too large", span[m[0]:m[1]])
		}
		switch span[m[4]:m[5]] {
		case "y":
			y += n
		case "mo":
			mo += n
		case "w":
			d += 7 * n
		case "d":
			d += n
		case "h":
			dur += time.Duration(n) * time.Hour
		case "m":
			dur += time.Duration(n) * time.Minute
		case "s":
			dur += time.Duration(n) * time.Second
		}
		// Each part is at most 100,000 hours, far below what a Duration
		// holds, so checking the sum part by part keeps it from wrapping.
		if dur > maxAdvance || y > 100_000 || mo > 1_000_000 || d > 10_000_000 {
			return t, fmt.Errorf("%q is more than one advance may cover (50 years)", span)
		}
		pos = m[1]
	}
	if pos != len(span) {
		return t, fmt.Errorf("must be a span such as 36h, 7d, 2w, 1mo15d or 1y (units y, mo, w, d, h, m, s), got %q", span)
	}
	out := t.AddDate(y, mo, d).Add(dur)
	if !out.After(t) {
		return t, fmt.Errorf("must be more than zero, got %q", span)
	}
	return out, nil
}

// target resolves the request against the clock's time now.
func (r AdvanceRequest) target(now time.Time) (time.Time, error) {
	var to time.Time
	switch {
	case r.By != "" && r.To != nil:
		return now, world.Invalid("by", "give either by or to, not both")
	case r.By != "":
		t, err := addSpan(now, r.By)
		if err != nil {
			return now, world.Invalid("by", "%v", err)
		}
		to = t
	case r.To != nil:
		to = r.To.UTC()
		if to.Before(now) {
			return now, world.Invalid("to", "the clock never goes back: it is %s, to is %s", now.Format(time.RFC3339), to.Format(time.RFC3339))
		}
	default:
		return now, world.Invalid("by", "give by (a span such as 7d) or to (a time)")
	}
	if to.Sub(now) > maxAdvance {
		return now, world.Invalid(map[bool]string{true: "by", false: "to"}[r.By != ""], "one advance may cover at most 50 years")
	}
	return to, nil
}

// due is an event the clock found due.
type due struct {
	kind  string
	subID int64
	// at is the event's own due time; the clock fires it at max(at, now).
	at time.Time
}

// eventsOf calls emit with every time-driven event s has ahead of it (or
// overdue), from the service term's rules. It reads only; fire
// re-checks each event under the same lock before acting on it.
//
// The model (reference §7.3): an active subscription with auto-renew on
// gets a renewal order auto_renew_point days before it expires (a trial
// one is renewed to the plan's paid period); at expiry an unrenewed one
// becomes graced (a trial one stops: nothing unpaid to grace); when the
// grace period ends it is stopped; when the stop period after stopping
// ends it is deleted. The billing-day notice goes out only for active,
// graced, and waiting-for-approval-to-stop subscriptions (seed 000,
// CR-840).
func (ws *workspace) eventsOf(s *world.Subscription, now time.Time, emit func(due)) {
	w := ws.world
	plan, ok := w.Plan(s.PlanID)
	if !ok {
		return
	}
	term, ok := w.ServiceTerm(plan.ServiceTermID)
	if !ok {
		return
	}
	period, _ := plan.Period(s.PeriodID)
	add := func(kind string, at time.Time) {
		if m, ok := s.ClockMarks[kind]; ok && m.Equal(at) {
			return
		}
		emit(due{kind: kind, subID: s.ID, at: at})
	}
	exp := s.ExpirationDate
	switch s.Status {
	case world.StatusActive:
		if exp == nil {
			break
		}
		renewable := plan.BillingType != world.BillingNonRecurring && period != nil && !period.Endless
		if s.AutoRenew && renewable && (!s.Trial || plan.DefaultPeriod() != nil) {
			add(EventAutoRenew, exp.AddDate(0, 0, -term.AutoRenewPoint))
		}
		if s.Trial {
			add(EventTrialEnd, *exp)
		} else {
			add(EventExpire, *exp)
		}
	case world.StatusRenewingFailed:
		// A renewal that failed does not keep a subscription alive.
		if exp != nil {
			add(EventExpire, *exp)
		}
	case world.StatusGraced:
		if exp != nil {
			add(EventGraceEnd, exp.AddDate(0, 0, term.GracePeriod))
		}
	case world.StatusStopped:
		switch {
		case s.StoppedAt != nil:
			add(EventStopPeriodEnd, s.StoppedAt.AddDate(0, 0, term.StopPeriod))
		case exp != nil:
			// Seeded as stopped: it stopped when its grace ended.
			add(EventStopPeriodEnd, exp.AddDate(0, 0, term.GracePeriod+term.StopPeriod))
		}
	}
	// Pay-as-you-go: the consumption since the last pull is pulled on
	// every billing day (the operator guide says "on a regular basis";
	// the billing day is when charges change status).
	if plan.BillingType == world.BillingPayAsYouGo && ws.settings.AllowConsumptionURL && !ws.manual() && term.BillingDay > 0 && s.ExternalID != "" &&
		(s.Status == world.StatusActive || s.Status == world.StatusGraced) {
		from := s.StartDate
		if s.ConsumedTo != nil {
			from = *s.ConsumedTo
		}
		due := nextBillingDay(term.BillingDay, from)
		// A pull that failed leaves ConsumedTo where it was; the next
		// billing day pulls everything since then.
		if m, ok := s.ClockMarks[EventConsumption]; ok && !m.Before(due) {
			due = nextBillingDay(term.BillingDay, m)
		}
		add(EventConsumption, due)
	}
	if lead := ws.settings.NoticeDays(); lead >= 0 && noticeStatus(s) && term.BillingDay > 0 {
		day := nextBillingDay(term.BillingDay, now)
		if m, ok := s.ClockMarks[EventBillingNotice]; ok && m.Equal(day) {
			day = nextBillingDay(term.BillingDay, day)
		}
		// The mark is the billing day the notice announced, not the
		// notice's own time, so that changing the lead sends no
		// second notice for the same day.
		if m, ok := s.ClockMarks[EventBillingNotice]; !ok || !m.Equal(day) {
			emit(due{kind: EventBillingNotice, subID: s.ID, at: day.AddDate(0, 0, -lead)})
		}
	}
}

// noticeStatus: the statuses a billing-day notice is sent for (CR-840).
func noticeStatus(s *world.Subscription) bool {
	switch s.Status {
	case world.StatusActive, world.StatusGraced:
		return true
	case world.StatusWaitingForManualApprove:
		return s.Pending != nil && s.Pending.Kind == world.OpStop
	}
	return false
}

// nextBillingDay is the first billing day (day of month, 00:00 UTC) after t.
func nextBillingDay(day int, t time.Time) time.Time {
	t = t.UTC()
	b := time.Date(t.Year(), t.Month(), day, 0, 0, 0, 0, time.UTC)
	if !b.After(t) {
		b = time.Date(t.Year(), t.Month()+1, day, 0, 0, 0, 0, time.UTC)
	}
	return b
}

// next finds the earliest instant at or before target at which events are
// due, and those events in firing order. Overdue events are due now.
// Call with ws.mu held.
func (ws *workspace) next(target time.Time) (time.Time, []due) {
	now := ws.clock
	var at time.Time
	var out []due
	for i := range ws.world.Subscriptions {
		ws.eventsOf(&ws.world.Subscriptions[i], now, func(d due) {
			t := d.at
			if t.Before(now) {
				t = now
			}
			switch {
			case t.After(target):
			case out == nil || t.Before(at):
				at, out = t, []due{d}
			case t.Equal(at):
				out = append(out, d)
			}
		})
	}
	// Subscriptions are in id order; a stable sort by kind keeps it.
	slices.SortStableFunc(out, func(a, b due) int { return eventRank[a.kind] - eventRank[b.kind] })
	return at, out
}

// Clock describes a workspace clock and what it will do next.
func (p *Platform) Clock(_ context.Context, name string) (ClockInfo, error) {
	ws, err := p.lock(name)
	if err != nil {
		return ClockInfo{}, err
	}
	defer ws.mu.Unlock()
	info := ClockInfo{Now: ws.clock, Epoch: p.cfg.Epoch, Advancing: ws.advancing}
	far := ws.clock.Add(maxAdvance)
	if at, evs := ws.next(far); len(evs) > 0 {
		info.Next = &ClockEvent{At: at, Kind: evs[0].kind, SubscriptionID: evs[0].subID}
	}
	return info, nil
}

// Advance moves a workspace clock forward and fires, in true
// chronological order across all subscriptions, every time-driven event
// it passes. The vendor calls of one instant run concurrently through the
// workspace's bounded dispatch; the next instant starts when they are all
// answered, so that a later event sees what an earlier one did. Events of
// one instant begin in a fixed order (kind, then subscription id), so the
// same seed and the same advances give the same orders and calls.
//
// The advance runs to its end even when the caller hangs up: stopping
// half-way would leave an instant half-fired. One advance at a time per
// workspace; operator operations go on meanwhile.
func (p *Platform) Advance(ctx context.Context, name string, req AdvanceRequest) (AdvanceResult, error) {
	ws, err := p.lock(name)
	if err != nil {
		return AdvanceResult{}, err
	}
	from := ws.clock
	target, err := req.target(from)
	if err != nil {
		ws.mu.Unlock()
		return AdvanceResult{}, err
	}
	if ws.advancing {
		ws.mu.Unlock()
		return AdvanceResult{}, world.Errorf(world.CodeConflict, "the clock of workspace %q is already advancing; wait for that advance to finish", name)
	}
	ws.advancing = true
	abort := make(chan struct{})
	ws.abort = abort
	gen := ws.generation
	set := cloneSettings(ws.settings)
	ws.mu.Unlock()
	defer func() {
		ws.mu.Lock()
		ws.advancing = false
		if ws.abort == abort {
			ws.abort = nil
		}
		ws.mu.Unlock()
	}()

	ctx = context.WithoutCancel(ctx)
	d := newDispatcher(set.Concurrency(), set.DispatchRate, abort)
	defer d.close()
	res := AdvanceResult{From: from, Now: from, Events: []ClockEvent{}}
	record := func(ev *ClockEvent) {
		res.EventsTotal++
		if len(res.Events) < MaxListedEvents {
			res.Events = append(res.Events, *ev)
		} else {
			res.Truncated = true
		}
	}
	for {
		ws.mu.Lock()
		if ws.deleted || ws.generation != gen {
			ws.mu.Unlock()
			return res, world.Errorf(world.CodeConflict, "workspace %q was reset or deleted while its clock advanced; the advance stopped at %s", name, res.Now.Format(time.RFC3339))
		}
		at, evs := ws.next(target)
		if len(evs) == 0 {
			ws.clock = target
			b := ws.batch()
			p.store.Submit(b)
			ws.mu.Unlock()
			if err := p.settle(ws, b); err != nil {
				return res, err
			}
			res.Now = target
			return res, nil
		}
		ws.clock = at
		ws.mu.Unlock()
		res.Now = at
		fired, err := p.fireInstant(ctx, ws, gen, evs, d)
		if err != nil {
			return res, err
		}
		for i := range fired {
			record(&fired[i])
		}
	}
}

// instantChunk is how many events fire under one hold of the workspace
// lock, so that a storm of thousands does not stall the operator API.
const instantChunk = 64

// fireInstant fires the events due at the workspace's current time:
// under the lock, in order, it checks each is still due and begins it;
// vendor calls go to the dispatcher as they are begun. It returns when
// every call is answered and every change is recorded.
func (p *Platform) fireInstant(ctx context.Context, ws *workspace, gen int, evs []due, d *dispatcher) ([]ClockEvent, error) {
	// out never grows past len(evs), so the jobs' pointers into it stay
	// valid.
	out := make([]ClockEvent, 0, len(evs))
	var wg sync.WaitGroup
	var batches []*journal.Batch
	for lo := 0; lo < len(evs); lo += instantChunk {
		hi := min(lo+instantChunk, len(evs))
		ws.mu.Lock()
		if ws.deleted || ws.generation != gen {
			ws.mu.Unlock()
			break
		}
		for _, e := range evs[lo:hi] {
			ev, job := p.fire(ctx, ws, e)
			if ev == nil {
				continue
			}
			out = append(out, *ev)
			if job != nil {
				slot := &out[len(out)-1]
				wg.Add(1)
				d.submit(func() {
					defer wg.Done()
					job(slot)
				})
			}
		}
		b := ws.batch()
		p.store.Submit(b)
		batches = append(batches, b)
		ws.mu.Unlock()
	}
	wg.Wait()
	var firstErr error
	for _, b := range batches {
		if err := p.settle(ws, b); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return out, firstErr
}

// fire acts on one due event, with ws.mu held. It returns nil when the
// event is no longer due (an earlier event or an operator changed the
// subscription); otherwise the event as far as it went, and, when a
// vendor call is to be made, the job that makes it and completes the event.
func (p *Platform) fire(ctx context.Context, ws *workspace, e due) (*ClockEvent, func(*ClockEvent)) {
	s, ok := ws.world.Subscription(e.subID)
	if !ok {
		return nil, nil
	}
	still := false
	ws.eventsOf(s, ws.clock, func(d due) {
		still = still || (d.kind == e.kind && d.at.Equal(e.at) && !d.at.After(ws.clock))
	})
	if !still {
		return nil, nil
	}
	mark := e.at
	if e.kind == EventBillingNotice {
		mark = e.at.AddDate(0, 0, ws.settings.NoticeDays())
	}
	if s.ClockMarks == nil {
		s.ClockMarks = map[string]time.Time{}
	}
	s.ClockMarks[e.kind] = mark
	ws.touch(recSubscription, s.ID)
	ev := &ClockEvent{At: ws.clock, Kind: e.kind, SubscriptionID: s.ID, Status: s.Status}

	var chk check
	action := "clock." + e.kind
	switch e.kind {
	case EventExpire:
		s.Status = world.StatusGraced
		s.Pending = nil
		s.UpdatedAt = ws.clock
		s.Ability = ws.world.Ability(s)
		ev.Outcome, ev.Status = OutcomeDone, s.Status
		return ev, nil
	case EventBillingNotice:
		ev.Outcome = OutcomeDone
		ev.Message = p.billingNotice(ws, s, mark)
		return ev, nil
	case EventConsumption:
		// The pull takes the lock itself: it runs as a job.
		to := e.at
		name, id, gen := ws.name, s.ID, ws.generation
		return ev, func(ev *ClockEvent) {
			res, err := p.pullConsumption(ctx, name, ws, gen, id, ConsumptionRequest{To: &to}, "clock."+EventConsumption)
			if err != nil {
				ev.Outcome, ev.Message = OutcomeRefused, err.Error()
				return
			}
			switch {
			case res.Refusal != nil:
				ev.Outcome, ev.Message = OutcomeFailed, res.Refusal.Message
			default:
				ev.Outcome = OutcomeDone
				ev.Message = fmt.Sprintf("%d charges from %s to %s", len(res.Charges), res.From.Format(time.RFC3339), res.To.Format(time.RFC3339))
			}
			ev.ExchangeIDs = res.ExchangeIDs
			ev.Status = res.Subscription.Status
		}
	case EventAutoRenew:
		req := RenewRequest{}
		if s.Trial {
			plan, _ := ws.world.Plan(s.PlanID)
			req.PeriodID = plan.DefaultPeriod().ID
		}
		var warnings []string
		chk = renewCheck(req, &warnings)
	case EventTrialEnd, EventGraceEnd:
		chk = simpleCheck(world.OpStop, func(a world.Ability) bool { return a.Stop })
	case EventStopPeriodEnd:
		chk = simpleCheck(world.OpDelete, func(a world.Ability) bool { return a.Delete })
	default:
		ev.Outcome, ev.Message = OutcomeRefused, "unknown event kind "+e.kind
		return ev, nil
	}
	f, err := p.beginLocked(ws, s.ID, action, chk)
	if err != nil {
		ev.Outcome, ev.Message = OutcomeRefused, err.Error()
		p.log.Info("time-driven event refused", "workspace", ws.name, "kind", e.kind, "subscription", s.ID, "reason", err)
		return ev, nil
	}
	ev.Status = s.Status
	ev.OrderID = f.op.OrderID
	if f.done != nil && f.done.Order != nil {
		// Parked or mailed: no call to make, but an order may be open.
		ev.OrderID = f.done.Order.ID
	}
	abort := ws.abort
	return ev, func(ev *ClockEvent) {
		select {
		case <-abort:
			ev.Outcome, ev.Message = OutcomeRefused, "the workspace was reset or deleted before the call was made"
			return
		default:
		}
		res, err := p.fly(ctx, f)
		if err != nil {
			ev.Outcome, ev.Message = OutcomeRefused, err.Error()
			return
		}
		ev.ExchangeIDs = res.ExchangeIDs
		ev.Status = res.Subscription.Status
		switch {
		case res.Subscription.Status.Failed():
			ev.Outcome, ev.Message = OutcomeFailed, res.Subscription.LastError
		case res.Subscription.Status.Transitional():
			ev.Outcome = OutcomeWaiting
		default:
			ev.Outcome = OutcomeDone
		}
	}
}

// billingNotice tells the customer the billing day is coming, by a mail
// to the tenant's contact in the workspace outbox, and answers what the
// event reports. Call with ws.mu held.
func (p *Platform) billingNotice(ws *workspace, s *world.Subscription, day time.Time) string {
	w := ws.world
	to := ws.settings.NotificationEmail
	customer := fmt.Sprintf("tenant %d", s.TenantID)
	if tn, ok := w.Tenant(s.TenantID); ok {
		customer = tn.CompanyName
		if tn.Contact.Email != "" {
			to = tn.Contact.Email
		}
	}
	planName := fmt.Sprintf("plan %d", s.PlanID)
	if plan, ok := w.Plan(s.PlanID); ok {
		planName = plan.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Dear %s,\n\nthe billing day of your subscription %d %q (%s) is %s.\n", customer, s.ID, s.Name, planName, day.Format("2 January 2006"))
	fmt.Fprintf(&b, "Its status is %s.\n", s.Status)
	if s.ExpirationDate != nil {
		fmt.Fprintf(&b, "It is paid until %s.\n", s.ExpirationDate.Format("2 January 2006"))
	}
	m := ws.notify(world.Mail{
		To: to, Subject: "Billing day is coming", Body: b.String(),
		Operation: EventBillingNotice, SubscriptionID: s.ID,
	})
	return fmt.Sprintf("billing day %s: notice %d to %s", day.Format("2006-01-02"), m.ID, m.To)
}
