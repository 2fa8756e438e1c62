package sandbox_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

var epoch = time.Date(2026, time.January, 1, 9, 0, 0, 0, time.UTC)

type clockEvent struct {
	At             time.Time `json:"at"`
	Kind           string    `json:"kind"`
	SubscriptionID int64     `json:"subscription_id"`
	Outcome        string    `json:"outcome"`
	Message        string    `json:"message"`
	Status         string    `json:"status"`
	OrderID        int64     `json:"order_id"`
	ExchangeIDs    []int64   `json:"exchange_ids"`
}

type advanceResult struct {
	From        time.Time    `json:"from"`
	Now         time.Time    `json:"now"`
	Events      []clockEvent `json:"events"`
	EventsTotal int          `json:"events_total"`
	Truncated   bool         `json:"truncated"`
}

type clockInfo struct {
	Now       time.Time   `json:"now"`
	Epoch     time.Time   `json:"epoch"`
	Advancing bool        `json:"advancing"`
	Next      *clockEvent `json:"next"`
}

type serviceTerm struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	BillingDay     int    `json:"billing_day"`
	AutoRenewPoint int    `json:"auto_renew_point"`
	GracePeriod    int    `json:"grace_period"`
	StopPeriod     int    `json:"stop_period"`
	StopType       string `json:"stop_type"`
	DeleteType     string `json:"delete_type"`
}

type termPlan struct {
	plan
	ServiceTermID int64 `json:"service_term_id"`
}

// advance moves the default workspace clock and insists it worked.
func (e *env) advance(body map[string]any) advanceResult {
	e.t.Helper()
	var r advanceResult
	if code := e.do("POST", e.ws("/clock/advance"), body, &r); code != http.StatusOK {
		e.t.Fatalf("advance %v: status %d", body, code)
	}
	return r
}

func (e *env) clock() clockInfo {
	var c clockInfo
	e.do("GET", e.ws("/clock"), nil, &c)
	return c
}

// allExchanges pages through every exchange of the default workspace.
func (e *env) allExchanges() []exchange {
	var out []exchange
	after := int64(0)
	for {
		page := e.exchanges(fmt.Sprintf("?limit=1000&after_id=%d", after))
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].ID
	}
}

// termsAndPlans reads the catalogue with the service term of each plan.
func (e *env) termsAndPlans() (map[int64]serviceTerm, []termPlan) {
	var w struct {
		ServiceTerms []serviceTerm `json:"service_terms"`
		Plans        []termPlan    `json:"plans"`
	}
	e.do("GET", e.ws("/world"), nil, &w)
	terms := map[int64]serviceTerm{}
	for _, t := range w.ServiceTerms {
		terms[t.ID] = t
	}
	return terms, w.Plans
}

func TestClockAdvanceRejectsBadInput(t *testing.T) {
	e := newEnv(t, 1)
	tests := []struct {
		name      string
		body      string
		wantField string
	}{
		{"nothing", `{}`, "by"},
		{"both", `{"by":"1d","to":"2027-01-01T00:00:00Z"}`, "by"},
		{"unknown unit", `{"by":"3x"}`, "by"},
		{"trailing junk", `{"by":"3d!"}`, "by"},
		{"zero", `{"by":"0d"}`, "by"},
		{"too far", `{"by":"51y"}`, "by"},
		{"into the past", `{"to":"2025-12-31T00:00:00Z"}`, "to"},
		{"not a time", `{"to":"tomorrow"}`, "to"},
		{"unknown field", `{"days":3}`, "days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got apiError
			if code := e.do("POST", e.ws("/clock/advance"), tc.body, &got); code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %+v", code, got)
			}
			fields := ""
			for _, d := range got.Error.Details {
				fields += d.Field + " "
			}
			if !strings.Contains(fields+got.Error.Message, tc.wantField) {
				t.Errorf("error %+v does not name %q", got.Error, tc.wantField)
			}
			if now := e.clock().Now; !now.Equal(epoch) {
				t.Errorf("a refused advance moved the clock to %s", now)
			}
		})
	}
	if code := e.do("POST", "/api/v1/workspaces/nope/clock/advance", `{"by":"1d"}`, nil); code != http.StatusNotFound {
		t.Errorf("unknown workspace: %d, want 404", code)
	}
	if len(e.vendor.Requests()) != 0 {
		t.Errorf("refused advances called the vendor %d times", len(e.vendor.Requests()))
	}
}

