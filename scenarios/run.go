package scenarios

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/apsandbox/apsandbox/sandbox/client"
)

// Runner runs scenarios against a sandbox, through its operator API only.
// The zero value is not usable: Client and VendorURL are required.
type Runner struct {
	// Client is the generated client of the sandbox under test.
	Client *client.ClientWithResponses
	// VendorURL is the vendor under test: every scenario workspace's
	// api_path.
	VendorURL string
	// VendorControlURL is the base URL of a vendor control API like the
	// example vendor's (/_control/…); "" when there is none. With one, the
	// runner resets the vendor before each scenario (so that scenarios of
	// the same seed do not see each other's subscriptions) and arms the
	// scenario's vendor_faults.
	VendorControlURL string
	// HTTPClient calls the vendor control API; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// RunID makes the run id (X-Apsandbox-Run); nil means 8 random hex
	// digits.
	RunID func() string
	// Keep leaves each scenario's workspace in place for inspection.
	Keep bool
	// OnStep, when set, is called after each step (and for each skipped
	// one), for progress displays. Calls come from one goroutine.
	OnStep func(*ScenarioReport, *StepReport)
}

// ErrNoVendorControl is returned (wrapped) when a scenario arms
// vendor_faults and the runner has no VendorControlURL: bad input, known
// before anything is sent.
var ErrNoVendorControl = errors.New("vendor_faults need the vendor's control API (--vendor-control URL, or the built-in example vendor)")

// Check reports scenarios the runner cannot run as configured.
func (r *Runner) Check(scs []*Scenario) error {
	if r.VendorControlURL != "" {
		return nil
	}
	var errs []error
	for _, sc := range scs {
		if sc.UsesVendorFaults() {
			errs = append(errs, fmt.Errorf("%s: %w", sc.File, ErrNoVendorControl))
		}
	}
	return errors.Join(errs...)
}

// Run runs one scenario and reports on it.
func (r *Runner) Run(ctx context.Context, sc *Scenario) *Report {
	return r.RunAll(ctx, []*Scenario{sc})
}

// RunAll runs scenarios one after another under one run id. They do not
// run in parallel: a vendor's faults and state are shared by all of them.
func (r *Runner) RunAll(ctx context.Context, scs []*Scenario) *Report {
	id := r.newRunID()
	rep := &Report{RunID: id, StartedAt: time.Now().UTC()}
	for _, sc := range scs {
		rep.Scenarios = append(rep.Scenarios, r.scenario(ctx, id, sc))
	}
	rep.finish()
	return rep
}

func (r *Runner) newRunID() string {
	if r.RunID != nil {
		return r.RunID()
	}
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// workspaceName is scn-<name>-<run id>, cut to the platform's 63
// characters by shortening the name.
func workspaceName(name, runID string) string {
	suffix := "-" + strings.ToLower(runID)
	room := 63 - len("scn-") - len(suffix)
	if len(name) > room {
		name = strings.TrimRight(name[:room], "-")
	}
	return "scn-" + name + suffix
}

// scenarioRun is the state of one scenario while it runs.
type scenarioRun struct {
	r      *Runner
	sc     *Scenario
	runID  string
	ws     string
	vars   map[string]any
	cursor int64 // the run's last exchange id seen in this workspace
	// created and armed say what setup got done: teardown undoes it.
	created, armed bool
}

func (r *Runner) scenario(ctx context.Context, runID string, sc *Scenario) *ScenarioReport {
	start := time.Now()
	sr := &ScenarioReport{Name: sc.Name, File: sc.File, Description: sc.Description, Workspace: workspaceName(sc.Name, runID)}
	s := &scenarioRun{r: r, sc: sc, runID: runID, ws: sr.Workspace,
		vars: map[string]any{"run_id": runID, "workspace": sr.Workspace}}
	defer func() { sr.DurationMS = ms(time.Since(start)) }()

	skipAll := func(from int) {
		for i := from; i < len(sc.Steps); i++ {
			st := sc.Steps[i]
			step := &StepReport{Index: i + 1, Name: st.Name, Action: st.Action, Where: st.Pos.String(), Status: StatusSkipped}
			sr.Steps = append(sr.Steps, step)
			r.progress(sr, step)
		}
	}
	// Teardown is registered before setup, which may fail half-way: a
	// workspace it made, or faults it armed, must not outlive the run.
	defer func() {
		// The workspace goes even when the run's context ended.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.teardown(dctx); err != nil && sr.Error == "" {
			sr.Error = "teardown: " + err.Error()
		}
	}()
	if err := s.setup(ctx); err != nil {
		sr.Error = "setup: " + err.Error()
		skipAll(0)
		return sr
	}
	for i, st := range sc.Steps {
		step := s.step(ctx, i+1, st)
		sr.Steps = append(sr.Steps, step)
		r.progress(sr, step)
		if step.Status == StatusFailed {
			// Later steps build on this one: their failures would only
			// repeat it.
			skipAll(i + 1)
			break
		}
	}
	return sr
}

func (r *Runner) progress(sr *ScenarioReport, st *StepReport) {
	if r.OnStep != nil {
		r.OnStep(sr, st)
	}
}

