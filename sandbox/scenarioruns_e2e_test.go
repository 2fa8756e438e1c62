package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox"
)

type scenarioRun struct {
	ID       int64  `json:"id"`
	Scenario string `json:"scenario"`
	Passed   bool   `json:"passed"`
	Report   struct {
		RunID     string `json:"run_id"`
		Passed    bool   `json:"passed"`
		Scenarios []struct {
			Name      string `json:"name"`
			Workspace string `json:"workspace"`
			Steps     []struct {
				Name     string `json:"name"`
				Status   string `json:"status"`
				Failures []struct {
					Where   string `json:"where"`
					Message string `json:"message"`
				} `json:"failures"`
			} `json:"steps"`
		} `json:"scenarios"`
	} `json:"report"`
}

// TestScenarioRuns runs scenarios through the operator API: built-ins,
// the conformance suite, inline YAML that fails an expectation or does not
// parse, and a scenario that needs the example vendor's control API. The
// reports are kept and can be read back.
func TestScenarioRuns(t *testing.T) {
	e := newEnv(t, 1)
	run := func(body map[string]any, want int) scenarioRun {
		t.Helper()
		var r scenarioRun
		if code := e.do("POST", e.ws("/scenario-runs"), body, &r); code != want {
			t.Fatalf("run %v: %d, want %d (%+v)", body, code, want, r)
		}
		return r
	}

	life := run(map[string]any{"name": "subscription-lifecycle"}, http.StatusCreated)
	if !life.Passed || !life.Report.Passed || len(life.Report.Scenarios) != 1 || len(life.Report.Scenarios[0].Steps) != 7 {
		t.Errorf("subscription-lifecycle: %+v", life)
	}
	var again scenarioRun
	if code := e.do("GET", e.ws(fmt.Sprintf("/scenario-runs/%d", life.ID)), nil, &again); code != 200 || again.Report.RunID != life.Report.RunID {
		t.Errorf("read back run %d: %d %+v", life.ID, code, again)
	}
	if code := e.do("GET", e.ws("/scenario-runs/999"), nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown run: %d", code)
	}

	conf := run(map[string]any{"name": "conformance", "budget_ms": 2000}, http.StatusCreated)
	if !conf.Passed || len(conf.Report.Scenarios) != 1 || len(conf.Report.Scenarios[0].Steps) != 7 {
		t.Errorf("conformance of the example vendor: %+v", conf)
	}

	failing := "version: 1\nname: wrong-status\nsteps:\n  - order: {tenant_id: 1008, plan_id: 1037}\n    expect: {status: stopped}\n"
	f := run(map[string]any{"source": failing, "keep": true}, http.StatusCreated)
	if f.Passed || f.Scenario != "wrong-status" {
		t.Fatalf("a failing inline scenario: %+v", f)
	}
	st := f.Report.Scenarios[0].Steps[0]
	if st.Status != "failed" || len(st.Failures) == 0 || st.Failures[0].Where != "source:5:22" {
		t.Errorf("the failed step: %+v", st)
	}
	// Kept: its exchanges carry the run id.
	ws := f.Report.Scenarios[0].Workspace
	var xs struct{ Items []exchange }
	if code := e.do("GET", fmt.Sprintf("/api/v1/workspaces/%s/exchanges?run_id=%s", ws, f.Report.RunID), nil, &xs); code != 200 || len(xs.Items) != 1 {
		t.Errorf("exchanges of the kept run: %d %d", code, len(xs.Items))
	}

	var bad apiError
	if code := e.do("POST", e.ws("/scenario-runs"), map[string]any{"source": "version: 1\nname: x\nsteps:\n  - renw: {}\n  - stop: {}\n"}, &bad); code != http.StatusBadRequest {
		t.Fatalf("a scenario that does not parse: %d", code)
	}
	var fields []string
	for _, d := range bad.Error.Details {
		fields = append(fields, d.Field)
	}
	if got := strings.Join(fields, " | "); !strings.Contains(got, "source:4:5") || !strings.Contains(got, "source:5:11 steps[2].stop") {
		t.Errorf("problems named at %s, want source:4:5 and source:5:11", got)
	}

	if code := e.do("POST", e.ws("/scenario-runs"), map[string]any{"name": "renewal-refused"}, &bad); code != http.StatusBadRequest ||
		!strings.Contains(bad.Error.Message, "vendor_control_url") {
		t.Errorf("vendor_faults without the control URL: %d %+v", code, bad.Error)
	}
	refused := run(map[string]any{"name": "renewal-refused", "vendor_control_url": e.vendorURL}, http.StatusCreated)
	if !refused.Passed {
		raw, _ := json.Marshal(refused.Report)
		t.Errorf("renewal-refused with the control API: %s", raw)
	}
	if code := e.do("POST", e.ws("/scenario-runs"), map[string]any{"name": "no-such-scenario"}, &bad); code != http.StatusBadRequest {
		t.Errorf("an unknown built-in: %d", code)
	}
}

// TestScenarioDir: the scenarios of --scenarios DIR run by name through
// the API; a directory with a bad file stops the sandbox from starting,
// naming the file, line and column.
func TestScenarioDir(t *testing.T) {
	dir := t.TempDir()
	mine := "version: 1\nname: my-check\nsteps:\n  - check: {}\n    expect: {result: {ready: true}}\n"
	if err := os.WriteFile(filepath.Join(dir, "my-check.yaml"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, 1, func(c *sandbox.Config) { c.ScenarioDir = dir })
	var r scenarioRun
	if code := e.do("POST", e.ws("/scenario-runs"), map[string]any{"name": "my-check"}, &r); code != http.StatusCreated || !r.Passed || r.Scenario != "my-check" {
		t.Errorf("run my-check: %d %+v", code, r)
	}

	if err := os.WriteFile(filepath.Join(dir, "broken.yml"), []byte("version: 1\nname: broken\nsteps:\n  - chek: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := sandbox.New(sandbox.Config{Seed: 1, ScenarioDir: dir})
	if err == nil || !strings.Contains(err.Error(), "broken.yml:4:5") {
		t.Errorf("a bad scenario file: %v, want its file:line:column", err)
	}
	if _, err := sandbox.New(sandbox.Config{Seed: 1, ScenarioDir: filepath.Join(dir, "nope")}); err == nil {
		t.Error("a missing scenario directory: no error")
	}
}