// call is one vendor call as the service-term rules predict it.
type call struct {
	at   time.Time
	sub  int64
	path string
}

func (c call) String() string {
	return fmt.Sprintf("%s %d %s", c.at.Format(time.RFC3339), c.sub, c.path)
}

// clockCalls lists the time-driven calls in the journal, in the order of
// the workspace clock (calls of one instant run concurrently, so their
// exchange ids may come in any order).
func clockCalls(xs []exchange, keep func(int64) bool) []call {
	var out []call
	for _, x := range xs {
		if strings.HasPrefix(x.Action, "clock.") && keep(x.SubscriptionID) {
			out = append(out, call{x.VirtualTime.UTC(), x.SubscriptionID, x.Request.Path})
		}
	}
	slices.SortStableFunc(out, func(a, b call) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if a.sub != b.sub {
			return int(a.sub - b.sub)
		}
		return strings.Compare(a.path, b.path)
	})
	return out
}

// TestClockThirteenMonths advances a seeded world by 13 months and checks
// the exact renew, stop and delete calls the service terms call for, for
// subscriptions ordered in the test from the example vendor (which knows
// them): one that auto-renews every month, one that lapses (graced, then
// stopped when grace ends, then deleted when the stop period ends), a
// trial that auto-renews into the paid period and a trial that lapses.
// The whole seeded world must come out the same when the 13 months are
// advanced in one step, again, and month by month.
func TestClockThirteenMonths(t *testing.T) {
	type outcome struct {
		e     *env
		ids   map[string]int64
		term  serviceTerm
		trial period
		calls []call
	}
	run := func(steps []map[string]any) outcome {
		e := newEnv(t, 1)
		terms, plans := e.termsAndPlans()
		var p termPlan
		for _, q := range plans {
			term := terms[q.ServiceTermID]
			if recurringMonthly(q.plan) && term.StopType == "automatic" && term.DeleteType == "automatic" && trialPeriod(q.plan) != nil {
				p = q
				break
			}
		}
		if p.ID == 0 {
			t.Fatal("no monthly plan with a trial on an automatic service term in seed 1")
		}
		tenant := e.firstTenant()
		ids := map[string]int64{}
		for _, o := range []struct {
			name  string
			trial bool
			auto  bool
		}{{"renews", false, true}, {"lapses", false, false}, {"trial-renews", true, true}, {"trial-lapses", true, false}} {
			body := map[string]any{"tenant_id": tenant, "plan_id": p.ID, "auto_renew": o.auto}
			if o.trial {
				body["period_id"] = trialPeriod(p.plan).ID
			}
			ids[o.name] = e.order(body).Subscription.ID
		}
		for _, s := range steps {
			e.advance(s)
		}
		if now := e.clock().Now; !now.Equal(epoch.AddDate(0, 13, 0)) {
			t.Fatalf("clock at %s after 13 months", now)
		}
		return outcome{e, ids, terms[p.ServiceTermID], *trialPeriod(p.plan), clockCalls(e.allExchanges(), func(int64) bool { return true })}
	}
	oneStep := []map[string]any{{"by": "13mo"}}
	first := run(oneStep)
	e, ids, got := first.e, first.ids, first.calls

	// The rules, written out for the four subscriptions.
	term, end := first.term, epoch.AddDate(0, 13, 0)
	var want []call
	renewals := func(id int64, exp time.Time) {
		for at := exp.AddDate(0, 0, -term.AutoRenewPoint); !at.After(end); {
			want = append(want, call{later(at, epoch), id, "/subscription/renew"})
			exp = exp.AddDate(0, 1, 0)
			at = exp.AddDate(0, 0, -term.AutoRenewPoint)
		}
	}
	renewals(ids["renews"], epoch.AddDate(0, 1, 0))
	lapse := epoch.AddDate(0, 1, 0).AddDate(0, 0, term.GracePeriod)
	want = append(want,
		call{lapse, ids["lapses"], "/subscription/stop"},
		call{lapse.AddDate(0, 0, term.StopPeriod), ids["lapses"], "/subscription/delete"})
	trialEnd := addPeriod(epoch, first.trial)
	// The trial renews into the paid month from its own end.
	want = append(want, call{later(trialEnd.AddDate(0, 0, -term.AutoRenewPoint), epoch), ids["trial-renews"], "/subscription/renew"})
	renewals(ids["trial-renews"], trialEnd.AddDate(0, 1, 0))
	want = append(want,
		call{trialEnd, ids["trial-lapses"], "/subscription/stop"},
		call{trialEnd.AddDate(0, 0, term.StopPeriod), ids["trial-lapses"], "/subscription/delete"})
	mine := map[int64]bool{}
	for _, id := range ids {
		mine[id] = true
	}
	slices.SortStableFunc(want, func(a, b call) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return int(a.sub - b.sub)
	})
	gotMine := slices.DeleteFunc(slices.Clone(got), func(c call) bool { return !mine[c.sub] })
	if !slices.Equal(gotMine, want) {
		t.Errorf("time-driven calls of the ordered subscriptions:\n got %v\nwant %v", gotMine, want)
	}

	for name, wantStatus := range map[string]string{"renews": "active", "lapses": "deleted", "trial-renews": "active", "trial-lapses": "deleted"} {
		s := e.sub(ids[name])
		if s.Status != wantStatus {
			t.Errorf("%s: status %s, want %s", name, s.Status, wantStatus)
		}
		if name == "trial-renews" && s.Trial {
			t.Errorf("trial-renews is still a trial after renewing into the paid period")
		}
	}
	if len(got) <= len(want) {
		t.Errorf("the seeded subscriptions made no time-driven calls in 13 months (%d calls in all)", len(got))
	}

	// The same seed and the same advances: the same calls. And month by
	// month: the same calls again, since every event fires at its own time.
	again := run(oneStep).calls
	if !slices.Equal(again, got) {
		t.Errorf("the same 13-month advance gave different calls:\n%v\n%v", got, again)
	}
	monthly := make([]map[string]any, 13)
	for i := range monthly {
		monthly[i] = map[string]any{"to": epoch.AddDate(0, i+1, 0).Format(time.RFC3339)}
	}
	stepped := run(monthly).calls
	if !slices.Equal(stepped, got) {
		t.Errorf("advancing month by month gave different calls from one 13-month step:\n%v\n%v", got, stepped)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func trialPeriod(p plan) *period {
	for i, pd := range p.Periods {
		if pd.Trial {
			return &p.Periods[i]
		}
	}
	return nil
}

func addPeriod(t time.Time, p period) time.Time {
	switch p.Type {
	case "day":
		return t.AddDate(0, 0, p.Value)
	case "month":
		return t.AddDate(0, p.Value, 0)
	}
	return t.AddDate(p.Value, 0, 0)
}

// TestClockRenewalRefusedThenGraced: a vendor that refuses the automatic
// renewal leaves the subscription renewing_failed; at expiry it is graced,
// and when grace ends the platform stops it.
func TestClockRenewalRefusedThenGraced(t *testing.T) {
	e := newEnv(t, 1)
	terms, plans := e.termsAndPlans()
	var p termPlan
	for _, q := range plans {
		if recurringMonthly(q.plan) && terms[q.ServiceTermID].StopType == "automatic" {
			p = q
			break
		}
	}
	term := terms[p.ServiceTermID]
	id := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID, "auto_renew": true}).Subscription.ID
	exp := epoch.AddDate(0, 1, 0)
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "card declined"})

	r := e.advance(map[string]any{"to": exp.AddDate(0, 0, -term.AutoRenewPoint).Format(time.RFC3339)})
	ev := findEvent(r.Events, id, "auto_renew")
	if ev == nil || ev.Outcome != "failed" || ev.Status != "renewing_failed" || !strings.Contains(ev.Message, "card declined") || len(ev.ExchangeIDs) != 1 {
		t.Fatalf("auto-renew event: %+v", ev)
	}
	if x := e.exchange(ev.ExchangeIDs[0]); x.Action != "clock.auto_renew" || x.Response == nil || x.Response.Status != 422 {
		t.Errorf("auto-renew exchange: action %q response %+v", x.Action, x.Response)
	}
	if s := e.sub(id); s.Status != "renewing_failed" || s.LastError == "" {
		t.Errorf("after the refused renewal: %s %q", s.Status, s.LastError)
	}

	// Nothing retries the refused renewal by itself; expiry grades it.
	e.vendor.ClearFaults()
	r = e.advance(map[string]any{"to": exp.Format(time.RFC3339)})
	if ev := findEvent(r.Events, id, "expire"); ev == nil || ev.Status != "graced" || len(ev.ExchangeIDs) != 0 {
		t.Fatalf("expire event: %+v (all: %+v)", ev, r.Events)
	}
	if findEvent(r.Events, id, "auto_renew") != nil {
		t.Error("the refused renewal was fired again")
	}
	r = e.advance(map[string]any{"by": fmt.Sprintf("%dd", term.GracePeriod)})
	ev = findEvent(r.Events, id, "grace_end")
	if ev == nil || ev.Outcome != "done" || ev.Status != "stopped" || len(ev.ExchangeIDs) != 1 {
		t.Fatalf("grace end: %+v", ev)
	}
	if s := e.sub(id); s.Status != "stopped" {
		t.Errorf("after grace: %s", s.Status)
	}

	// Activated without a renewal, it is still past its expiry: the
	// next advance judges it afresh. Auto-renew is on, so it renews.
	if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/activate", id), nil, 200); r.Subscription.Status != "active" {
		t.Fatalf("activate: %+v", r.Subscription)
	}
	r = e.advance(map[string]any{"by": "1h"})
	if ev := findEvent(r.Events, id, "auto_renew"); ev == nil || ev.Outcome != "done" || ev.Status != "active" {
		t.Errorf("an activated subscription past its expiry, auto-renew on: %+v", ev)
	}
	if s := e.sub(id); s.ExpirationDate == nil || !s.ExpirationDate.After(e.clock().Now) {
		t.Errorf("after the renewal it expires at %v", s.ExpirationDate)
	}
}

