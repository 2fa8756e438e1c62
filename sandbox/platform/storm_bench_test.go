package platform

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// stormWorld adds n active monthly subscriptions with auto-renew on, all
// expiring at the same moment, to the default workspace, and returns the
// moment their renewals fall due.
func stormWorld(tb testing.TB, p *Platform, n int) time.Time {
	tb.Helper()
	ws, err := p.lock(DefaultWorkspace)
	if err != nil {
		tb.Fatal(err)
	}
	w := ws.world
	plan := firstRenewable(w)
	period := plan.DefaultPeriod()
	term, _ := w.ServiceTerm(plan.ServiceTermID)
	exp := ws.clock.AddDate(0, 0, 20)
	res := map[string]int64{}
	for _, r := range plan.Resources {
		res[r.Key] = max(r.Included, r.Min)
	}
	tenant := w.Tenants[0]
	for i := range n {
		e := exp
		s := world.Subscription{
			ID: w.NewID(), Name: fmt.Sprintf("storm %d", i), TenantID: tenant.ID, ResellerID: tenant.ResellerID,
			PlanID: plan.ID, PeriodID: period.ID, Status: world.StatusActive, AutoRenew: true,
			ExternalID: fmt.Sprintf("storm-%d", i), StartDate: ws.clock, ExpirationDate: &e,
			Resources: cloneMap(res), Attributes: map[string]string{}, OrderAttributes: map[string]string{},
			CreatedAt: ws.clock, UpdatedAt: ws.clock,
		}
		s.Ability = w.Ability(&s)
		w.Subscriptions = append(w.Subscriptions, s)
	}
	// No notices in the way: the storm is the renewals.
	ws.settings.BillingNoticeDays = -1
	ws.settings.DispatchConcurrency = 32
	b := ws.fullBatch()
	p.store.Submit(b)
	ws.mu.Unlock()
	if err := b.Wait(); err != nil {
		tb.Fatal(err)
	}
	return exp.AddDate(0, 0, -term.AutoRenewPoint)
}

// BenchmarkRenewalStorm is issue 5's renewal storm: a world of 10,000
// subscriptions whose renewals all fall due in one clock advance, with
// every exchange recorded in the durable journal (SQLite file, WAL,
// synchronous=FULL). It reports the renewals delivered per second to a
// local vendor (target: 2,000 on the 2-core CI machine) and the peak heap
// while the advance runs.
func BenchmarkRenewalStorm(b *testing.B) {
	const n = 10_000
	var calls atomic.Int64
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	}))
	defer vendor.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var events int
	var elapsed time.Duration
	var peak uint64
	for range b.N {
		b.StopTimer()
		store, err := journal.OpenSQLite(context.Background(), b.TempDir(), journal.Retention{})
		if err != nil {
			b.Fatal(err)
		}
		p, err := New(Config{Seed: 1, VendorURL: vendor.URL, HTTPClient: client}, store)
		if err != nil {
			b.Fatal(err)
		}
		due := stormWorld(b, p, n)
		runtime.GC()
		base := heapBytes()
		stop := make(chan struct{})
		peaked := make(chan uint64)
		go func() { peaked <- samplePeak(stop) }()
		calls.Store(0)
		b.StartTimer()
		start := time.Now()
		res, err := p.Advance(context.Background(), DefaultWorkspace, AdvanceRequest{To: &due})
		elapsed += time.Since(start)
		b.StopTimer()
		close(stop)
		if pk := <-peaked; pk > base && pk-base > peak {
			peak = pk - base
		}
		if err != nil {
			b.Fatal(err)
		}
		renewed := 0
		for _, ev := range res.Events {
			if ev.Kind == EventAutoRenew && ev.Outcome == OutcomeDone {
				renewed++
			}
		}
		if res.EventsTotal < n || calls.Load() < n {
			b.Fatalf("the storm fired %d events and %d calls, want at least %d (first listed: %d renewed)", res.EventsTotal, calls.Load(), n, renewed)
		}
		events += int(calls.Load())
		store.Close()
	}
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(0, "ns/op")
}

// heapBytes is the heap in use by live and not yet swept objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// samplePeak samples the heap every few milliseconds until stop closes,
// without stopping the world as runtime.ReadMemStats would.
func samplePeak(stop <-chan struct{}) uint64 {
	var peak uint64
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if h := heapBytes(); h > peak {
			peak = h
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}
