// Package conformance probes a vendor service for the robustness the
// platform relies on, through a sandbox's operator API: that a create
// delivered twice makes one subscription, that calls about a subscription
// the vendor does not know are refused with the documented task envelope,
// that duplicate, late (out-of-order) and padded deliveries do no harm,
// and that answers come within the time budget. Each check is scored on
// its own, in a workspace of its own, so one broken behaviour names one
// check.
//
// These are probes, not scenarios: each needs several deliveries of the
// same call and looks at the vendor's answers side by side, which the
// scenario language does not express.
package conformance

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
)

// DeliveryHeader asks the sandbox to deliver an operation's vendor calls
// with faults (see scenarios/LANGUAGE.md).
const DeliveryHeader = "X-Apsandbox-Delivery"

// RunHeader ties the probes' exchanges to one run.
const RunHeader = "X-Apsandbox-Run"

// DefaultBudget is how long a vendor may take to answer: the platform's
// own default timeout.
const DefaultBudget = 10 * time.Second

// Options says which sandbox probes which vendor.
type Options struct {
	// Sandbox is the operator API client of a running sandbox.
	Sandbox *client.ClientWithResponses
	// VendorURL is the api_path of the vendor under test.
	VendorURL string
	// Budget bounds every answer; zero means DefaultBudget. The probes'
	// workspaces time calls out after it.
	Budget time.Duration
	// Seed of the first check's world; each further check adds one, so
	// that every check is a new installation (ap_guid) to the vendor and
	// nothing one check did can help or hinder another. Zero means a seed
	// drawn for the run: a vendor that keeps its state between runs sees
	// new subscriptions every time.
	Seed int64
	// RunID marks the probes' exchanges; empty means a random one.
	RunID string
	// Only runs the named checks; empty runs them all.
	Only []string
	// Keep leaves the probes' workspaces in the sandbox, to look at.
	Keep bool
}

// Result is one check's score.
type Result struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Passed      bool          `json:"passed"`
	Message     string        `json:"message,omitempty"`
	Workspace   string        `json:"workspace"`
	Seed        int64         `json:"seed"`
	ExchangeIDs []int64       `json:"exchange_ids"`
	Duration    time.Duration `json:"duration_ns"`
}