// TestClockSlowVendor: time-driven calls to a vendor slower than the
// workspace timeout fail with the timeout recorded; the advance ends, and
// the operator API and other workspaces answer meanwhile.
func TestClockSlowVendor(t *testing.T) {
	e := newEnv(t, 1)
	ids := e.orderMonthly(6)
	e.integrate(map[string]any{"timeout_ms": 300, "dispatch_concurrency": 2, "billing_notice_days": -1})
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Delay: 2 * time.Second})

	done := make(chan advanceResult)
	go func() { done <- e.advance(map[string]any{"to": epoch.AddDate(0, 1, -1).Format(time.RFC3339)}) }()
	// While the advance waits on the vendor, the API answers.
	deadline := time.Now().Add(5 * time.Second)
	for !e.clock().Advancing && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if code := e.do("GET", e.ws(fmt.Sprintf("/subscriptions/%d", ids[0])), nil, nil); code != 200 {
		t.Errorf("get subscription during the advance: %d", code)
	}
	if code := e.do("POST", "/api/v1/workspaces", map[string]any{"name": "other", "vendor_url": e.vendorURL}, nil); code != 201 {
		t.Errorf("create another workspace during the advance: %d", code)
	}
	if code := e.do("POST", "/api/v1/workspaces/other/integration/check", nil, nil); code != 200 {
		t.Errorf("check in another workspace during the advance: %d", code)
	}
	var conflict apiError
	if code := e.do("POST", e.ws("/clock/advance"), map[string]any{"by": "1d"}, &conflict); code != http.StatusConflict {
		t.Errorf("a second advance at once: %d, want 409", code)
	}
	r := <-done
	failed := 0
	for _, id := range ids {
		ev := findEvent(r.Events, id, "auto_renew")
		if ev == nil {
			t.Errorf("subscription %d: no auto-renew event", id)
			continue
		}
		if ev.Outcome == "failed" && strings.Contains(ev.Message, "within 300ms") {
			failed++
		}
		if x := e.exchange(ev.ExchangeIDs[0]); x.Outcome != "timeout" {
			t.Errorf("subscription %d: exchange outcome %q, want timeout", id, x.Outcome)
		}
	}
	if failed != len(ids) {
		t.Errorf("%d of %d renewals failed on the timeout: %+v", failed, len(ids), r.Events)
	}
}

