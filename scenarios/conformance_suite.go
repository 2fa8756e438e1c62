package scenarios

import (
	"context"
	"time"

	"github.com/apsandbox/apsandbox/scenarios/conformance"
)

// RunConformance probes the runner's vendor with the conformance suite
// (package conformance) and reports it as one more scenario, named
// "conformance", with a step per check: the text, JSON and JUnit reports
// then show a vendor's score the way they show scenarios. Unlike a
// scenario's steps, a failed check does not skip the next: each runs in
// an installation of its own. budget bounds every answer (zero: the
// platform's default timeout). The run id ties the probes' exchanges to
// rep, which gains the scenario.
func (r *Runner) RunConformance(ctx context.Context, rep *Report, budget time.Duration) {
	start := time.Now()
	sr := &ScenarioReport{
		Name:        SuiteConformance,
		File:        "built-in",
		Description: "Probes of the vendor's robustness: idempotent create, unknown subscriptions, duplicate, late and padded deliveries, the time budget.",
		Workspace:   "conf-" + rep.RunID + "-*",
		Steps:       []*StepReport{},
	}
	res, err := conformance.Run(ctx, conformance.Options{
		Sandbox: r.Client, VendorURL: r.VendorURL, Budget: budget, RunID: rep.RunID, Keep: r.Keep,
	})
	if err != nil {
		sr.Error = err.Error()
	}
	ran := map[string]bool{}
	for _, c := range res.Results {
		ran[c.Name] = true
	}
	for i, c := range res.Results {
		st := &StepReport{
			Index: i + 1, Name: c.Name, Action: "probe", Where: "conformance:" + c.Name,
			Status: StatusPassed, DurationMS: ms(c.Duration), ExchangeIDs: c.ExchangeIDs,
		}
		if !c.Passed {
			st.Status = StatusFailed
			st.Failures = []Failure{{
				Expectation: c.Name, Where: st.Where, Expected: c.Description, Got: c.Message,
				Message: c.Name + " (workspace " + c.Workspace + "): " + c.Message,
			}}
		}
		sr.Steps = append(sr.Steps, st)
		if r.OnStep != nil {
			r.OnStep(sr, st)
		}
	}
	// Checks that never ran (the sandbox refused a setup) are listed as
	// skipped, so that the report counts every check.
	if err != nil {
		for _, c := range conformance.Checks() {
			if ran[c.Name] {
				continue
			}
			st := &StepReport{Index: len(sr.Steps) + 1, Name: c.Name, Action: "probe", Where: "conformance:" + c.Name,
				Status: StatusSkipped, ExchangeIDs: []int64{}}
			sr.Steps = append(sr.Steps, st)
			if r.OnStep != nil {
				r.OnStep(sr, st)
			}
		}
	}
	sr.DurationMS = ms(time.Since(start))
	rep.Scenarios = append(rep.Scenarios, sr)
	started := rep.StartedAt
	rep.finish()
	rep.StartedAt = started
}
