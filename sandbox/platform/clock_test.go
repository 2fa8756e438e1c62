package platform

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestAddSpan(t *testing.T) {
	at := time.Date(2026, time.January, 31, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		span    string
		want    time.Time
		wantErr string
	}{
		{"36h", at.Add(36 * time.Hour), ""},
		{"7d", at.AddDate(0, 0, 7), ""},
		{"2w", at.AddDate(0, 0, 14), ""},
		{"1mo", at.AddDate(0, 1, 0), ""},
		{"1y2mo3d4h5m6s", at.AddDate(1, 2, 3).Add(4*time.Hour + 5*time.Minute + 6*time.Second), ""},
		{"13mo", at.AddDate(0, 13, 0), ""},
		{"", at, "empty"},
		{"0d", at, "more than zero"},
		{"3x", at, "such as"},
		{"7d ", at, "such as"},
		{"d7", at, "such as"},
		{"-1d", at, "such as"},
		{"999999999999999999999h", at, "too large"},
		// Parts that each fit but whose sum would wrap a Duration.
		{strings.Repeat("100000h", 30), at, "50 years"},
	}
	for _, tt := range tests {
		t.Run(tt.span, func(t *testing.T) {
			got, err := addSpan(at, tt.span)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("addSpan(%q) = %s, %v; want an error saying %q", tt.span, got, err, tt.wantErr)
				}
			case err != nil || !got.Equal(tt.want):
				t.Errorf("addSpan(%q) = %s, %v; want %s", tt.span, got, err, tt.want)
			}
		})
	}
}

// TestResetAbortsAdvance: a reset during an advance stops it. Calls still
// queued behind the rate limit are not made for the world that is gone,
// the advance answers at once instead of waiting out the limit, and the
// reset world is the seed's, untouched by the old advance.
func TestResetAbortsAdvance(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int64
	first := make(chan struct{}, 1)
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		calls.Add(1)
		select {
		case first <- struct{}{}:
		default:
		}
		io.WriteString(w, "{}")
	}))
	defer vendor.Close()
	p, err := New(Config{Seed: 1, VendorURL: vendor.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	due := stormWorld(t, p, 5)
	ws, _ := p.lock(DefaultWorkspace)
	// One call every 10 s: without the abort the advance would take 40 s.
	ws.settings.DispatchRate = 0.1
	ws.settings.DispatchConcurrency = 1
	ws.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		_, err := p.Advance(ctx, DefaultWorkspace, AdvanceRequest{To: &due})
		done <- err
	}()
	<-first
	if _, err := p.ResetWorkspace(ctx, DefaultWorkspace); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "reset") {
			t.Errorf("the advance ended with %v, want an error saying the workspace was reset", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the advance still waits for its rate limit after the reset")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls reached the vendor, want only the one made before the reset", n)
	}
	fresh, err := New(Config{Seed: 1, VendorURL: vendor.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := p.World(ctx, DefaultWorkspace)
	want, _ := fresh.World(ctx, DefaultWorkspace)
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Error("the reset world is not the seed's: the aborted advance changed it")
	}
	if c, _ := p.Clock(ctx, DefaultWorkspace); c.Advancing || !c.Now.Equal(DefaultEpoch) {
		t.Errorf("clock after the reset: %+v", c)
	}
}