// TestClockDispatchBound: no more time-driven calls are in flight at once
// than dispatch_concurrency allows, and the bound is used.
func TestClockDispatchBound(t *testing.T) {
	var inFlight, peak atomic.Int64
	e := newEnvWith(t, 1, nil, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/subscription/renew" {
				h.ServeHTTP(w, r)
				return
			}
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	ids := e.orderMonthly(6)
	e.integrate(map[string]any{"dispatch_concurrency": 2, "billing_notice_days": -1})
	// Slow enough that calls overlap, well within the timeout.
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Delay: 300 * time.Millisecond})
	r := e.advance(map[string]any{"to": epoch.AddDate(0, 1, -1).Format(time.RFC3339)})
	for _, id := range ids {
		if ev := findEvent(r.Events, id, "auto_renew"); ev == nil || ev.Outcome != "done" {
			t.Errorf("subscription %d: %+v", id, ev)
		}
	}
	if got := peak.Load(); got != 2 {
		t.Errorf("at most %d calls were in flight at once, want exactly dispatch_concurrency 2", got)
	}
}

// orderMonthly orders n subscriptions to a monthly plan, auto-renew on.
func (e *env) orderMonthly(n int) []int64 {
	e.t.Helper()
	p := e.findPlan(recurringMonthly)
	var ids []int64
	for range n {
		ids = append(ids, e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID, "auto_renew": true}).Subscription.ID)
	}
	return ids
}