func (s *scenarioRun) editors(f faults) []client.RequestEditorFn {
	delivery := f.header()
	return []client.RequestEditorFn{func(_ context.Context, req *http.Request) error {
		req.Header.Set(RunHeader, s.runID)
		if delivery != "" {
			req.Header.Set(DeliveryHeader, delivery)
		}
		return nil
	}}
}

// setup creates the workspace, applies the integration settings and the
// initial variables, and arms the vendor's faults.
func (s *scenarioRun) setup(ctx context.Context) error {
	c, eds := s.r.Client, s.editors(faults{})
	// A new installation id for every scenario run: a vendor that keeps
	// its state between runs (a staging service) must not take this run's
	// subscriptions for the last run's, which had the same ids.
	apguid := newAPGUID()
	cw, err := c.CreateWorkspaceWithResponse(ctx, client.CreateWorkspaceRequest{
		Name: s.ws, Seed: &s.sc.seed, VendorURL: &s.r.VendorURL, ApGUID: &apguid}, eds...)
	if err != nil {
		return err
	}
	if err := client.ResponseError(cw); err != nil {
		return fmt.Errorf("create workspace %s: %w", s.ws, err)
	}
	s.created = true
	for _, v := range s.sc.vars {
		val, err := expand(v.val, s.vars)
		if err != nil {
			return err
		}
		s.vars[v.key] = val
	}
	if s.sc.integration != nil {
		resp, err := putIntegration(ctx, c, s.ws, s.sc.integration, s.vars, eds)
		if err != nil {
			return err
		}
		if err := client.ResponseError(resp); err != nil {
			return fmt.Errorf("%s: setup.integration: %w", s.sc.integration.pos, err)
		}
	}
	if s.r.VendorControlURL != "" {
		if err := s.control(ctx, http.MethodPost, "/_control/reset", nil); err != nil {
			return err
		}
		for _, f := range s.sc.vendorFaults {
			s.armed = true
			body := map[string]any{"endpoint": f.endpoint, "status": f.status, "message": f.message, "delay_ms": f.delayMS, "times": f.times}
			if err := s.control(ctx, http.MethodPost, "/_control/faults", body); err != nil {
				return fmt.Errorf("%s: setup.vendor_faults: %w", f.pos, err)
			}
		}
	} else if len(s.sc.vendorFaults) > 0 {
		return ErrNoVendorControl
	}
	return nil
}

