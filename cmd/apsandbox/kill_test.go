package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

// TestMain lets the test binary play apsandbox itself: with
// APSANDBOX_TEST_MAIN=1 it runs main, so tests can start a real process
// and kill it without building a separate binary.
func TestMain(m *testing.M) {
	if os.Getenv("APSANDBOX_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// process is an `apsandbox serve` child process.
type process struct {
	cmd  *exec.Cmd
	base string
}

var listenRE = regexp.MustCompile(`msg="apsandbox listening" addr=(\S+)`)

func startServe(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "APSANDBOX_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		return &process{cmd: cmd, base: "http://" + a}
	case <-time.After(30 * time.Second):
		t.Fatal("apsandbox serve did not start listening")
		return nil
	}
}

type ack struct {
	kind         string
	subscription int64
	status       string
	externalID   string
	expiration   string
	exchangeIDs  []int64
}

func post(base, path string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, out, nil
}

func toAck(kind string, res map[string]any) ack {
	s := res["subscription"].(map[string]any)
	a := ack{kind: kind, subscription: int64(s["id"].(float64)), status: s["status"].(string)}
	a.externalID, _ = s["external_id"].(string)
	a.expiration, _ = s["expiration_date"].(string)
	for _, id := range res["exchange_ids"].([]any) {
		a.exchangeIDs = append(a.exchangeIDs, int64(id.(float64)))
	}
	return a
}

// TestKillDuringBurstLosesNothingAcknowledged: SIGKILL the sandbox while
// clients order and renew subscriptions as fast as they can; after a
// restart on the same data directory every acknowledged exchange is there
// and every subscription is as its last acknowledged operation left it.
func TestKillDuringBurstLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	v := examplevendor.New(examplevendor.Config{})
	vendor := httptest.NewServer(v.Handler())
	defer vendor.Close()
	dir := t.TempDir()
	p := startServe(t, "--data", dir, "--vendor", vendor.URL)

	const workers = 4
	const killAfter = 60
	var (
		mu     sync.Mutex
		acks   []ack
		killed = make(chan struct{})
		once   sync.Once
	)
	ws := "/api/v1/workspaces/default"
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-killed:
					return
				default:
				}
				// Tenant 1008 and plan 1037 exist in seed 1's world.
				code, res, err := post(p.base, ws+"/subscriptions", map[string]any{"tenant_id": 1008, "plan_id": 1037})
				if err != nil || code != http.StatusCreated {
					return // the process is gone
				}
				a := toAck("order", res)
				mu.Lock()
				acks = append(acks, a)
				n := len(acks)
				mu.Unlock()
				if n >= killAfter {
					once.Do(func() { p.cmd.Process.Kill(); close(killed) })
				}
				code, res, err = post(p.base, fmt.Sprintf("%s/subscriptions/%d/renew", ws, a.subscription), map[string]any{})
				if err != nil || code != http.StatusOK {
					return
				}
				mu.Lock()
				acks = append(acks, toAck("renew", res))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	p.cmd.Wait()
	if len(acks) < killAfter {
		t.Fatalf("only %d operations acknowledged before the kill", len(acks))
	}

	p2 := startServe(t, "--data", dir, "--vendor", vendor.URL)
	last := map[int64]ack{}
	for _, a := range acks {
		last[a.subscription] = a
		for _, id := range a.exchangeIDs {
			var x struct {
				Event          string `json:"event"`
				SubscriptionID int64  `json:"subscription_id"`
			}
			if code := getJSON(t, fmt.Sprintf("%s%s/exchanges/%d", p2.base, ws, id), &x); code != http.StatusOK {
				t.Errorf("acknowledged exchange %d (%s of %d) lost: %d", id, a.kind, a.subscription, code)
				continue
			}
			if x.SubscriptionID != a.subscription {
				t.Errorf("exchange %d is for subscription %d, want %d", id, x.SubscriptionID, a.subscription)
			}
		}
	}
	var subs struct {
		Items []struct {
			ID             int64  `json:"id"`
			Status         string `json:"status"`
			ExternalID     string `json:"external_id"`
			ExpirationDate string `json:"expiration_date"`
		} `json:"items"`
	}
	getJSON(t, p2.base+ws+"/subscriptions", &subs)
	got := map[int64]int{}
	for i, s := range subs.Items {
		got[s.ID] = i
		switch s.Status {
		case "installing", "renewing", "updating", "stopping", "activating", "deleting":
			t.Errorf("subscription %d restored in transitional status %s", s.ID, s.Status)
		}
	}
	for id, a := range last {
		i, ok := got[id]
		if !ok {
			t.Errorf("acknowledged subscription %d lost", id)
			continue
		}
		s := subs.Items[i]
		// The last acknowledged operation is the subscription's state,
		// unless a later one was in flight at the kill: then it may have
		// completed (renewed) or come back failed, never half done.
		if s.ExternalID != a.externalID {
			t.Errorf("subscription %d external_id %q, want %q", id, s.ExternalID, a.externalID)
		}
		if a.kind == "renew" && (s.Status != a.status || s.ExpirationDate != a.expiration) {
			t.Errorf("subscription %d after restart: %s until %s; acknowledged %s until %s", id, s.Status, s.ExpirationDate, a.status, a.expiration)
		}
		if a.kind == "order" && s.Status != a.status && s.Status != "renewing_failed" {
			t.Errorf("subscription %d after restart: %s; acknowledged %s", id, s.Status, a.status)
		}
	}
	t.Logf("%d operations acknowledged before SIGKILL, %d subscriptions checked", len(acks), len(last))
}

func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}