// TestClockRateLimit: dispatch_rate spaces the starts of time-driven calls.
func TestClockRateLimit(t *testing.T) {
	e := newEnv(t, 1)
	e.orderMonthly(5)
	e.integrate(map[string]any{"dispatch_rate": 10, "billing_notice_days": -1})
	e.advance(map[string]any{"to": epoch.AddDate(0, 1, -1).Format(time.RFC3339)})
	var starts []time.Time
	for _, x := range e.allExchanges() {
		if x.Action == "clock.auto_renew" {
			starts = append(starts, x.StartedAt)
		}
	}
	slices.SortFunc(starts, time.Time.Compare)
	if len(starts) < 5 {
		t.Fatalf("%d renewals reached the vendor, want at least 5", len(starts))
	}
	// Ten per second: five starts span at least 0.4 s (less a little for
	// the clocks of two goroutines). Only a lower bound: a slow machine
	// spaces them more.
	if span := starts[len(starts)-1].Sub(starts[0]); span < 350*time.Millisecond {
		t.Errorf("5 calls at 10/s started within %s", span)
	}
}

func findEvent(evs []clockEvent, sub int64, kind string) *clockEvent {
	for i := range evs {
		if evs[i].SubscriptionID == sub && evs[i].Kind == kind {
			return &evs[i]
		}
	}
	return nil
}

// TestClockNext: GET clock names the next event, and an advance to it
// fires it.
func TestClockNext(t *testing.T) {
	e := newEnv(t, 1)
	c := e.clock()
	if !c.Now.Equal(epoch) || !c.Epoch.Equal(epoch) || c.Advancing || c.Next == nil {
		t.Fatalf("clock: %+v", c)
	}
	next := *c.Next
	r := e.advance(map[string]any{"to": next.At.Format(time.RFC3339)})
	if ev := findEvent(r.Events, next.SubscriptionID, next.Kind); ev == nil || !ev.At.Equal(next.At) {
		t.Errorf("advancing to the next event (%+v) did not fire it: %+v", next, r.Events)
	}
	if c := e.clock(); c.Next == nil || !c.Next.At.After(next.At) && c.Next.SubscriptionID == next.SubscriptionID && c.Next.Kind == next.Kind {
		t.Errorf("the fired event is still next: %+v", c.Next)
	}
}

// managedPlan is a monthly plan whose service term stops and deletes only
// with a manager's approval, with that term.
func (e *env) managedPlan() (termPlan, serviceTerm) {
	e.t.Helper()
	terms, plans := e.termsAndPlans()
	for _, q := range plans {
		if t := terms[q.ServiceTermID]; recurringMonthly(q.plan) && t.StopType == "manual" && t.DeleteType == "manual" {
			return q, t
		}
	}
	e.t.Fatal("seed 1 has no monthly plan on a manual service term")
	return termPlan{}, serviceTerm{}
}

