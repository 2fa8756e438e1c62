package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/scenarios"
)

func TestRunCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	failing := write("failing.yaml", "version: 1\nname: failing\nsteps:\n  - check: {}\n    expect: {result: {ready: false}}\n")
	bad := write("bad.yaml", "version: 1\nname: bad\nsteps:\n  - renw: {subscription: 1}\n  - stop: {}\n")
	builtins := len(scenarios.Library())
	faults := write("faults.yaml", "version: 1\nname: faults\nsetup:\n  vendor_faults: [{endpoint: check, status: 500}]\nsteps: [{check: {}}]\n")

	tests := []struct {
		name       string
		args       []string
		want       int
		wantOut    string
		wantErr    []string
		jsonReport bool
	}{
		{name: "built-ins pass", args: []string{"run", "all"}, want: exitOK, wantOut: fmt.Sprintf("%d scenarios: %d passed", builtins, builtins)},
		{name: "failed expectation", args: []string{"run", failing, "integration-check"}, want: exitFailure,
			wantOut: "failing.yaml:5:30: result.ready: expected false, got true", jsonReport: true},
		{name: "bad file lists every problem", args: []string{"run", bad}, want: exitUsage,
			wantErr: []string{"bad.yaml:4:5: steps[1].renw", `bad.yaml:5:11: steps[2].stop: missing required key "subscription"`}},
		{name: "validate runs nothing", args: []string{"run", "--validate", bad, "nope"}, want: exitUsage,
			wantErr: []string{"bad.yaml:4:5", `"nope" is neither a built-in scenario`}},
		{name: "validate good", args: []string{"run", "--validate", "all"}, want: exitOK, wantOut: fmt.Sprintf("%d scenarios are valid", builtins)},
		{name: "conformance of the example vendor", args: []string{"run", "conformance"}, want: exitOK, wantOut: "7 steps: 7 passed"},
		{name: "bad budget", args: []string{"run", "--budget", "0s", "conformance"}, want: exitUsage},
		{name: "no scenario", args: []string{"run"}, want: exitUsage},
		{name: "unknown tag", args: []string{"run", "--tag", "nope", "all"}, want: exitUsage},
		{name: "vendor faults without control", args: []string{"run", "--vendor", "http://127.0.0.1:1", faults}, want: exitUsage,
			wantErr: []string{"vendor_faults need the vendor's control API"}},
		{name: "list", args: []string{"scenarios"}, want: exitOK, wantOut: "subscription-lifecycle"},
		{name: "nothing ran", args: []string{"run", "--sandbox", "http://127.0.0.1:1", "integration-check"}, want: exitUsage,
			wantErr: []string{"no step ran"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			jsonFile, junitFile := filepath.Join(t.TempDir(), "r.json"), filepath.Join(t.TempDir(), "r.xml")
			if tt.jsonReport {
				args = append(args, "--json", jsonFile, "--junit", junitFile) // flags after the scenarios
			}
			var out, errb bytes.Buffer
			got := run(context.Background(), args, env(map[string]string{"CI": "true"}), &out, &errb)
			if got != tt.want {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", got, tt.want, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out.String())
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			if !tt.jsonReport {
				return
			}
			var rep struct {
				Passed    bool `json:"passed"`
				Scenarios []struct {
					Name string `json:"name"`
				} `json:"scenarios"`
			}
			if b, err := os.ReadFile(jsonFile); err != nil || json.Unmarshal(b, &rep) != nil || rep.Passed || len(rep.Scenarios) != 2 {
				t.Errorf("JSON report %+v (%v)", rep, err)
			}
			var suites struct {
				Suites []struct {
					Name string `xml:"name,attr"`
				} `xml:"testsuite"`
			}
			if b, err := os.ReadFile(junitFile); err != nil || xml.Unmarshal(b, &suites) != nil || len(suites.Suites) != 2 {
				t.Errorf("JUnit report %+v (%v)", suites, err)
			}
		})
	}
}

// TestConformanceJob is the README's vendor CI job: the conformance suite
// against the vendor's service, a JUnit report, exit 1 naming what broke.
// The vendor here is the example vendor with one defect: it refuses
// bodies with members it does not know.
func TestConformanceJob(t *testing.T) {
	example := examplevendor.New(examplevendor.Config{}).Handler()
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte("x_apsandbox_probe")) {
			http.Error(w, `{"task":{"error_message":"unknown field x_apsandbox_probe"}}`, http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		example.ServeHTTP(w, r)
	}))
	defer strict.Close()
	report := filepath.Join(t.TempDir(), "report.xml")
	var out, errb bytes.Buffer
	got := run(context.Background(), []string{"run", "conformance", "--vendor", strict.URL, "--junit", report}, env(map[string]string{"CI": "true"}), &out, &errb)
	if got != exitFailure {
		t.Fatalf("exit %d, want %d\n%s%s", got, exitFailure, out.String(), errb.String())
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Name != "conformance" {
		t.Fatalf("JUnit report %v: %s", err, raw)
	}
	var failed []string
	for _, c := range suites.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) != 1 || failed[0] != "unknown-fields" {
		t.Errorf("failed checks in the JUnit report: %v, want [unknown-fields]\n%s", failed, out.String())
	}
}

// TestMalformedScenarioSendsNothing: a scenario that does not parse is
// exit 2 with its line:column, and the vendor hears nothing.
func TestMalformedScenarioSendsNothing(t *testing.T) {
	var calls int
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer vendor.Close()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nname: bad\nsteps:\n  - check: {}\n  - order: {tenant_id: 1008, plan_id: nope}\n"), 0o644)
	var out, errb bytes.Buffer
	got := run(context.Background(), []string{"run", "--vendor", vendor.URL, "integration-check", bad}, env(map[string]string{"CI": "true"}), &out, &errb)
	if got != exitUsage || !strings.Contains(errb.String(), "bad.yaml:5:") {
		t.Errorf("exit %d, stderr %s; want 2 naming bad.yaml:5", got, errb.String())
	}
	if calls != 0 {
		t.Errorf("the vendor got %d calls from a run with a malformed scenario", calls)
	}
}
