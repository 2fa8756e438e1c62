package platform

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// opsPerSecond renews subscriptions as fast as workers goroutines can,
// each its own subscription (a subscription takes one operation at a
// time), for n renewals in all, against a local example vendor. Every
// renewal is the full path: the platform's rules, the transitional state
// committed, the vendor called over loopback HTTP, the answer and the
// exchange committed.
func opsPerSecond(b *testing.B, store journal.Store, vendorURL string, workers, n int) float64 {
	b.Helper()
	ctx := context.Background()
	// Enough idle connections for every worker, as a deployment's
	// client would keep.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	p, err := New(Config{Seed: 1, VendorURL: vendorURL, HTTPClient: client}, store)
	if err != nil {
		b.Fatal(err)
	}
	w, _ := p.World(ctx, DefaultWorkspace)
	plan := firstRenewable(w)
	subs := make([]int64, workers)
	for i := range subs {
		r, err := p.PlaceOrder(ctx, DefaultWorkspace, OrderRequest{TenantID: w.Tenants[0].ID, PlanID: plan.ID})
		if err != nil || r.Subscription.LastError != "" {
			b.Fatalf("order: %v %s", err, r.Subscription.LastError)
		}
		subs[i] = r.Subscription.ID
	}
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for _, id := range subs {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				r, err := p.Renew(ctx, DefaultWorkspace, id, RenewRequest{})
				if err != nil || r.Subscription.LastError != "" {
					b.Errorf("renew %d: %v %s", id, err, r.Subscription.LastError)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkJournalOverhead measures what durability costs at the platform,
// below the HTTP API: renewals per second with the durable journal
// (--data DIR: SQLite file, WAL, synchronous=FULL, every operation
// committed before it is acknowledged) against the same SQLite journal in
// memory (--data :memory:) and against the plain Go in-memory store that
// in-process test sandboxes use, in one run, with the same vendor.
//
// Metrics: durable/sqlite-memory-% is the cost of the disk alone;
// durable/go-memory-% the cost of the journal as a whole. Concurrent
// clients share fsyncs through group commit; a single client pays one
// fsync per operation, and that figure is reported too. The operator-API
// view of the same question is BenchmarkAPIJournalOverhead in sandbox.
func BenchmarkJournalOverhead(b *testing.B) {
	v := examplevendor.New(examplevendor.Config{})
	srv := httptest.NewServer(v.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		workers int
	}{{"clients-16", 16}, {"clients-1", 1}} {
		b.Run(tc.name, func(b *testing.B) {
			n := max(b.N, 200)
			open := func(dir string) journal.Store {
				s, err := journal.OpenSQLite(context.Background(), dir, journal.Retention{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				return s
			}
			plain := opsPerSecond(b, journal.NewMemory(journal.Retention{}), srv.URL, tc.workers, n)
			inMemory := opsPerSecond(b, open(journal.MemoryDir), srv.URL, tc.workers, n)
			durable := opsPerSecond(b, open(b.TempDir()), srv.URL, tc.workers, n)
			b.ReportMetric(durable, "durable-ops/s")
			b.ReportMetric(inMemory, "sqlite-memory-ops/s")
			b.ReportMetric(plain, "go-memory-ops/s")
			b.ReportMetric(100*durable/inMemory, "durable/sqlite-memory-%")
			b.ReportMetric(100*durable/plain, "durable/go-memory-%")
			b.ReportMetric(0, "ns/op")
		})
	}
}