// TestClockWaitsForApproval: on a service term that stops and deletes by
// manual approval, the end of grace parks the stop (no call) until a
// manager approves; the end of the stop period parks the deletion, and a
// decline puts the subscription back without the clock asking again.
func TestClockWaitsForApproval(t *testing.T) {
	e := newEnv(t, 1)
	p, term := e.managedPlan()
	id := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID, "auto_renew": false}).Subscription.ID
	calls := func() int { return len(e.exchanges(fmt.Sprintf("?subscription_id=%d", id))) }
	before := calls()
	graceEnd := epoch.AddDate(0, 1, term.GracePeriod)

	r := e.advance(map[string]any{"to": graceEnd.Format(time.RFC3339)})
	ev := findEvent(r.Events, id, "grace_end")
	if ev == nil || ev.Outcome != "waiting" || ev.Status != "waiting_for_manual_approve" || len(ev.ExchangeIDs) != 0 {
		t.Fatalf("grace end on a manual term: %+v", ev)
	}
	if n := calls(); n != before {
		t.Errorf("the parked stop called the vendor %d times", n-before)
	}
	if s := e.pending(id); s.Pending == nil || s.Pending.Kind != "stop" || s.Pending.PrevStatus != "graced" {
		t.Errorf("pending: %+v", s.Pending)
	}
	r2 := e.manualOp(fmt.Sprintf("/subscriptions/%d/approve", id), nil, 200)
	if r2.Subscription.Status != "stopped" || len(r2.ExchangeIDs) != 1 {
		t.Fatalf("approve: %+v", r2)
	}

	deleteDue := graceEnd.AddDate(0, 0, term.StopPeriod)
	r = e.advance(map[string]any{"to": deleteDue.Format(time.RFC3339)})
	if ev := findEvent(r.Events, id, "stop_period_end"); ev == nil || ev.Outcome != "waiting" {
		t.Fatalf("stop period end on a manual term: %+v", ev)
	}
	if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/decline", id), nil, 200); r.Subscription.Status != "stopped" {
		t.Fatalf("decline: %+v", r.Subscription)
	}
	r = e.advance(map[string]any{"by": "2mo"})
	if ev := findEvent(r.Events, id, "stop_period_end"); ev != nil {
		t.Errorf("the declined deletion was asked again: %+v", ev)
	}
	if s := e.sub(id); s.Status != "stopped" {
		t.Errorf("after the decline and two months: %s", s.Status)
	}
}

// TestClockBillingNotices: "Billing day is coming" goes to the customer
// only for active, graced and waiting-to-stop subscriptions (CR-840),
// once per billing day, billing_notice_days before it.
func TestClockBillingNotices(t *testing.T) {
	e := newEnv(t, 1)
	p, term := e.managedPlan()
	tenant := e.firstTenant()
	order := func() int64 {
		return e.order(map[string]any{"tenant_id": tenant, "plan_id": p.ID}).Subscription.ID
	}
	active, waitStop, waitDelete, stopped := order(), order(), order(), order()
	e.manualOp(fmt.Sprintf("/subscriptions/%d/stop", waitStop), nil, 200)
	e.manualOp(fmt.Sprintf("/subscriptions/%d/delete", waitDelete), nil, 200)
	e.manualOp(fmt.Sprintf("/subscriptions/%d/stop", stopped), nil, 200)
	e.manualOp(fmt.Sprintf("/subscriptions/%d/approve", stopped), nil, 200)
	for id, want := range map[int64]string{active: "active", waitStop: "waiting_for_manual_approve", waitDelete: "waiting_for_manual_approve", stopped: "stopped"} {
		if got := e.sub(id).Status; got != want {
			t.Fatalf("subscription %d: %s, want %s", id, got, want)
		}
	}
	var contact struct {
		Contact struct {
			Email string `json:"email"`
		} `json:"contact"`
	}
	e.do("GET", e.ws(fmt.Sprintf("/tenants/%d", tenant)), nil, &contact)

	day := time.Date(2026, time.January, term.BillingDay, 0, 0, 0, 0, time.UTC)
	notice := day.AddDate(0, 0, -3)
	// Just before the notice: none yet.
	e.advance(map[string]any{"to": notice.Add(-time.Minute).Format(time.RFC3339)})
	if n := len(e.outbox("?operation=billing_notice&subscription_id=" + fmt.Sprint(active)).Items); n != 0 {
		t.Fatalf("%d notices before their time", n)
	}
	e.advance(map[string]any{"to": day.Add(time.Hour).Format(time.RFC3339)})
	for id, want := range map[int64]int{active: 1, waitStop: 1, waitDelete: 0, stopped: 0} {
		l := e.outbox(fmt.Sprintf("?operation=billing_notice&subscription_id=%d", id))
		if len(l.Items) != want {
			t.Errorf("subscription %d: %d notices, want %d", id, len(l.Items), want)
			continue
		}
		if want == 0 {
			continue
		}
		m := l.Items[0]
		if m.Subject != "Billing day is coming" || m.To != contact.Contact.Email || !m.CreatedAt.Equal(notice) ||
			!strings.Contains(m.Body, day.Format("2 January 2006")) {
			t.Errorf("notice %+v (want to %s at %s)", m, contact.Contact.Email, notice)
		}
	}
	// The next month brings the next notice for the active one.
	e.advance(map[string]any{"by": "1mo"})
	if l := e.outbox(fmt.Sprintf("?operation=billing_notice&subscription_id=%d", active)); len(l.Items) != 2 || !l.Items[1].CreatedAt.Equal(notice.AddDate(0, 1, 0)) {
		t.Errorf("after a month: %+v", l.Items)
	}
}

