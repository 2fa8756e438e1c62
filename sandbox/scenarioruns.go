package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/operator"
	"github.com/apsandbox/apsandbox/sandbox/world"
	"github.com/apsandbox/apsandbox/scenarios"
)

// maxScenarioRuns is how many reports a sandbox keeps, oldest dropped
// first. Reports live in memory: a restart forgets them (the exchanges
// they point at stay in the journal, tagged with their run id).
const maxScenarioRuns = 200

// scenarioRuns runs scenarios for POST …/scenario-runs through this
// sandbox's own operator API, as `apsandbox run --sandbox` would, but
// without the network: requests go straight to the handler.
type scenarioRuns struct {
	s *Server
	// loaded are the scenarios of Config.ScenarioDir, by name; they come
	// before the built-ins.
	loaded map[string]*scenarios.Scenario

	mu   sync.Mutex
	last int64
	runs []operator.ScenarioRun
}

// handlerTransport serves client requests with an http.Handler in
// process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

func (r *scenarioRuns) client() (*client.ClientWithResponses, error) {
	return client.NewClientWithResponses("http://apsandbox.internal",
		client.WithHTTPClient(&http.Client{Transport: handlerTransport{r.s.engine}}))
}

// RunScenario parses or loads the scenario, runs it against the
// workspace's vendor, and keeps the report.
func (r *scenarioRuns) RunScenario(ctx context.Context, ws string, req operator.ScenarioRunRequest) (operator.ScenarioRun, error) {
	set, err := r.s.platform.Integration(ctx, ws)
	if err != nil {
		return operator.ScenarioRun{}, err
	}
	if set.APIPath == "" {
		return operator.ScenarioRun{}, world.Errorf(world.CodeConflict, "workspace %q has no api_path: set the vendor under test with PUT integration first", ws)
	}
	var scs []*scenarios.Scenario
	name, probe := req.Name, req.Name == scenarios.SuiteConformance
	switch {
	case req.Source != "":
		sc, err := scenarios.Parse("source", []byte(req.Source))
		if err != nil {
			return operator.ScenarioRun{}, scenarioError("source", err)
		}
		scs, name = []*scenarios.Scenario{sc}, sc.Name
	case r.loaded[req.Name] != nil:
		scs = []*scenarios.Scenario{r.loaded[req.Name]}
	case !probe:
		if scs, err = scenarios.Load(req.Name); err != nil {
			return operator.ScenarioRun{}, scenarioError("name", err)
		}
	}
	c, err := r.client()
	if err != nil {
		return operator.ScenarioRun{}, err
	}
	runner := &scenarios.Runner{Client: c, VendorURL: set.APIPath, VendorControlURL: req.VendorControlURL, Keep: req.Keep}
	if err := runner.Check(scs); err != nil {
		return operator.ScenarioRun{}, world.Invalid("vendor_control_url", "%v", err)
	}
	// The run goes on when the caller hangs up: its report is kept.
	ctx = context.WithoutCancel(ctx)
	rep := runner.RunAll(ctx, scs)
	if probe {
		runner.RunConformance(ctx, rep, req.Budget)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return operator.ScenarioRun{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	run := operator.ScenarioRun{
		ID: r.last, Workspace: ws, Scenario: name, Passed: rep.Passed,
		CreatedAt: time.Now().UTC(), Report: bytes.TrimSpace(buf.Bytes()),
	}
	r.runs = append(r.runs, run)
	if len(r.runs) > maxScenarioRuns {
		r.runs = r.runs[len(r.runs)-maxScenarioRuns:]
	}
	return run, nil
}

// ScenarioRun returns a kept report of the workspace.
func (r *scenarioRuns) ScenarioRun(ctx context.Context, ws string, id int64) (operator.ScenarioRun, error) {
	if _, err := r.s.platform.Workspace(ctx, ws); err != nil {
		return operator.ScenarioRun{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, run := range r.runs {
		if run.ID == id && run.Workspace == ws {
			return run, nil
		}
	}
	return operator.ScenarioRun{}, world.NotFound("scenario run", id)
}

// scenarioError turns a scenario's problems into a 400 whose details name
// each line:column.
func scenarioError(field string, err error) error {
	var es scenarios.Errors
	if !errors.As(err, &es) {
		return world.Invalid(field, "%v", err)
	}
	out := &world.Error{Code: world.CodeInvalidArgument, Message: fmt.Sprintf("%s: the scenario has %d problems; nothing was run", field, len(es))}
	for _, e := range es {
		f := fmt.Sprintf("%s:%d:%d", field, e.Pos.Line, e.Pos.Column)
		if e.Key != "" {
			f += " " + e.Key
		}
		out.Details = append(out.Details, world.Detail{Field: f, Problem: e.Msg})
	}
	return out
}

// loadScenarioDir parses every scenario file of dir; a name given twice
// or any problem of any file is an error listing them all.
func loadScenarioDir(dir string) (map[string]*scenarios.Scenario, error) {
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	scs, err := scenarios.LoadAll(files...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*scenarios.Scenario, len(scs))
	for _, sc := range scs {
		out[sc.Name] = sc
	}
	return out, nil
}
