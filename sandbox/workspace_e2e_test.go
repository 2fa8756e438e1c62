package sandbox_test

import (
	"net/http"
	"strconv"
	"testing"
)

// TestWorkspaceAPGUID: a workspace created with its own ap_guid sends it
// to the vendor, keeps the seed's world otherwise, and keeps it on reset;
// a malformed one is refused.
func TestWorkspaceAPGUID(t *testing.T) {
	e := newEnv(t, 1)
	const guid = "3f6c1a52-0d4e-4b8e-9a51-6c2f0e7b9d10"
	var info struct {
		APGUID string `json:"ap_guid"`
	}
	if code := e.do("POST", "/api/v1/workspaces", map[string]any{"name": "qa", "vendor_url": e.vendorURL, "ap_guid": guid}, &info); code != http.StatusCreated || info.APGUID != guid {
		t.Fatalf("create: %d %+v", code, info)
	}
	var seeded struct {
		APGUID string `json:"ap_guid"`
	}
	e.do("GET", e.ws(""), nil, &seeded)
	var x struct {
		Request struct {
			Query map[string]string `json:"query"`
		} `json:"request"`
	}
	var check struct {
		ExchangeID int64 `json:"exchange_id"`
	}
	e.do("POST", "/api/v1/workspaces/qa/integration/check", nil, &check)
	e.do("GET", "/api/v1/workspaces/qa/exchanges/"+strconv.FormatInt(check.ExchangeID, 10), nil, &x)
	if got := x.Request.Query["ap_guid"]; got != guid {
		t.Errorf("the vendor got ap_guid %q, want %q", got, guid)
	}
	// The world is the seed's: the same as the default workspace's but for the id.
	_, qa := e.raw("GET", "/api/v1/workspaces/qa/world")
	_, def := e.raw("GET", e.ws("/world"))
	if len(qa) != len(def)-len(seeded.APGUID)+len(guid) {
		t.Errorf("the world of seed 1 with its own ap_guid differs in more than the id (%d vs %d bytes)", len(qa), len(def))
	}
	if code := e.do("POST", "/api/v1/workspaces/qa/reset", nil, &info); code != 200 || info.APGUID != guid {
		t.Errorf("after a reset: %d %+v", code, info)
	}
	for _, bad := range []string{"has space", "", "a/b"} {
		body := map[string]any{"name": "bad", "ap_guid": bad}
		if code := e.do("POST", "/api/v1/workspaces", body, nil); code != http.StatusBadRequest {
			t.Errorf("ap_guid %q: %d, want 400", bad, code)
		}
	}
}