// Report is a whole run.
type Report struct {
	Vendor  string   `json:"vendor"`
	RunID   string   `json:"run_id"`
	Results []Result `json:"results"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
}

// Score is "passed/total".
func (r Report) Score() string { return fmt.Sprintf("%d/%d", r.Passed, r.Passed+r.Failed) }

// Check describes one probe.
type Check struct {
	Name        string
	Description string
	run         func(ctx context.Context, p *probe) error
}

// Checks lists the probes in the order they run.
func Checks() []Check {
	return []Check{
		{"integration-check", "POST /check answers 2xx, as Vendor Portal's Start check requires (seed 003).", checkIntegration},
		{"create-idempotent", "A /subscription/create delivered twice for the same subscription id is answered 201 both times with the same id: one subscription, not two.", checkCreateIdempotent},
		{"unknown-subscription", "Calls about an external_id the vendor never created are refused with a non-2xx status and {\"task\":{\"error_message\"}}.", checkUnknownSubscription},
		{"duplicate-delivery", "A renewal delivered twice is accepted both times.", checkDuplicateDelivery},
		{"out-of-order-delivery", "A stale renewal arriving after a stop is answered (accepted, or refused with the task envelope) without a server error, and the subscription can still be activated.", checkOutOfOrder},
		{"unknown-fields", "Bodies with extra, unknown members (top level and nested) are accepted: the platform adds fields over time.", checkUnknownFields},
		{"time-budget", "Order, renew, stop, activate and delete are each answered within the time budget.", checkTimeBudget},
	}
}

// Run runs the checks. Its error is about the sandbox (unreachable, a
// check's setup refused), not the vendor: the vendor's failings are the
// report's failed results.
func Run(ctx context.Context, opts Options) (Report, error) {
	if opts.Sandbox == nil {
		return Report{}, errors.New("conformance: no sandbox client")
	}
	if opts.VendorURL == "" {
		return Report{}, errors.New("conformance: no vendor URL")
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.RunID == "" {
		opts.RunID = "conformance-" + randomID()
	}
	if opts.Seed == 0 {
		var b [4]byte
		rand.Read(b[:])
		opts.Seed = int64(binary.BigEndian.Uint32(b[:])>>1) + 1
	}
	checks := Checks()
	if len(opts.Only) > 0 {
		var only []Check
		for _, name := range opts.Only {
			found := false
			for _, c := range checks {
				if c.Name == name {
					only, found = append(only, c), true
				}
			}
			if !found {
				return Report{}, fmt.Errorf("conformance: no check %q (the checks: %s)", name, strings.Join(names(checks), ", "))
			}
		}
		checks = only
	}
	rep := Report{Vendor: opts.VendorURL, RunID: opts.RunID, Results: []Result{}}
	for i, c := range checks {
		res, err := runCheck(ctx, opts, i, c)
		if err != nil {
			return rep, fmt.Errorf("conformance: check %s: %w", c.Name, err)
		}
		if res.Passed {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

func names(cs []Check) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// setupError is a failure of the sandbox, not of the vendor.
type setupError struct{ error }

// runCheck runs one check in a fresh workspace.
func runCheck(ctx context.Context, opts Options, i int, c Check) (Result, error) {
	ws := fmt.Sprintf("conf-%s-%d", strings.ToLower(opts.RunID), i)
	if len(ws) > 63 {
		ws = fmt.Sprintf("conf-%s-%d", randomID(), i)
	}
	p := &probe{opts: opts, ws: ws, sb: opts.Sandbox, seed: opts.Seed + int64(i)}
	res := Result{Name: c.Name, Description: c.Description, Workspace: ws, Seed: p.seed, ExchangeIDs: []int64{}}
	created, err := p.createWorkspace(ctx)
	if created && !opts.Keep {
		// Even when setting it up failed half-way, or the run's context
		// ended: the workspace goes.
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			p.sb.DeleteWorkspaceWithResponse(dctx, ws, p.as(""))
		}()
	}
	if err != nil {
		return res, err
	}
	start := time.Now()
	err = c.run(ctx, p)
	res.Duration = time.Since(start)
	res.ExchangeIDs = p.exchanges
	var se setupError
	switch {
	case errors.As(err, &se):
		return res, se.error
	case err != nil:
		res.Message = err.Error()
	default:
		res.Passed = true
	}
	return res, nil
}

func randomID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// probe is one check's access to its workspace.
type probe struct {
	opts      Options
	ws        string
	seed      int64
	sb        *client.ClientWithResponses
	exchanges []int64
}

// as sends the run header, and the delivery faults when given.
func (p *probe) as(faults string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set(RunHeader, p.opts.RunID)
		if faults != "" {
			r.Header.Set(DeliveryHeader, faults)
		}
		return nil
	}
}

// createWorkspace makes the check's workspace and sets its time budget;
// created says whether the workspace exists, even when err is not nil.
func (p *probe) createWorkspace(ctx context.Context) (created bool, err error) {
	seed := p.seed
	url := p.opts.VendorURL
	r, err := p.sb.CreateWorkspaceWithResponse(ctx, client.CreateWorkspaceJSONRequestBody{Name: p.ws, Seed: &seed, VendorURL: &url}, p.as(""))
	if err != nil {
		return false, err
	}
	if r.JSON201 == nil {
		return false, fmt.Errorf("create workspace %s: %d %s", p.ws, r.StatusCode(), r.Body)
	}
	return true, p.setBudget(ctx)
}

// setBudget makes the workspace time calls out after the budget.
func (p *probe) setBudget(ctx context.Context) error {
	timeout := p.opts.Budget.Milliseconds()
	set, err := p.sb.GetIntegrationWithResponse(ctx, p.ws)
	if err != nil || set.JSON200 == nil {
		return fmt.Errorf("read integration of %s: %v", p.ws, err)
	}
	s := *set.JSON200
	upd := client.IntegrationSettingsUpdate{APIPath: &s.APIPath, TimeoutMs: &timeout, BillingNoticeDays: ptr(int64(-1))}
	put, err := p.sb.PutIntegrationWithResponse(ctx, p.ws, upd)
	if err != nil {
		return err
	}
	if put.JSON200 == nil {
		return fmt.Errorf("set the time budget of %s: %d %s", p.ws, put.StatusCode(), put.Body)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// plan is a monthly recurring plan with resources and a tenant to order
// it for, from the probe's world.
func (p *probe) orderable(ctx context.Context) (tenant, plan int64, key string, err error) {
	plans, err := p.sb.ListPlansWithResponse(ctx, p.ws)
	if err != nil || plans.JSON200 == nil {
		return 0, 0, "", setupError{fmt.Errorf("list plans: %v", err)}
	}
	for _, pl := range plans.JSON200.Items {
		if pl.BillingType != client.PlanBillingTypeRecurring || len(pl.Resources) == 0 {
			continue
		}
		for _, pd := range pl.Periods {
			if pd.Type == client.PeriodTypeMonth && !pd.Trial && !pd.Endless {
				plan, key = pl.ID, pl.Resources[0].Key
			}
		}
		if plan != 0 {
			break
		}
	}
	tenants, err := p.sb.ListTenantsWithResponse(ctx, p.ws)
	if err != nil || tenants.JSON200 == nil || len(tenants.JSON200.Items) == 0 || plan == 0 {
		return 0, 0, "", setupError{fmt.Errorf("no tenant or monthly plan in the world of seed %d", p.seed)}
	}
	return tenants.JSON200.Items[0].ID, plan, key, nil
}

// result checks an operation's HTTP answer and collects its exchanges.
func (p *probe) result(what string, code int, body []byte, r *client.OperationResult) (*client.OperationResult, error) {
	if r == nil {
		return nil, setupError{fmt.Errorf("%s: the sandbox answered %d: %s", what, code, body)}
	}
	p.exchanges = append(p.exchanges, r.ExchangeIds...)
	return r, nil
}

// order places an order; a refused create is the vendor's failing.
func (p *probe) order(ctx context.Context, faults string) (*client.OperationResult, error) {
	tenant, plan, _, err := p.orderable(ctx)
	if err != nil {
		return nil, err
	}
	r, err := p.sb.PlaceOrderWithResponse(ctx, p.ws, client.OrderRequest{TenantID: tenant, PlanID: plan}, p.as(faults))
	if err != nil {
		return nil, setupError{err}
	}
	res, err := p.result("order", r.StatusCode(), r.Body, r.JSON201)
	if err != nil {
		return nil, err
	}
	if res.Subscription.Status != client.SubscriptionStatusActive {
		return res, fmt.Errorf("ordering a subscription left it %s: %s", res.Subscription.Status, res.Subscription.LastError)
	}
	return res, nil
}

func (p *probe) renew(ctx context.Context, id int64, faults string) (*client.OperationResult, error) {
	r, err := p.sb.RenewSubscriptionWithResponse(ctx, p.ws, id, client.RenewRequest{}, p.as(faults))
	if err != nil {
		return nil, setupError{err}
	}
	return p.result("renew", r.StatusCode(), r.Body, r.JSON200)
}

func (p *probe) simple(ctx context.Context, op string, id int64) (*client.OperationResult, error) {
	var (
		code int
		body []byte
		res  *client.OperationResult
	)
	switch op {
	case "stop":
		r, err := p.sb.StopSubscriptionWithResponse(ctx, p.ws, id, p.as(""))
		if err != nil {
			return nil, setupError{err}
		}
		code, body, res = r.StatusCode(), r.Body, r.JSON200
	case "activate":
		r, err := p.sb.ActivateSubscriptionWithResponse(ctx, p.ws, id, p.as(""))
		if err != nil {
			return nil, setupError{err}
		}
		code, body, res = r.StatusCode(), r.Body, r.JSON200
	case "delete":
		r, err := p.sb.DeleteSubscriptionWithResponse(ctx, p.ws, id, p.as(""))
		if err != nil {
			return nil, setupError{err}
		}
		code, body, res = r.StatusCode(), r.Body, r.JSON200
	default:
		return nil, setupError{fmt.Errorf("no operation %s", op)}
	}
	return p.result(op, code, body, res)
}

// exchange reads one recorded exchange.
func (p *probe) exchange(ctx context.Context, id int64) (client.Exchange, error) {
	r, err := p.sb.GetExchangeWithResponse(ctx, p.ws, id, nil)
	if err != nil || r.JSON200 == nil {
		return client.Exchange{}, setupError{fmt.Errorf("exchange %d: %v", id, err)}
	}
	return *r.JSON200, nil
}

// answered describes an exchange's answer for a message.
func answered(x client.Exchange) string {
	if x.Response == nil {
		msg := string(x.Outcome)
		if x.Error != nil {
			msg += ": " + *x.Error
		}
		return "no answer (" + msg + ")"
	}
	body := x.Response.Body
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return fmt.Sprintf("%d %s", x.Response.Status, body)
}

func ok2xx(x client.Exchange) bool {
	return x.Response != nil && x.Response.Status >= 200 && x.Response.Status < 300
}

// taskMessage is the error_message of a task envelope, "" when the body
// is not one.
func taskMessage(body string) string {
	var env struct {
		Task struct {
			ErrorMessage string `json:"error_message"`
		} `json:"task"`
	}
	if json.Unmarshal([]byte(body), &env) != nil {
		return ""
	}
	return env.Task.ErrorMessage
}
