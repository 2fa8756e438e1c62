package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// stores runs f against every Store implementation.
func stores(t *testing.T, f func(t *testing.T, s Store)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) { f(t, NewMemory(Retention{})) })
	t.Run("sqlite", func(t *testing.T) {
		s, err := OpenSQLite(context.Background(), t.TempDir(), Retention{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
	t.Run("sqlite-memory", func(t *testing.T) {
		s, err := OpenSQLite(context.Background(), MemoryDir, Retention{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
}

func sample(i int) *Exchange {
	events := []string{"subscription.create", "subscription.renew", "check"}
	outcomes := []string{OutcomeOK, OutcomeRefused, OutcomeTimeout}
	x := &Exchange{
		Event:          events[i%3],
		SubscriptionID: int64(100 + i%2),
		OrderID:        int64(200 + i),
		Action:         []string{"order", "renew", "check"}[i%3],
		RunID:          []string{"", "run-1"}[i%2],
		Request: Request{
			Method: "POST", URL: fmt.Sprintf("http://v/api/x?i=%d", i), Path: "/api/x",
			Query: map[string]string{"i": fmt.Sprint(i)}, Headers: map[string]string{"Content-Type": "application/json"},
			Body: []byte(fmt.Sprintf(`{"i":%d}`, i)),
		},
		Outcome:     outcomes[i%3],
		StartedAt:   t0.Add(time.Duration(i) * time.Minute),
		VirtualTime: t0.Add(time.Duration(i) * 24 * time.Hour),
		DurationMS:  1.5,
	}
	if x.Outcome != OutcomeTimeout {
		x.Response = &Response{Status: []int{200, 422}[i%3], Headers: map[string]string{}, Body: "{}"}
	}
	return x
}

func fill(t *testing.T, s Store, ws string, n int) []*Exchange {
	t.Helper()
	var xs []*Exchange
	for i := range n {
		xs = append(xs, sample(i))
	}
	if err := Commit(s, &Batch{Workspace: ws, Exchanges: xs}); err != nil {
		t.Fatal(err)
	}
	return xs
}

func ids(xs []Exchange) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, x.ID)
	}
	return b.String()
}

func TestStoreFilters(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		xs := fill(t, s, "a", 9)
		fill(t, s, "b", 3) // another workspace's exchanges never show
		id := func(i int) int64 { return xs[i].ID }
		tests := []struct {
			name string
			f    Filter
			want []int
		}{
			{"all", Filter{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
			{"event", Filter{Event: "subscription.renew"}, []int{1, 4, 7}},
			{"subscription", Filter{SubscriptionID: 101}, []int{1, 3, 5, 7}},
			{"order", Filter{OrderID: 204}, []int{4}},
			{"outcome", Filter{Outcome: OutcomeRefused}, []int{1, 4, 7}},
			{"status", Filter{Status: 200}, []int{0, 3, 6}},
			{"no answer", Filter{Status: -1}, []int{2, 5, 8}},
			{"action", Filter{Action: "check"}, []int{2, 5, 8}},
			{"run", Filter{RunID: "run-1"}, []int{1, 3, 5, 7}},
			{"wall range", Filter{From: t0.Add(2 * time.Minute), To: t0.Add(4 * time.Minute)}, []int{2, 3}},
			{"virtual range", Filter{VirtualFrom: t0.Add(7 * 24 * time.Hour)}, []int{7, 8}},
			{"virtual to", Filter{VirtualTo: t0.Add(24 * time.Hour)}, []int{0}},
			{"after", Filter{AfterID: id(6)}, []int{7, 8}},
			{"until", Filter{UntilID: id(1)}, []int{0, 1}},
			{"limit", Filter{Limit: 2}, []int{0, 1}},
			{"combined", Filter{SubscriptionID: 100, Outcome: OutcomeOK, AfterID: id(0)}, []int{6}},
			// Bounds beyond what Unix nanoseconds hold still mean what
			// they say.
			{"far future to", Filter{To: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
			{"far past from", Filter{From: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), VirtualFrom: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
			{"far future from", Filter{From: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
			{"far past to", Filter{VirtualTo: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		}
		for _, tt := range tests {
			got, err := s.List(context.Background(), "a", tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var want []Exchange
			for _, i := range tt.want {
				want = append(want, Exchange{ID: id(i)})
			}
			if ids(got) != ids(want) {
				t.Errorf("%s: got ids %s, want %s", tt.name, ids(got), ids(want))
			}
		}
	})
}

func TestStoreGetAndRoundTrip(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		xs := fill(t, s, "a", 3)
		for _, x := range xs {
			got, err := s.Get(context.Background(), "a", x.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Request.URL != x.Request.URL || string(got.Request.Body) != string(x.Request.Body) ||
				!got.StartedAt.Equal(x.StartedAt) || got.Outcome != x.Outcome || (got.Response == nil) != (x.Response == nil) ||
				got.Workspace != "a" {
				t.Errorf("Get(%d) = %+v, want %+v", x.ID, got, *x)
			}
		}
		if _, err := s.Get(context.Background(), "b", xs[0].ID); err != ErrNotFound {
			t.Errorf("Get from another workspace: err = %v, want ErrNotFound", err)
		}
	})
}

func TestStoreClearAndDelete(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		fill(t, s, "a", 3)
		fill(t, s, "b", 2)
		if err := Commit(s, &Batch{Workspace: "a", ClearExchanges: true}); err != nil {
			t.Fatal(err)
		}
		if err := Commit(s, &Batch{Workspace: "b", Delete: true}); err != nil {
			t.Fatal(err)
		}
		for _, ws := range []string{"a", "b"} {
			got, _ := s.List(context.Background(), ws, Filter{})
			if len(got) != 0 {
				t.Errorf("workspace %s still has %d exchanges", ws, len(got))
			}
		}
	})
}

// TestSQLiteSurvivesReopen: what was committed is there after the store
// is closed and opened again on the same directory, records included.
func TestSQLiteSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, dir, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	b := &Batch{
		Workspace: "w", CreatedAt: t0, Meta: []byte(`{"seed":1}`), Replace: true,
		Records: []Record{{"subscription", 2, []byte(`{"id":2}`)}, {"order", 3, []byte(`{"id":3}`)}, {"subscription", 1, []byte(`{"id":1}`)}},
	}
	if err := Commit(s, b); err != nil {
		t.Fatal(err)
	}
	// An update replaces a record; Replace then drops the rest.
	if err := Commit(s, &Batch{Workspace: "w", Records: []Record{{"subscription", 2, []byte(`{"id":2,"x":1}`)}}}); err != nil {
		t.Fatal(err)
	}
	xs := fill(t, s, "w", 2)
	s.Close()

	s, err = OpenSQLite(ctx, dir, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	saved, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved) != 1 || saved[0].Name != "w" || string(saved[0].Meta) != `{"seed":1}` || !saved[0].CreatedAt.Equal(t0) {
		t.Fatalf("Load = %+v", saved)
	}
	var got []string
	for _, r := range saved[0].Records {
		got = append(got, fmt.Sprintf("%s/%d=%s", r.Kind, r.ID, r.Data))
	}
	want := `order/3={"id":3} subscription/1={"id":1} subscription/2={"id":2,"x":1}`
	if strings.Join(got, " ") != want {
		t.Errorf("records = %s, want %s", strings.Join(got, " "), want)
	}
	list, _ := s.List(ctx, "w", Filter{})
	if ids(list) != fmt.Sprintf("%d,%d", xs[0].ID, xs[1].ID) {
		t.Errorf("exchanges after reopen = %s", ids(list))
	}
	// New ids keep growing after a reopen: AUTOINCREMENT never reuses.
	more := fill(t, s, "w", 1)
	if more[0].ID <= xs[1].ID {
		t.Errorf("id after reopen = %d, want > %d", more[0].ID, xs[1].ID)
	}
}

// TestSQLiteGroupCommit: concurrent submitters all get distinct durable
// ids, and per-submitter order is kept.
func TestSQLiteGroupCommit(t *testing.T) {
	s, err := OpenSQLite(context.Background(), t.TempDir(), Retention{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(0)
			for i := range each {
				x := sample(i)
				if err := Commit(s, &Batch{Workspace: fmt.Sprint("w", w), Exchanges: []*Exchange{x}}); err != nil {
					errs <- err
					return
				}
				if x.ID <= last {
					errs <- fmt.Errorf("worker %d: id %d after %d", w, x.ID, last)
					return
				}
				last = x.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for w := range workers {
		got, _ := s.List(context.Background(), fmt.Sprint("w", w), Filter{})
		total += len(got)
	}
	if total != workers*each {
		t.Errorf("stored %d exchanges, want %d", total, workers*each)
	}
}

func TestRetention(t *testing.T) {
	now := t0.Add(20 * time.Minute)
	r := Retention{MaxExchanges: 4, MaxAge: 50 * time.Minute}
	check := func(t *testing.T, s Store, clock *time.Time, prune func()) {
		fill(t, s, "a", 9) // started t0 .. t0+8m: all younger than MaxAge
		fill(t, s, "b", 2)
		prune()
		got, _ := s.List(context.Background(), "a", Filter{})
		if len(got) != 4 || got[0].Request.URL != "http://v/api/x?i=5" {
			t.Errorf("after count retention: %d exchanges, first %v", len(got), got)
		}
		if got, _ := s.List(context.Background(), "b", Filter{}); len(got) != 2 {
			t.Errorf("workspace under the cap lost exchanges: %d left", len(got))
		}
		// Age counts from when an exchange entered the journal, not from
		// when its call was made: an imported recording from last year
		// stays until the age passes here.
		old := sample(0)
		old.StartedAt = t0.AddDate(-1, 0, 0)
		if err := Commit(s, &Batch{Workspace: "c", Exchanges: []*Exchange{old}}); err != nil {
			t.Fatal(err)
		}
		prune()
		if got, _ := s.List(context.Background(), "c", Filter{}); len(got) != 1 {
			t.Errorf("an exchange recorded just now was dropped for its start time: %v", ids(got))
		}
		*clock = clock.Add(40 * time.Minute)
		fresh := sample(1)
		if err := Commit(s, &Batch{Workspace: "c", Exchanges: []*Exchange{fresh}}); err != nil {
			t.Fatal(err)
		}
		*clock = clock.Add(20 * time.Minute) // old: 60m here, fresh: 20m
		prune()
		if got, _ := s.List(context.Background(), "c", Filter{}); len(got) != 1 || got[0].ID != fresh.ID {
			t.Errorf("after age retention: %v, want only %d", ids(got), fresh.ID)
		}
	}
	t.Run("memory", func(t *testing.T) {
		m := NewMemory(r)
		clock := now
		m.now = func() time.Time { return clock }
		// The memory store prunes as it commits; sweep by hand here
		// after moving the clock.
		check(t, m, &clock, func() { m.mu.Lock(); m.prune("c"); m.mu.Unlock() })
	})
	t.Run("sqlite", func(t *testing.T) {
		s, err := OpenSQLite(context.Background(), t.TempDir(), r)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		clock := now
		s.now = func() time.Time { return clock }
		check(t, s, &clock, s.Prune)
	})
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = OpenSQLite(context.Background(), dir, Retention{})
	if err == nil || !strings.Contains(err.Error(), "newer than this apsandbox") {
		t.Errorf("open newer schema: err = %v, want a refusal", err)
	}
}

func TestSQLiteClosedRefusesBatches(t *testing.T) {
	s, err := OpenSQLite(context.Background(), t.TempDir(), Retention{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := Commit(s, &Batch{Workspace: "a", Exchanges: []*Exchange{sample(0)}}); err == nil {
		t.Error("commit after Close succeeded")
	}
}

func TestSQLiteSettings(t *testing.T) {
	s, err := OpenSQLite(context.Background(), t.TempDir(), Retention{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2"} {
		var got string
		if err := s.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestSuperseded(t *testing.T) {
	rec := func(kind string, id int64) Record { return Record{Kind: kind, ID: id, Data: []byte("{}")} }
	tests := []struct {
		name  string
		group []*Batch
		want  map[int]map[int]bool
	}{
		{"nothing shared", []*Batch{
			{Workspace: "a", Records: []Record{rec("subscription", 1)}},
			{Workspace: "a", Records: []Record{rec("subscription", 2)}},
		}, map[int]map[int]bool{}},
		{"transitional state then outcome", []*Batch{
			{Workspace: "a", Records: []Record{rec("subscription", 1), rec("order", 7)}},
			{Workspace: "a", Records: []Record{rec("subscription", 2)}},
			{Workspace: "a", Records: []Record{rec("order", 7), rec("subscription", 1)}},
		}, map[int]map[int]bool{0: {0: true, 1: true}}},
		{"same ids in another workspace are not the same records", []*Batch{
			{Workspace: "a", Records: []Record{rec("subscription", 1)}},
			{Workspace: "b", Records: []Record{rec("subscription", 1)}},
		}, map[int]map[int]bool{}},
		{"a later reset wipes what came before", []*Batch{
			{Workspace: "a", Records: []Record{rec("subscription", 1)}},
			{Workspace: "b", Records: []Record{rec("subscription", 1)}},
			{Workspace: "a", Replace: true, Records: []Record{rec("plan", 3)}},
			{Workspace: "a", Records: []Record{rec("subscription", 1)}},
		}, map[int]map[int]bool{0: {0: true}}},
		{"a later delete wipes too", []*Batch{
			{Workspace: "a", Records: []Record{rec("subscription", 1), rec("order", 2)}},
			{Workspace: "a", Delete: true},
		}, map[int]map[int]bool{0: {0: true, 1: true}}},
	}
	for _, tt := range tests {
		if got := superseded(tt.group); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSQLiteGroupKeepsTheLastWrite: batches that rewrite the same record in
// one group leave the last version, however the writer groups them.
func TestSQLiteGroupKeepsTheLastWrite(t *testing.T) {
	s, err := OpenSQLite(context.Background(), t.TempDir(), Retention{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var bs []*Batch
	for i := range 50 {
		b := &Batch{Workspace: "w", Meta: []byte(`{}`), Defer: i%2 == 0,
			Records: []Record{{Kind: "subscription", ID: 1, Data: fmt.Appendf(nil, `{"v":%d}`, i)}}}
		s.Submit(b)
		bs = append(bs, b)
	}
	for _, b := range bs {
		if err := b.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	saved, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(saved) != 1 || len(saved[0].Records) != 1 || string(saved[0].Records[0].Data) != `{"v":49}` {
		t.Errorf("saved %+v, want the last version", saved)
	}
}

// TestSQLiteDeferredBatchCommitsAlone: a deferred batch nobody follows is
// committed within the defer window, not held until the next one.
func TestSQLiteDeferredBatchCommitsAlone(t *testing.T) {
	s, err := OpenSQLite(context.Background(), t.TempDir(), Retention{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := &Batch{Workspace: "w", Meta: []byte(`{}`), Defer: true, Records: []Record{{Kind: "subscription", ID: 1, Data: []byte(`{}`)}}}
	s.Submit(b)
	done := make(chan error, 1)
	go func() { done <- b.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a deferred batch with nothing after it was never committed")
	}
}

// TestSQLiteHeaderAfterDelete: the writer skips a header equal to the one
// it last committed; a deleted and recreated workspace must still get its
// header written.
func TestSQLiteHeaderAfterDelete(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSQLite(context.Background(), dir, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	meta := []byte(`{"seed":1}`)
	for _, b := range []*Batch{
		{Workspace: "w", Meta: meta},
		{Workspace: "w", Meta: meta},
		{Workspace: "w", Delete: true},
		{Workspace: "w", Meta: meta},
	} {
		if err := Commit(s, b); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = OpenSQLite(context.Background(), dir, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	saved, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(saved) != 1 || string(saved[0].Meta) != string(meta) {
		t.Errorf("after delete and recreate: %+v, want workspace w with its header", saved)
	}
}

// TestSQLiteOneProcessPerDirectory: a second store on a data directory in
// use is refused with a message saying so; once the first closes, the
// directory opens again.
func TestSQLiteOneProcessPerDirectory(t *testing.T) {
	dir := t.TempDir()
	first, err := OpenSQLite(context.Background(), dir, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLite(context.Background(), dir, Retention{}); err == nil || !strings.Contains(err.Error(), "in use by another apsandbox") {
		t.Errorf("second open of %s: %v, want it refused as in use", dir, err)
	}
	first.Close()
	again, err := OpenSQLite(context.Background(), dir, Retention{})
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	again.Close()
	// :memory: stores share nothing, so any number may be open.
	for range 2 {
		m, err := OpenSQLite(context.Background(), MemoryDir, Retention{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
	}
}

// TestMigrateFromV1: a data directory written by the first schema opens,
// keeps its exchanges, and counts their age for retention from their start
// (the best it knows of when they were recorded).
func TestMigrateFromV1(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations[0], `PRAGMA user_version = 1`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	x := sample(0)
	x.Workspace = "w"
	data, _ := json.Marshal(x)
	if _, err := db.Exec(`INSERT INTO exchanges (workspace, event, outcome, started_at, virtual_time, data) VALUES ('w', ?, ?, ?, 0, ?)`,
		x.Event, x.Outcome, x.StartedAt.UnixNano(), data); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := OpenSQLite(context.Background(), dir, Retention{MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	s.db.QueryRow(`PRAGMA user_version`).Scan(&v)
	if v != SchemaVersion {
		t.Errorf("schema version %d after opening, want %d", v, SchemaVersion)
	}
	got, err := s.List(context.Background(), "w", Filter{})
	if err != nil || len(got) != 1 || got[0].Event != x.Event {
		t.Fatalf("exchanges after migration: %v %v", got, err)
	}
	s.now = func() time.Time { return x.StartedAt.Add(30 * time.Minute) }
	s.Prune()
	if got, _ := s.List(context.Background(), "w", Filter{}); len(got) != 1 {
		t.Errorf("a 30-minute-old exchange was dropped by a 1-hour retention")
	}
	s.now = func() time.Time { return x.StartedAt.Add(2 * time.Hour) }
	s.Prune()
	if got, _ := s.List(context.Background(), "w", Filter{}); len(got) != 0 {
		t.Errorf("a 2-hour-old exchange survived a 1-hour retention")
	}
}