// TestClockPullsConsumption: on each billing day the clock pulls a
// pay-as-you-go subscription's consumption from the example vendor and
// prices it exactly; the next pull starts where the last ended, and after
// a failed pull the next billing day catches up.
func TestClockPullsConsumption(t *testing.T) {
	e := newEnv(t, 1)
	terms, plans := e.termsAndPlans()
	var p termPlan
	for _, q := range plans {
		if q.BillingType == "pay_as_you_go" {
			p = q
			break
		}
	}
	var prices struct {
		Resources []struct {
			Key       string `json:"key"`
			UnitPrice int64  `json:"unit_price"`
		} `json:"resources"`
	}
	e.do("GET", e.ws(fmt.Sprintf("/plans/%d", p.ID)), nil, &prices)
	e.integrate(map[string]any{"allow_consumption_url": true, "billing_notice_days": -1})
	s := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID}).Subscription
	day := time.Date(2026, time.January, terms[p.ServiceTermID].BillingDay, 0, 0, 0, 0, time.UTC)
	if !day.After(epoch) {
		day = day.AddDate(0, 1, 0)
	}
	// The first billing day's pull fails; nothing is charged, and the
	// next billing day pulls everything since the start.
	e.vendor.SetFault(examplevendor.Fault{Endpoint: "subscription/consumption", Status: 503, Message: "metering is down"})
	r := e.advance(map[string]any{"to": day.Format(time.RFC3339)})
	e.vendor.ClearFaults()
	ev := findEvent(r.Events, s.ID, "consumption")
	if ev == nil || ev.Outcome != "failed" || !strings.Contains(ev.Message, "metering is down") || len(ev.ExchangeIDs) != 1 {
		t.Fatalf("consumption event while metering is down: %+v", ev)
	}
	day = day.AddDate(0, 1, 0)
	r = e.advance(map[string]any{"to": day.Format(time.RFC3339)})
	ev = findEvent(r.Events, s.ID, "consumption")
	if ev == nil || ev.Outcome != "done" || len(ev.ExchangeIDs) != 1 || !ev.At.Equal(day) {
		t.Fatalf("consumption event: %+v", ev)
	}
	if x := e.exchange(ev.ExchangeIDs[0]); x.Action != "clock.consumption" {
		t.Errorf("the pull is recorded as %q", x.Action)
	}
	var got meteredSub
	e.do("GET", e.ws(fmt.Sprintf("/subscriptions/%d", s.ID)), nil, &got)
	// The example vendor consumes each ordered unit once per started day.
	days := int64((day.Sub(epoch) + 24*time.Hour - 1) / (24 * time.Hour))
	if len(got.Charges) != len(prices.Resources) {
		t.Fatalf("charges %+v for %d resources", got.Charges, len(prices.Resources))
	}
	for i, rp := range prices.Resources {
		c := got.Charges[i]
		units := s.Resources[rp.Key] * days
		if c.Resource != rp.Key || c.Units != fmt.Sprint(units) || c.Amount != units*rp.UnitPrice ||
			!c.From.Equal(epoch) || !c.To.Equal(day) || c.ExchangeID != ev.ExchangeIDs[0] {
			t.Errorf("charge %d: %+v, want %s × %d units × %d", i, c, rp.Key, units, rp.UnitPrice)
		}
	}
	r = e.advance(map[string]any{"to": day.AddDate(0, 1, 0).Format(time.RFC3339)})
	if ev := findEvent(r.Events, s.ID, "consumption"); ev == nil || ev.Outcome != "done" {
		t.Fatalf("the next billing day: %+v", ev)
	}
	e.do("GET", e.ws(fmt.Sprintf("/subscriptions/%d", s.ID)), nil, &got)
	if last := got.Charges[len(got.Charges)-1]; !last.From.Equal(day) || !last.To.Equal(day.AddDate(0, 1, 0)) {
		t.Errorf("the second pull covers %s to %s", last.From, last.To)
	}
}