// teardown disarms the vendor faults the run armed and, unless the
// runner keeps them, deletes the workspace it made.
func (s *scenarioRun) teardown(ctx context.Context) error {
	var errs []error
	if s.armed {
		errs = append(errs, s.control(ctx, http.MethodDelete, "/_control/faults", nil))
	}
	if s.created && !s.r.Keep {
		resp, err := s.r.Client.DeleteWorkspaceWithResponse(ctx, s.ws, s.editors(faults{})...)
		if err == nil {
			err = client.ResponseError(resp)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// control calls the vendor's control API.
func (s *scenarioRun) control(ctx context.Context, method, path string, body any) error {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(s.r.VendorControlURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", jsonType)
	hc := s.r.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("vendor control: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return fmt.Errorf("vendor control %s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(b.String()))
	}
	return nil
}

// maxFailures bounds the failures one step reports; a repeat of 1000 that
// fails the same way needs a few examples, not all of them.
const maxFailures = 20

// step runs one step, all its repetitions, and checks them.
func (s *scenarioRun) step(ctx context.Context, index int, st *Step) *StepReport {
	start := time.Now()
	rep := &StepReport{Index: index, Name: st.Name, Action: st.Action, Where: st.Pos.String(), Repetitions: st.repeat}
	before := s.cursor

	type result struct {
		o    *outcome
		vars map[string]any
		fs   []Failure
	}
	results := make([]result, st.repeat)
	sem := make(chan struct{}, st.concurrency)
	var wg sync.WaitGroup
	for i := range st.repeat {
		vars := cloneVars(s.vars)
		vars["rep"] = int64(i + 1)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			o, fs := s.once(ctx, st, vars, st.concurrency == 1)
			results[i] = result{o, vars, fs}
		}()
		if st.concurrency == 1 {
			wg.Wait() // sequential: each repetition sees its own calls
		}
	}
	wg.Wait()

	total := 0
	for i, res := range results {
		for _, f := range res.fs {
			total++
			if len(rep.Failures) < maxFailures {
				if st.repeat > 1 {
					f.Message = fmt.Sprintf("repetition %d: %s", i+1, f.Message)
				}
				rep.Failures = append(rep.Failures, f)
			}
		}
	}
	if total > maxFailures {
		rep.Failures = append(rep.Failures, Failure{Expectation: "more", Where: st.Pos.String(),
			Message: fmt.Sprintf("… and %d more failures", total-maxFailures)})
	}
	// Captures keep the last repetition's values.
	last := results[len(results)-1]
	for _, c := range st.captures {
		if v, ok := last.vars[c.name]; ok {
			s.vars[c.name] = v
		}
	}
	// The step's exchanges: every call of the run since the step began.
	all, err := s.exchangesAfter(ctx, before)
	if err != nil {
		rep.Failures = append(rep.Failures, failMsg(st.Pos, "exchanges", err.Error()))
	}
	for _, x := range all {
		rep.ExchangeIDs = append(rep.ExchangeIDs, x.ID)
		s.cursor = max(s.cursor, x.ID)
	}
	rep.Status = StatusPassed
	if len(rep.Failures) > 0 {
		rep.Status = StatusFailed
	}
	rep.DurationMS = ms(time.Since(start))
	return rep
}

// once runs one repetition: the call, its captures (into vars), the
// vendor calls it made, and its expectations. With sequential set, the
// calls are those after the scenario's cursor; repetitions running side
// by side instead claim the ids their answers name.
func (s *scenarioRun) once(ctx context.Context, st *Step, vars map[string]any, sequential bool) (*outcome, []Failure) {
	before := s.cursor
	resp, err := call(ctx, s.r.Client, s.ws, st, vars, s.editors(st.faults))
	if err != nil {
		return nil, []Failure{failMsg(st.Pos, st.Action, err.Error())}
	}
	o := &outcome{httpStatus: resp.StatusCode(), body: resp.GetBody()}
	if e := client.ResponseError(resp); e != nil {
		o.apiErr, _ = e.(*client.APIError)
	}
	var fs []Failure
	if o.apiErr == nil {
		for _, c := range st.captures {
			got := gjson.GetBytes(o.body, c.path)
			if !got.Exists() {
				fs = append(fs, failMsg(c.pos, "capture."+c.name, fmt.Sprintf("the answer has no %s: %.300s", c.path, o.body)))
				continue
			}
			vars[c.name] = fromJSON(got.Raw)
		}
	}
	calls, err := s.exchangesAfter(ctx, before)
	if err != nil {
		return o, append(fs, failMsg(st.Pos, "exchanges", err.Error()))
	}
	if sequential {
		o.calls = calls
		for _, c := range calls {
			s.cursor = max(s.cursor, c.ID)
		}
	} else {
		o.calls = claim(calls, gjson.GetBytes(o.body, "exchange_ids").Array(), gjson.GetBytes(o.body, "exchange_id").Int())
	}
	if st.Action == "advance" && st.expect.subscription != nil && o.apiErr == nil {
		v, err := expand(st.expect.subscription, vars)
		id, ok := asID(v)
		if err != nil || !ok {
			return o, append(fs, failMsg(st.expect.subscription.pos, "subscription", fmt.Sprintf("not an id: %s %v", jsonText(v), err)))
		}
		sub, err := s.r.Client.GetSubscriptionWithResponse(ctx, s.ws, id, s.editors(faults{})...)
		if err == nil {
			err = client.ResponseError(sub)
		}
		if err != nil {
			return o, append(fs, failMsg(st.expect.subscription.pos, "subscription", err.Error()))
		}
		o.subStatus = gjson.GetBytes(sub.Body, "status")
		// An advance fires events for the whole world: the step's calls
		// are those about the subscription it names.
		mine := o.calls[:0:0]
		for _, c := range o.calls {
			if c.SubscriptionID != nil && *c.SubscriptionID == id {
				mine = append(mine, c)
			}
		}
		o.calls = mine
	}
	return o, append(fs, st.expect.check(st, o, vars)...)
}

// claim keeps the calls an answer names (exchange_ids, or a check's
// exchange_id), for repetitions that run side by side. An answer that
// names none (an error) claims none.
func claim(calls []client.Exchange, ids []gjson.Result, one int64) []client.Exchange {
	want := map[int64]bool{}
	for _, id := range ids {
		want[id.Int()] = true
	}
	if one != 0 {
		want[one] = true
	}
	if len(want) == 0 {
		// Repetitions run side by side: calls the answer does not name
		// may be another repetition's, so none is this one's.
		return nil
	}
	var out []client.Exchange
	for _, c := range calls {
		if want[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// exchangesAfter lists the run's exchanges in the workspace with ids
// above after, oldest first, over every page.
func (s *scenarioRun) exchangesAfter(ctx context.Context, after int64) ([]client.Exchange, error) {
	run := s.runID
	var all []client.Exchange
	for {
		p := &client.ListExchangesParams{RunID: &run, AfterID: &after}
		resp, err := s.r.Client.ListExchangesWithResponse(ctx, s.ws, p, s.editors(faults{})...)
		if err == nil {
			err = client.ResponseError(resp)
		}
		if err != nil {
			return all, fmt.Errorf("list exchanges: %w", err)
		}
		if resp.JSON200 == nil {
			return all, fmt.Errorf("list exchanges: unexpected answer %d", resp.StatusCode())
		}
		all = append(all, resp.JSON200.Items...)
		if resp.JSON200.NextCursor == "" {
			return all, nil
		}
		if after, err = strconv.ParseInt(resp.JSON200.NextCursor, 10, 64); err != nil {
			return all, fmt.Errorf("list exchanges: next_cursor %q is not an id", resp.JSON200.NextCursor)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newAPGUID is a random installation id in the GUID form the platform uses.
func newAPGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
