package scenarios_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apsandbox/apsandbox/scenarios"
)

func mustParse(t *testing.T, name, src string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestLibraryScenariosPass(t *testing.T) {
	r, _ := newRunner(t)
	scs, err := scenarios.Load(scenarios.SuiteAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 2 {
		t.Fatalf("library has %d scenarios", len(scs))
	}
	rep := r.RunAll(t.Context(), scs)
	if !rep.Passed {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("built-ins failed:\n%s", b.String())
	}
	// The lifecycle's captured ${sub} reached the later steps: each one
	// made its own vendor call.
	var lifecycle *scenarios.ScenarioReport
	for _, sr := range rep.Scenarios {
		if sr.Name == "subscription-lifecycle" {
			lifecycle = sr
		}
	}
	if lifecycle == nil {
		t.Fatal("no subscription-lifecycle in the report")
	}
	for _, st := range lifecycle.Steps {
		if len(st.ExchangeIDs) != 1 {
			t.Errorf("step %q has exchanges %v, want one", st.Name, st.ExchangeIDs)
		}
	}
	// Every built-in the issue names is there.
	for _, name := range []string{"integration-check", "subscription-lifecycle", "renewal-refused", "trial-renewals",
		"non-recurring", "auto-renew-by-clock", "grace-stop-delete", "user-lifecycle", "usage-and-consumption",
		"resource-validation-refused", "manual-provisioning"} {
		if !slices.ContainsFunc(rep.Scenarios, func(sr *scenarios.ScenarioReport) bool { return sr.Name == name }) {
			t.Errorf("no built-in %s", name)
		}
	}
}

const failing = `version: 1
name: refused-renewal
setup:
  vendor_faults:
    - {endpoint: subscription/renew, status: 422, message: Card declined, times: 1}
steps:
  - order: {tenant_id: 1008, plan_id: 1037}
    capture: {sub: subscription.id}
  - renew: {subscription: "${sub}"}
    expect:
      status: active
      call:
        path: /subscription/renew
        answer: {status: 422, body: {task.error_message: {contains: declined}}}
  - stop: {subscription: "${sub}"}
`

func TestFailingExpectationNamesItsLine(t *testing.T) {
	r, _ := newRunner(t)
	rep := r.Run(t.Context(), mustParse(t, "refused.yaml", failing))
	if rep.Passed || rep.Counts.StepsFailed != 1 || rep.Counts.StepsSkipped != 1 || rep.Counts.StepsPassed != 1 {
		t.Fatalf("counts %+v passed %v", rep.Counts, rep.Passed)
	}
	st := rep.Scenarios[0].Steps[1]
	if st.Status != scenarios.StatusFailed || len(st.Failures) != 1 {
		t.Fatalf("renew step %+v", st)
	}
	f := st.Failures[0]
	if f.Expectation != "status" || f.Where != "refused.yaml:11:15" || f.Expected != `"active"` || f.Got != `"renewing_failed"` {
		t.Errorf("failure %+v", f)
	}
	if !strings.HasPrefix(f.Message, "refused.yaml:11:15: status: expected") {
		t.Errorf("message %q", f.Message)
	}
	if len(st.ExchangeIDs) != 1 {
		t.Errorf("renew exchanges %v", st.ExchangeIDs)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	for _, want := range []string{"FAIL refused-renewal", "  FAIL 2 renew", "refused.yaml:11:15: status", "  skip 3 stop"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestReportsParseBack(t *testing.T) {
	r, _ := newRunner(t)
	scs, err := scenarios.Load("integration-check")
	if err != nil {
		t.Fatal(err)
	}
	rep := r.RunAll(t.Context(), append(scs, mustParse(t, "refused.yaml", failing)))

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		RunID     string `json:"run_id"`
		Passed    bool   `json:"passed"`
		Counts    map[string]int
		Scenarios []struct {
			Name      string `json:"name"`
			Workspace string `json:"workspace"`
			Passed    bool   `json:"passed"`
			Steps     []struct {
				Status      string              `json:"status"`
				ExchangeIDs []int64             `json:"exchange_ids"`
				Failures    []scenarios.Failure `json:"failures"`
			} `json:"steps"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.RunID != "t1" || back.Passed || len(back.Scenarios) != 2 || !back.Scenarios[0].Passed ||
		back.Scenarios[0].Workspace != "scn-integration-check-t1" || back.Counts["steps_failed"] != 1 {
		t.Fatalf("JSON report read back: %s", js.String())
	}
	if f := back.Scenarios[1].Steps[1].Failures; len(f) != 1 || f[0].Where != "refused.yaml:11:15" {
		t.Errorf("JSON failures %+v", f)
	}

	var jx bytes.Buffer
	if err := rep.WriteJUnit(&jx); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(jx.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	if len(suites.Suites) != 2 {
		t.Fatalf("JUnit: %s", jx.String())
	}
	s := suites.Suites[1]
	if s.Name != "refused-renewal" || s.Tests != 3 || s.Failures != 1 || s.Skipped != 1 {
		t.Errorf("JUnit suite %+v", s)
	}
	if f := s.Cases[1].Failure; f == nil || !strings.Contains(f.Text, "refused.yaml:11:15: status: expected") {
		t.Errorf("JUnit failure %+v", f)
	}
}

func TestRepeatConcurrencyAndHeaders(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{} // "run|delivery" of each operator request that made calls
	r, _ := newRunnerWrapped(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodPost {
				mu.Lock()
				seen[req.Header.Get(scenarios.RunHeader)+"|"+req.Header.Get(scenarios.DeliveryHeader)]++
				mu.Unlock()
			}
			h.ServeHTTP(w, req)
		})
	})
	sc := mustParse(t, "load.yaml", `version: 1
name: load
vars: {tenant: 1008}
steps:
  - create_user: {tenant_id: "${tenant}", email: "u${rep}-${run_id}@example.com", first_name: Load, last_name: "N${rep}"}
    repeat: 6
    concurrency: 3
    capture: {user: user.id}
    expect:
      status: active
      calls: 1
      call: {path: /user/create, body: {email: {matches: "^u[1-6]-t1@"}}}
  - reset_password: {user: "${user}"}
    faults: {timeout_ms: 500, extra_fields: true}
    expect: {call: {path: /user/password_reset}}
`)
	rep := r.Run(t.Context(), sc)
	if !rep.Passed {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("load scenario failed:\n%s", b.String())
	}
	st := rep.Scenarios[0].Steps[0]
	if st.Repetitions != 6 || len(st.ExchangeIDs) != 6 {
		t.Errorf("repeated step %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	// Workspace creation and the six orders carry only the run header;
	// the reset carries the delivery faults too.
	if seen["t1|"] != 7 || seen["t1|timeout_ms=500,extra_fields"] != 1 || len(seen) != 2 {
		t.Errorf("requests by headers: %v", seen)
	}
}

func TestVendorFaultsNeedControl(t *testing.T) {
	r, _ := newRunner(t)
	r.VendorControlURL = ""
	sc := mustParse(t, "refused.yaml", failing)
	if err := r.Check([]*scenarios.Scenario{sc}); err == nil || !strings.Contains(err.Error(), "refused.yaml") {
		t.Errorf("Check = %v", err)
	}
	rep := r.Run(t.Context(), sc)
	if rep.Passed || !strings.Contains(rep.Scenarios[0].Error, "vendor_faults need") || rep.Counts.StepsSkipped != 3 {
		t.Errorf("report %+v", rep.Scenarios[0])
	}
}

func TestErrorAndAdvanceExpectations(t *testing.T) {
	r, _ := newRunner(t)
	sc := mustParse(t, "more.yaml", `version: 1
name: more
steps:
  - order: {tenant_id: 1008, plan_id: 999999}
    expect: {error: {code: invalid_argument, field: plan_id, message: not found}, calls: 0}
  - order: {tenant_id: 1008, plan_id: 1037}
    capture: {sub: subscription.id}
  - auto_renew: {subscription: "${sub}", on: true}
    expect: {status: active, result: {auto_renew: true}}
  - advance: {by: 2mo}
    expect:
      subscription: "${sub}"
      status: active
      events: [{kind: auto_renew, subscription: "${sub}", outcome: done}]
      call: {path: /subscription/renew}
  - stop: {subscription: 424242}
    expect: {error: not_found}
`)
	rep := r.Run(t.Context(), sc)
	if !rep.Passed {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("failed:\n%s", b.String())
	}
}

// TestLanguageExample runs the example of LANGUAGE.md, so that the
// reference never shows a scenario that does not work.
func TestLanguageExample(t *testing.T) {
	doc, err := os.ReadFile("LANGUAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	src, _, _ := strings.Cut(rest, "```")
	r, _ := newRunner(t)
	rep := r.Run(t.Context(), mustParse(t, "LANGUAGE.md", src))
	if !rep.Passed {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("the example of LANGUAGE.md fails:\n%s", b.String())
	}
}

// TestReadmeScenario runs the README's scenario example, word for word.
func TestReadmeScenario(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```yaml\n")
	src, _, _ := strings.Cut(rest, "```")
	if !ok || !strings.Contains(src, "version: 1") {
		t.Fatal("the README has no scenario example")
	}
	sc, err := scenarios.Parse("README.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newRunner(t)
	rep := r.Run(t.Context(), sc)
	if !rep.Passed {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("the README's scenario failed:\n%s", b.String())
	}
	if n := len(rep.Scenarios[0].Steps[1].ExchangeIDs); n != 2 {
		t.Errorf("the duplicated renewal made %d calls, want 2", n)
	}
}

// TestRunsAgainstAStatefulVendor: a vendor that keeps its state between
// runs (no control API to reset it, as a staging service) sees each run
// as a new installation, so the second run of the same scenario, with
// the same subscription ids, is not taken for the first.
func TestRunsAgainstAStatefulVendor(t *testing.T) {
	r, v := newRunner(t)
	r.VendorControlURL = ""
	ids := 0
	r.RunID = func() string { ids++; return fmt.Sprintf("t%d", ids) }
	scs, err := scenarios.Load("subscription-lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		if rep := r.RunAll(t.Context(), scs); !rep.Passed {
			var b bytes.Buffer
			rep.WriteText(&b)
			t.Fatalf("run %d against the same vendor:\n%s", run, b.String())
		}
	}
	if n := len(v.Subscriptions()); n != 2 {
		t.Errorf("the vendor holds %d subscriptions after two runs, want 2 (one per run)", n)
	}
}

// TestSetupFailureLeavesNothing: a scenario whose setup fails half-way
// (the workspace made, its settings refused) deletes the workspace and
// disarms the faults it armed.
func TestSetupFailureLeavesNothing(t *testing.T) {
	r, v := newRunner(t)
	sc := mustParse(t, "leak.yaml", `version: 1
name: leak
setup:
  integration: {timeout_ms: -5}
steps: [{check: {}}]
`)
	rep := r.Run(t.Context(), sc)
	if rep.Passed || !strings.HasPrefix(rep.Scenarios[0].Error, "setup: ") {
		t.Fatalf("report: %+v", rep.Scenarios[0])
	}
	ws, err := r.Client.ListWorkspacesWithResponse(t.Context())
	if err != nil || ws.JSON200 == nil {
		t.Fatal(err)
	}
	for _, w := range ws.JSON200.Items {
		if strings.HasPrefix(w.Name, "scn-leak") {
			t.Errorf("workspace %s outlived its failed setup", w.Name)
		}
	}
	if n := len(v.Faults()); n != 0 {
		t.Errorf("%d vendor faults left armed", n)
	}
}

// TestWithinMSWantsAnAnswer: a call that timed out was not answered in
// time, however short it was.
func TestWithinMSWantsAnAnswer(t *testing.T) {
	r, _ := newRunner(t)
	sc := mustParse(t, "within.yaml", `version: 1
name: within
setup:
  vendor_faults: [{endpoint: subscription/renew, delay_ms: 400}]
steps:
  - order: {tenant_id: 1008, plan_id: 1037}
    capture: {sub: subscription.id}
  - renew: {subscription: "${sub}"}
    faults: {timeout_ms: 100}
    expect: {status: renewing_failed, within_ms: 1000}
`)
	rep := r.Run(t.Context(), sc)
	st := rep.Scenarios[0].Steps[1]
	if st.Status != scenarios.StatusFailed || len(st.Failures) != 1 || !strings.Contains(st.Failures[0].Message, "no answer") {
		t.Errorf("a timed-out call under within_ms: %+v", st)
	}
}