// TestClockManualMode: in manual provisioning mode the clock's renewals
// are e-mails that wait for the operator, like any other operation.
func TestClockManualMode(t *testing.T) {
	e := newEnv(t, 1)
	ids := e.orderMonthly(1)
	e.setMode("manual", "ops@vendor.example")
	before := len(e.vendor.Requests())
	r := e.advance(map[string]any{"to": epoch.AddDate(0, 1, -1).Format(time.RFC3339)})
	ev := findEvent(r.Events, ids[0], "auto_renew")
	if ev == nil || ev.Outcome != "waiting" || ev.Status != "renewing" || len(ev.ExchangeIDs) != 0 || ev.OrderID == 0 {
		t.Fatalf("auto-renew in manual mode: %+v", ev)
	}
	if n := len(e.vendor.Requests()); n != before {
		t.Errorf("manual mode: the clock called the vendor %d times", n-before)
	}
	if l := e.outbox(fmt.Sprintf("?operation=renew&subscription_id=%d", ids[0])); len(l.Items) != 1 || l.Items[0].To != "ops@vendor.example" {
		t.Errorf("renewal mail: %+v", l.Items)
	}
	if r := e.manualOp(fmt.Sprintf("/subscriptions/%d/complete", ids[0]), nil, 200); r.Subscription.Status != "active" {
		t.Errorf("complete the renewal: %+v", r.Subscription)
	}
	// Requests that are nothing but a vendor call have nothing to do.
	e.integrate(map[string]any{"allow_usage_url": true, "allow_order_attributes": true})
	for _, path := range []string{fmt.Sprintf("/subscriptions/%d/usage", ids[0]), "/order-attributes"} {
		var ae apiError
		body := map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID}
		if path != "/order-attributes" {
			body = nil
		}
		if code := e.do("POST", e.ws(path), body, &ae); code != http.StatusConflict || !strings.Contains(ae.Error.Message, "manual provisioning mode") {
			t.Errorf("POST %s in manual mode: %d %+v", path, code, ae.Error)
		}
	}
	if n := len(e.vendor.Requests()); n != before {
		t.Errorf("manual mode: %d calls to the vendor", n-before)
	}
}

// TestClockActivatedPastExpiry: a lapsed subscription activated without a
// renewal is past its expiry, and the clock grades it again rather than
// leaving it active for good.
func TestClockActivatedPastExpiry(t *testing.T) {
	e := newEnv(t, 1)
	id := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": e.findPlan(recurringMonthly).ID, "auto_renew": false}).Subscription.ID
	e.advance(map[string]any{"by": "1mo8d"})
	if s := e.sub(id); s.Status != "stopped" {
		t.Fatalf("after expiry and grace: %s", s.Status)
	}
	e.manualOp(fmt.Sprintf("/subscriptions/%d/activate", id), nil, 200)
	r := e.advance(map[string]any{"by": "1h"})
	if ev := findEvent(r.Events, id, "expire"); ev == nil || ev.Status != "graced" {
		t.Errorf("expire after the activation: %+v", ev)
	}
}
