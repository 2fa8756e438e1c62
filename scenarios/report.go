package scenarios

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// Step statuses in a report.
const (
	StatusPassed  = "passed"
	StatusFailed  = "failed"
	StatusSkipped = "skipped" // a step after a failed one
)

// Report is what a run did, scenario by scenario and step by step. Its
// JSON form is the report format of LANGUAGE.md (`--json`, and what
// `GET …/scenario-runs/{id}` returns).
type Report struct {
	RunID      string            `json:"run_id"`
	StartedAt  time.Time         `json:"started_at"`
	DurationMS float64           `json:"duration_ms"`
	Passed     bool              `json:"passed"`
	Counts     Counts            `json:"counts"`
	Scenarios  []*ScenarioReport `json:"scenarios"`
}

// Counts sums a report up.
type Counts struct {
	Scenarios       int `json:"scenarios"`
	ScenariosPassed int `json:"scenarios_passed"`
	ScenariosFailed int `json:"scenarios_failed"`
	Steps           int `json:"steps"`
	StepsPassed     int `json:"steps_passed"`
	StepsFailed     int `json:"steps_failed"`
	StepsSkipped    int `json:"steps_skipped"`
}

// ScenarioReport is one scenario's part of a report.
type ScenarioReport struct {
	Name        string  `json:"name"`
	File        string  `json:"file"`
	Description string  `json:"description,omitempty"`
	Workspace   string  `json:"workspace"`
	Passed      bool    `json:"passed"`
	DurationMS  float64 `json:"duration_ms"`
	// Error is why the scenario could not run (setup) or clean up
	// (teardown); its steps are then skipped.
	Error string        `json:"error,omitempty"`
	Steps []*StepReport `json:"steps"`
}

// StepReport is one step's outcome.
type StepReport struct {
	Index  int    `json:"index"` // from 1
	Name   string `json:"name"`
	Action string `json:"action"`
	// Where is the step's action key in the file, file:line:column.
	Where       string    `json:"where"`
	Status      string    `json:"status"`
	DurationMS  float64   `json:"duration_ms"`
	Repetitions int       `json:"repetitions,omitempty"`
	ExchangeIDs []int64   `json:"exchange_ids"`
	Failures    []Failure `json:"failures,omitempty"`
}

func (r *Report) finish() {
	r.DurationMS = ms(time.Since(r.StartedAt))
	r.Counts = Counts{}
	r.Passed = true
	for _, s := range r.Scenarios {
		s.Passed = s.Error == ""
		for _, st := range s.Steps {
			if st.ExchangeIDs == nil {
				st.ExchangeIDs = []int64{}
			}
			r.Counts.Steps++
			switch st.Status {
			case StatusPassed:
				r.Counts.StepsPassed++
			case StatusFailed:
				r.Counts.StepsFailed++
				s.Passed = false
			default:
				r.Counts.StepsSkipped++
			}
		}
		r.Counts.Scenarios++
		if s.Passed {
			r.Counts.ScenariosPassed++
		} else {
			r.Counts.ScenariosFailed++
			r.Passed = false
		}
	}
}

// Merge adds other's scenarios to r, for runs made in parts (the CLI
// runs files one by one to report progress); r keeps its run id.
func (r *Report) Merge(other *Report) {
	r.Scenarios = append(r.Scenarios, other.Scenarios...)
	start := r.StartedAt
	r.finish()
	r.StartedAt = start
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJUnit writes the report as JUnit XML: one testsuite per scenario,
// one testcase per step. A failed step's failure carries every failed
// expectation; a scenario that could not be set up gets a "setup"
// testcase with the error, so CI shows why nothing ran.
func (r *Report) WriteJUnit(w io.Writer) error {
	suites := junit.Testsuites{Name: "apsandbox run " + r.RunID, Time: seconds(r.DurationMS)}
	for i, s := range r.Scenarios {
		ts := junit.Testsuite{Name: s.Name, ID: i, Time: seconds(s.DurationMS), File: s.File, Package: "apsandbox.scenarios"}
		ts.SetTimestamp(r.StartedAt)
		ts.AddProperty("workspace", s.Workspace)
		ts.AddProperty("run_id", r.RunID)
		if s.Error != "" {
			ts.AddTestcase(junit.Testcase{Name: "setup", Classname: s.Name,
				Error: &junit.Result{Message: s.Error, Type: "error", Data: s.Error}})
		}
		for _, st := range s.Steps {
			tc := junit.Testcase{Name: st.Name, Classname: s.Name, Time: seconds(st.DurationMS), Status: st.Status}
			switch st.Status {
			case StatusFailed:
				msgs := make([]string, len(st.Failures))
				for i, f := range st.Failures {
					msgs[i] = f.Message
				}
				first := ""
				if len(msgs) > 0 {
					first = msgs[0]
				}
				tc.Failure = &junit.Result{Message: first, Type: "expectation", Data: strings.Join(msgs, "\n")}
			case StatusSkipped:
				tc.Skipped = &junit.Result{Message: "an earlier step failed"}
			}
			if len(st.ExchangeIDs) > 0 {
				tc.SystemOut = &junit.Output{Data: "exchanges: " + joinIDs(st.ExchangeIDs)}
			}
			ts.AddTestcase(tc)
		}
		suites.AddSuite(ts)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

// WriteText writes the report for a person: one line per step, the
// failures under their step with file:line:column, a summary last.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, s := range r.Scenarios {
		mark := "PASS"
		if !s.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s (%s, %s)\n", mark, s.Name, s.File, fmtMS(s.DurationMS))
		if s.Error != "" {
			fmt.Fprintf(&b, "    %s\n", s.Error)
		}
		for _, st := range s.Steps {
			sym := map[string]string{StatusPassed: "ok  ", StatusFailed: "FAIL", StatusSkipped: "skip"}[st.Status]
			fmt.Fprintf(&b, "  %s %s", sym, st.Name)
			if st.Status != StatusSkipped {
				fmt.Fprintf(&b, " (%s", fmtMS(st.DurationMS))
				if st.Repetitions > 1 {
					fmt.Fprintf(&b, ", %d×", st.Repetitions)
				}
				if len(st.ExchangeIDs) > 0 {
					fmt.Fprintf(&b, ", exchanges %s", joinIDs(st.ExchangeIDs))
				}
				b.WriteString(")")
			}
			b.WriteString("\n")
			for _, f := range st.Failures {
				fmt.Fprintf(&b, "      %s\n", f.Message)
			}
		}
	}
	c := r.Counts
	fmt.Fprintf(&b, "\n%d scenarios: %d passed, %d failed; %d steps: %d passed, %d failed, %d skipped (run %s, %s)\n",
		c.Scenarios, c.ScenariosPassed, c.ScenariosFailed, c.Steps, c.StepsPassed, c.StepsFailed, c.StepsSkipped, r.RunID, fmtMS(r.DurationMS))
	_, err := io.WriteString(w, b.String())
	return err
}

func joinIDs(ids []int64) string {
	const most = 10
	parts := make([]string, 0, min(len(ids), most))
	for i, id := range ids {
		if i == most {
			parts = append(parts, fmt.Sprintf("… (%d in all)", len(ids)))
			break
		}
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, ",")
}

func seconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

func fmtMS(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
}
