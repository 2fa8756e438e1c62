package operator

import (
	"context"
	"encoding/json"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// ScenarioRunRequest is what POST …/scenario-runs asks for: a built-in
// (or suite) by name, or a scenario file's text.
type ScenarioRunRequest struct {
	Name, Source     string
	VendorControlURL string
	Budget           time.Duration
	// Keep leaves the run's workspaces (and their exchanges) in place.
	Keep bool
}

// ScenarioRun is a finished run and its report, as the JSON report
// format has it.
type ScenarioRun struct {
	ID        int64
	Workspace string
	Scenario  string
	Passed    bool
	CreatedAt time.Time
	Report    json.RawMessage
}

// ScenarioRunner runs scenarios for the operator API and keeps their
// reports. The operator does not run scenarios itself: scenarios drive
// the sandbox through this very API, so the composition root wires a
// runner built on package scenarios (see WithScenarios).
type ScenarioRunner interface {
	RunScenario(ctx context.Context, ws string, req ScenarioRunRequest) (ScenarioRun, error)
	ScenarioRun(ctx context.Context, ws string, id int64) (ScenarioRun, error)
}

// WithScenarios sets the runner behind POST …/scenario-runs; without one
// those requests are 409.
func WithScenarios(r ScenarioRunner) Option {
	return func(s *Server) { s.scenarios = r }
}

func (s *Server) scenarioRunner() (ScenarioRunner, error) {
	if s.scenarios == nil {
		return nil, world.Errorf(world.CodeConflict, "this sandbox runs no scenarios (it was built without a scenario runner)")
	}
	return s.scenarios, nil
}

// RunScenario runs a scenario and answers its report.
func (s *Server) RunScenario(ctx context.Context, req api.RunScenarioRequestObject) (api.RunScenarioResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.scenarioRunner()
	if err != nil {
		return nil, err
	}
	b := req.Body
	name, source := deref(b.Name), deref(b.Source)
	if (name == "") == (source == "") {
		return nil, world.Invalid("name", "give either name (a built-in, all or conformance) or source (a scenario's YAML)")
	}
	run, err := r.RunScenario(ctx, req.Ws, ScenarioRunRequest{
		Name: name, Source: source, VendorControlURL: deref(b.VendorControlURL),
		Budget: time.Duration(deref(b.BudgetMs)) * time.Millisecond, Keep: deref(b.Keep),
	})
	if err != nil {
		return nil, err
	}
	return api.RunScenario201JSONResponse(toScenarioRun(run)), nil
}

// GetScenarioRun answers a kept report.
func (s *Server) GetScenarioRun(ctx context.Context, req api.GetScenarioRunRequestObject) (api.GetScenarioRunResponseObject, error) {
	r, err := s.scenarioRunner()
	if err != nil {
		return nil, err
	}
	run, err := r.ScenarioRun(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetScenarioRun200JSONResponse(toScenarioRun(run)), nil
}

func toScenarioRun(r ScenarioRun) api.ScenarioRun {
	return api.ScenarioRun{ID: r.ID, Workspace: r.Workspace, Scenario: r.Scenario, Passed: r.Passed, CreatedAt: r.CreatedAt, Report: r.Report}
}
