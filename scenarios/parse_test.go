package scenarios_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/scenarios"
)

// head is a valid scenario's start; cases append steps to it.
const head = "version: 1\nname: t\nsteps:\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// want are the problems as "line:column key: message substring",
		// in order; every problem of the file must be listed.
		want []string
	}{
		{"yaml syntax", head + "  - check: {}\n    expect: {status: [\n",
			[]string{"5:22 : sequence end token"}},
		{"empty file", "", []string{"1:1 : the file is empty"}},
		{"two documents", head + "  - check: {}\n---\nversion: 1\n", []string{"6:1 : one scenario per file"}},
		{"not a mapping", "- 1\n", []string{"1:1 : must be a mapping, got a list"}},
		{"missing required keys", "description: x\n", []string{
			`1:1 : missing required key "version"`, `1:1 : missing required key "name"`, `1:1 : missing required key "steps"`}},
		{"unknown top-level key", head + "  - check: {}\nextra: 1\n", []string{"5:1 extra: unknown key"}},
		{"wrong version", "version: 2\nname: t\nsteps: [{check: {}}]\n", []string{"1:10 version: only version 1 exists"}},
		{"version of the wrong type", "version: one\nname: t\nsteps: [{check: {}}]\n", []string{"1:10 version: must be an integer, got a string"}},
		{"bad name", "version: 1\nname: Big_Name\nsteps: [{check: {}}]\n", []string{`2:7 name: "Big_Name" must be lowercase`}},
		{"no steps", "version: 1\nname: t\nsteps: []\n", []string{"3:8 steps: a scenario needs at least one step"}},
		{"duplicate key", head + "  - check: {}\n    check: {}\n", []string{`5:5 : mapping key "check" already defined at [4:5]`}},
		{"unknown action", head + "  - renw: {subscription: 1}\n", []string{
			"4:5 steps[1].renw: neither an action", "4:5 steps[1]: the step has no action"}},
		{"two actions", head + "  - stop: {subscription: 1}\n    delete: {subscription: 1}\n", []string{
			"5:5 steps[1].delete: two actions in one step (stop and delete)"}},
		{"missing argument", head + "  - renew: {}\n", []string{`4:12 steps[1].renew: missing required key "subscription"`}},
		// Hostile files (POST …/scenario-runs takes them from anyone).
		{"alias bomb", "version: 1\nname: t\nvars:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + aliasLevels(8) + "steps: [{check: {}}]\n",
			[]string{"8:47 : the scenario holds more than 100000 values"}},
		{"deep flow nesting", "version: 1\nname: t\nvars: {a: " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}\nsteps: [{check: {}}]\n",
			[]string{"3:74 : collections nest more than 64 deep"}},
		{"deep block nesting", "version: 1\nname: t\nvars:\n" + blockNest(70) + "steps: [{check: {}}]\n",
			[]string{"66:127 : values nest more than 64 deep"}},
		{"too large", "version: 1\nname: t\n# " + strings.Repeat("x", 300<<10) + "\nsteps: [{check: {}}]\n",
			[]string{"1:1 : a scenario may be at most 262144"}},
		{"infinity", head + "  - advance: {by: 1d}\n    expect: {calls: .inf}\n", []string{"5:21 : infinity is not a value"}},
		{"empty error", head + "  - stop: {subscription: 1}\n    expect: {error: \"\"}\n", []string{"5:21 steps[1].expect.error: an empty error would match any error"}},
		{"answer expectations on a step that must fail", head + "  - stop: {subscription: 1}\n    expect: {error: not_found, status: active, result: {a: 1}}\n", []string{
			"5:40 steps[1].expect.status: does not apply when the step must fail", "5:56 steps[1].expect.result: does not apply when the step must fail"}},
		{"undefined variable in the setup", "version: 1\nname: t\nsetup:\n  integration: {notification_email: \"${nope}\"}\nsteps: [{check: {}}]\n",
			[]string{"4:37 setup.integration.notification_email: undefined variable ${nope}"}},
		{"unknown argument", head + "  - stop: {subscription: 1, force: true}\n", []string{"4:29 steps[1].stop.force: unknown key"}},
		{"argument of the wrong type", head + "  - order: {tenant_id: one, plan_id: 2.5}\n", []string{
			"4:24 steps[1].order.tenant_id: must be an integer, got a string", "4:38 steps[1].order.plan_id: must be an integer, got a number"}},
		{"negative quantity", head + "  - change_resources: {subscription: 1, resources: {users: -1}}\n", []string{
			"4:60 steps[1].change_resources.resources.users: a quantity must be a non-negative integer, got -1"}},
		{"check takes nothing", head + "  - check: {x: 1}\n", []string{"4:12 steps[1].check: check takes no arguments"}},
		{"advance needs one of by and to", head + "  - advance: {}\n", []string{"4:14 steps[1].advance: advance takes exactly one of by"}},
		{"bad time", head + "  - advance: {to: tomorrow}\n", []string{`4:19 steps[1].advance.to: must be an RFC 3339 time`}},
		{"undefined variable", head + "  - stop: {subscription: \"${sub}\"}\n", []string{"4:26 steps[1].stop.subscription: undefined variable ${sub}"}},
		{"variable captured later", head + "  - stop: {subscription: \"${sub}\"}\n  - order: {tenant_id: 1, plan_id: 2}\n    capture: {sub: subscription.id}\n",
			[]string{"4:26 steps[1].stop.subscription: undefined variable ${sub}"}},
		{"malformed reference", head + "  - create_user: {tenant_id: 1, email: \"a${}@b.c\", first_name: a, last_name: b}\n", []string{
			`4:40 steps[1].create_user.email: "${}" is not a variable reference`}},
		{"bad matcher key", head + "  - check: {}\n    expect: {result: {ready: {equals: true}}}\n", []string{
			`5:31 steps[1].expect.result.ready.equals: bad matcher "equals"`}},
		{"matcher as a list", head + "  - check: {}\n    expect: {result: {ready: [true]}}\n", []string{
			"5:30 steps[1].expect.result.ready: a matcher cannot be a list"}},
		{"bad regexp", head + "  - check: {}\n    expect: {result: {message: {matches: \"(\"}}}\n", []string{
			"5:42 steps[1].expect.result.message.matches: bad regular expression"}},
		{"unknown expectation", head + "  - check: {}\n    expect: {ready: true}\n", []string{"5:14 steps[1].expect.ready: unknown key"}},
		{"status of check", head + "  - check: {}\n    expect: {status: active}\n", []string{
			"5:22 steps[1].expect.status: does not apply to check"}},
		{"status after advance needs a subscription", head + "  - advance: {by: 1mo}\n    expect: {status: active}\n", []string{
			"5:22 steps[1].expect.status: after advance, name the subscription"}},
		{"bad error code", head + "  - stop: {subscription: 1}\n    expect: {error: {code: nope}}\n", []string{
			`5:28 steps[1].expect.error.code: "nope" is not an error code`}},
		{"bad event kind", head + "  - advance: {by: 1mo}\n    expect: {events: [{kind: renew}]}\n", []string{
			`5:30 steps[1].expect.events[0].kind: "renew" is not a clock event`}},
		{"calls of the wrong type", head + "  - check: {}\n    expect: {calls: two}\n", []string{"5:21 steps[1].expect.calls: must be an integer"}},
		{"concurrency above repeat", head + "  - check: {}\n    repeat: 2\n    concurrency: 3\n", []string{
			"6:18 steps[1].concurrency: concurrency 3 is more than repeat 2"}},
		{"unknown fault", head + "  - check: {}\n    faults: {slow: true}\n", []string{"5:14 steps[1].faults.slow: unknown key"}},
		{"api_path in setup", "version: 1\nname: t\nsetup:\n  integration: {api_path: http://x}\nsteps: [{check: {}}]\n", []string{
			"4:17 setup.integration.api_path: api_path is the vendor under test"}},
		{"unknown event route", "version: 1\nname: t\nsetup:\n  integration:\n    paths: {subscription.renw: /x}\nsteps: [{check: {}}]\n", []string{
			"5:13 setup.integration.paths.subscription.renw: not an event"}},
		{"unknown vendor endpoint", "version: 1\nname: t\nsetup:\n  vendor_faults: [{endpoint: nope, status: 500}]\nsteps: [{check: {}}]\n", []string{
			`4:30 setup.vendor_faults[0].endpoint: "nope" is not a vendor endpoint`}},
		{"capture of a built-in", head + "  - check: {}\n    capture: {run_id: url}\n", []string{
			`5:15 steps[1].capture.run_id: "run_id" is a built-in variable`}},
		{"every problem at once", head + "  - stop: {}\n  - renew: {subscription: x}\n", []string{
			`4:11 steps[1].stop: missing required key "subscription"`, "5:27 steps[2].renew.subscription: must be an integer, got a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenarios.Parse("t.yaml", []byte(tt.src))
			var errs scenarios.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want Errors", err)
			}
			var got []string
			for _, e := range errs {
				if e.Pos.File != "t.yaml" {
					t.Errorf("error %v names file %q", e, e.Pos.File)
				}
				got = append(got, e.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				pos, rest, _ := strings.Cut(w, " ")
				key, msg, _ := strings.Cut(rest, ": ")
				e := errs[i]
				if gotPos := strings.TrimPrefix(e.Pos.String(), "t.yaml:"); gotPos != pos || e.Key != key || !strings.Contains(e.Msg, msg) {
					t.Errorf("problem %d = %q\nwant at %s key %q containing %q", i, got[i], pos, key, msg)
				}
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	src := `version: 1
name: full
description: every part of the language
tags: [a, b]
setup:
  seed: 7
  integration:
    allow_usage_url: true
    paths: {subscription.renew: /subscription/update}
  vendor_faults:
    - {endpoint: subscription/renew, status: 422, message: no, times: 1}
vars: {tenant: 1008, plan: 1037}
steps:
  - name: order
    order: {tenant_id: "${tenant}", plan_id: "${plan}", resources: {user_licenses: 5}}
    capture: {sub: subscription.id}
    expect:
      status: {one_of: [active, provisioning]}
      error: null
      call:
        path: /subscription/create
        query: {ap_guid: "*"}
        body: {subscription.id: "${sub}", plan.sku: {exists: true}}
        answer: {status: 201, body: {id: {matches: "^vs-"}}}
      calls: 1
      within_ms: 5000
  - renew: {subscription: "${sub}"}
    faults: {timeout_ms: 500, duplicate: true, extra_fields: true, late: true}
    repeat: 3
    concurrency: 2
    expect: {status: renewing_failed, call: {answer: {status: {gte: 400}}}}
  - advance: {by: 1mo}
    expect: {subscription: "${sub}", status: active, events: [{kind: auto_renew, subscription: "${sub}", outcome: done}]}
  - check:
  - integration: {timeout_ms: 100}
`
	sc, err := scenarios.Parse("full.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "full" || len(sc.Steps) != 5 || !sc.UsesVendorFaults() || strings.Join(sc.Tags, ",") != "a,b" {
		t.Fatalf("parsed %+v", sc)
	}
	wantNames := []string{"order", "2 renew", "3 advance", "4 check", "5 integration"}
	for i, st := range sc.Steps {
		if st.Name != wantNames[i] {
			t.Errorf("step %d name %q, want %q", i+1, st.Name, wantNames[i])
		}
	}
	if p := sc.Steps[1].Pos; p.Line != 27 || p.Column != 5 {
		t.Errorf("renew step at %v, want line 27 column 5", p)
	}
}

func TestParseNeverPanics(t *testing.T) {
	for _, src := range []string{"\x00", "[", "{", ": :", "steps: *a", "a: &a [*a]", "version: 1\nname: t\nsteps: [1, [2], {order: 3}]\n",
		"version: 1\nname: t\nsteps:\n  - order: {<<: {tenant_id: 1}}\n", "? [a]\n: b\n", "version: !!int 1\n"} {
		scenarios.Parse("x.yaml", []byte(src)) // must return, not panic
	}
}

func TestValidateCollectsEveryFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.yaml", "version: 1\nname: dup\nsteps: [{check: {}}]\n")
	b := write("b.yaml", "version: 1\nname: dup\nsteps: [{check: {x: 1}}]\n")
	c := write("c.yaml", "version: 1\nname: dup\nsteps: [{check: {}}]\n")
	err := scenarios.Validate(a, b, c, dir+"/missing.yaml")
	var errs scenarios.Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("Validate = %v, want 3 problems", err)
	}
	text := err.Error()
	for _, want := range []string{"b.yaml:3:17: steps[1].check: check takes no arguments", "c.yaml:1:1: name: scenario \"dup\" is also defined in " + a, "missing.yaml:1:1:"} {
		if !strings.Contains(text, want) {
			t.Errorf("problems\n%s\ndo not contain %q", text, want)
		}
	}
	if err := scenarios.Validate("all"); err != nil {
		t.Errorf("the built-ins do not validate: %v", err)
	}
}

// aliasLevels makes levels l1..ln of a "billion laughs": each a list of
// ten aliases of the one before.
func aliasLevels(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		prev := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(prev+", ", 10), ", "))
	}
	return b.String()
}

// blockNest nests n block mappings under vars.
func blockNest(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat("  ", i), i)
	}
	fmt.Fprintf(&b, "%sv: 1\n", strings.Repeat("  ", n+1))
	return b.String()
}
