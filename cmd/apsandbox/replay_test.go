package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

// recordExport runs an order and a renewal through an in-process sandbox
// against vendorURL and returns the JSON Lines export of the journal.
func recordExport(t *testing.T, vendorURL string) []byte {
	t.Helper()
	s, err := sandbox.New(sandbox.Config{VendorURL: vendorURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	ws := srv.URL + "/api/v1/workspaces/default"
	// Tenant 1008 and plan 1037 exist in seed 1's world.
	code, res, err := post(srv.URL, "/api/v1/workspaces/default/subscriptions", map[string]any{"tenant_id": 1008, "plan_id": 1037})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("order: %d %v %v", code, res, err)
	}
	id := int64(res["subscription"].(map[string]any)["id"].(float64))
	if code, res, err := post(srv.URL, fmt.Sprintf("/api/v1/workspaces/default/subscriptions/%d/renew", id), map[string]any{}); err != nil || code != http.StatusOK {
		t.Fatalf("renew: %d %v %v", code, res, err)
	}
	resp, err := http.Get(ws + "/exchanges/export?format=jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Count(body, []byte("\n")) != 2 {
		t.Fatalf("export: %d\n%s", resp.StatusCode, body)
	}
	return body
}

// TestReplayCommand: `apsandbox replay` re-sends an export to a vendor
// and exits 0 when every answer matches, 1 naming the difference when
// one does not, and 2 on bad input without sending anything.
func TestReplayCommand(t *testing.T) {
	recordedVendor := examplevendor.New(examplevendor.Config{})
	a := httptest.NewServer(recordedVendor.Handler())
	defer a.Close()
	export := filepath.Join(t.TempDir(), "run.jsonl")
	if err := os.WriteFile(export, recordExport(t, a.URL), 0o644); err != nil {
		t.Fatal(err)
	}

	b := examplevendor.New(examplevendor.Config{})
	bSrv := httptest.NewServer(b.Handler())
	defer bSrv.Close()

	// The same service answers the same: exit 0.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"replay", "--from", export, "--vendor", bSrv.URL}, env(nil), &out, &errb); code != exitOK {
		t.Fatalf("replay against an equal vendor: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "2 equal, 0 changed, 0 failed of 2") {
		t.Errorf("report:\n%s", out.String())
	}

	// One answer changes: exit 1, the text names it, --json has it.
	if err := b.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "renewals are paused"}); err != nil {
		t.Fatal(err)
	}
	jsonFile := filepath.Join(t.TempDir(), "report.json")
	out.Reset()
	errb.Reset()
	code := run(context.Background(), []string{"replay", "--from", export, "--vendor", bSrv.URL, "--json", jsonFile, "--ignore", "/nothing"}, env(nil), &out, &errb)
	if code != exitFailure {
		t.Fatalf("replay against a changed vendor: exit %d, want %d\n%s", code, exitFailure, out.String())
	}
	for _, want := range []string{"changed  #2 subscription.renew", "200 → 422", `add     /task {"error_message":"renewals are paused"}`, "1 equal, 1 changed, 0 failed of 2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, out.String())
		}
	}
	var rep struct {
		Summary struct{ Total, Changed int }
		Ignore  []string
	}
	raw, err := os.ReadFile(jsonFile)
	if err != nil || json.Unmarshal(raw, &rep) != nil || rep.Summary.Total != 2 || rep.Summary.Changed != 1 || len(rep.Ignore) != 1 {
		t.Errorf("--json report: %v %s", err, raw)
	}

	// A vendor that is down: every item failed, exit 1, no hang.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	out.Reset()
	if code := run(context.Background(), []string{"replay", "--from", export, "--vendor", downURL}, env(nil), &out, io.Discard); code != exitFailure ||
		!strings.Contains(out.String(), "0 equal, 0 changed, 2 failed of 2") {
		t.Errorf("replay against a vendor that is down: exit %d\n%s", code, out.String())
	}

	// Bad input: exit 2, the flag or line named, nothing sent.
	broken := filepath.Join(t.TempDir(), "broken.jsonl")
	os.WriteFile(broken, []byte("{\"schema\":\"apsandbox.exchange/v1\",\"event\":1}\n"), 0o644)
	before := len(b.Requests())
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no file", []string{"replay", "--vendor", bSrv.URL}, "--from is required"},
		{"bad vendor", []string{"replay", "--from", export, "--vendor", "ftp://x"}, "--vendor"},
		{"bad ignore", []string{"replay", "--from", export, "--ignore", "id"}, "--ignore"},
		{"bad header", []string{"replay", "--from", export, "--header", "novalue"}, "--header"},
		{"missing file", []string{"replay", "--from", filepath.Join(t.TempDir(), "nope.jsonl")}, "no such file"},
		{"bad line", []string{"replay", "--from", broken, "--vendor", bSrv.URL}, "line 1"},
	} {
		var errb bytes.Buffer
		if code := run(context.Background(), tt.args, env(nil), io.Discard, &errb); code != exitUsage || !strings.Contains(errb.String(), tt.wantErr) {
			t.Errorf("%s: exit %d, stderr %q; want %d naming %q", tt.name, code, errb.String(), exitUsage, tt.wantErr)
		}
	}
	if after := len(b.Requests()); after != before {
		t.Errorf("bad input sent %d calls to the vendor", after-before)
	}
}
