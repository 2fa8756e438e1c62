package platform

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

func openStore(t *testing.T, dir string) *journal.SQLite {
	t.Helper()
	s, err := journal.OpenSQLite(context.Background(), dir, journal.Retention{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// snapshot is everything a restart must bring back, as JSON.
func snapshot(t *testing.T, p *Platform) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	infos, err := p.Workspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		w, err := p.World(ctx, info.Name)
		if err != nil {
			t.Fatal(err)
		}
		set, _ := p.Integration(ctx, info.Name)
		xs, _ := p.Exchanges(ctx, info.Name, journal.Filter{})
		for i := range xs {
			// Stored exchanges lose the monotonic clock reading.
			xs[i].StartedAt = xs[i].StartedAt.Round(0)
		}
		info.CreatedAt = info.CreatedAt.Round(0)
		mails, _ := p.Outbox(ctx, info.Name, OutboxFilter{})
		for k, v := range map[string]any{"info": info, "world": w, "settings": set, "exchanges": xs, "outbox": mails} {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out[info.Name+"/"+k] = string(b)
		}
	}
	return out
}

func firstRenewable(w *world.World) world.Plan {
	for _, pl := range w.Plans {
		if pl.BillingType == world.BillingRecurring && pl.DefaultPeriod() != nil && !pl.DefaultPeriod().Endless && !pl.DefaultPeriod().Trial && len(pl.Resources) > 0 {
			return pl
		}
	}
	panic("no renewable plan")
}

// TestRestartRestoresEverything drives every kind of change through a
// platform on a SQLite store, reopens the store in a new platform, and
// wants the same workspaces, worlds, settings and journal, byte for byte.
func TestRestartRestoresEverything(t *testing.T) {
	ctx := context.Background()
	v := examplevendor.New(examplevendor.Config{})
	vendor := httptest.NewServer(v.Handler())
	defer vendor.Close()
	dir := t.TempDir()

	store := openStore(t, dir)
	p, err := New(Config{Seed: 1, VendorURL: vendor.URL}, store)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := p.World(ctx, DefaultWorkspace)
	plan := firstRenewable(w)
	res, err := p.PlaceOrder(ctx, DefaultWorkspace, OrderRequest{TenantID: w.Tenants[0].ID, PlanID: plan.ID})
	if err != nil || res.Subscription.Status != world.StatusActive {
		t.Fatalf("order: %v %+v", err, res.Subscription)
	}
	id := res.Subscription.ID
	steps := []func() error{
		func() error { _, err := p.Renew(ctx, DefaultWorkspace, id, RenewRequest{}); return err },
		func() error {
			r := plan.Resources[0]
			_, err := p.ChangeResources(ctx, DefaultWorkspace, id, map[string]int64{r.Key: max(r.Included, r.Min) + 1})
			return err
		},
		func() error { _, err := p.Stop(ctx, DefaultWorkspace, id); return err },
		func() error { _, err := p.Activate(ctx, DefaultWorkspace, id); return err },
		func() error {
			name, off := "renamed", false
			_, err := p.UpdateSubscription(ctx, DefaultWorkspace, id, SubscriptionPatch{Name: &name, AutoRenew: &off})
			return err
		},
		func() error {
			set := vendorapi.DefaultSettings(vendor.URL)
			set.Headers = map[string]string{"X-Token": "t"}
			set.TimeoutMS = 1234
			_, err := p.SetIntegration(ctx, DefaultWorkspace, set)
			return err
		},
		// A refusal: failed status, last_error and a failed order persist.
		func() error {
			return v.SetFault(examplevendor.Fault{Endpoint: "subscription/stop", Status: 422, Message: "not today"})
		},
		func() error { _, err := p.Stop(ctx, DefaultWorkspace, id); return err },
		func() error { _, err := p.CheckIntegration(ctx, DefaultWorkspace); return err },
		func() error {
			_, err := p.CreateWorkspace(ctx, CreateWorkspace{Name: "other", Seed: 7, VendorURL: vendor.URL, APGUID: "kept-across-restarts"})
			return err
		},
		func() error {
			ow, _ := p.World(ctx, "other")
			_, err := p.PlaceOrder(ctx, "other", OrderRequest{TenantID: ow.Tenants[1].ID, PlanID: firstRenewable(ow).ID})
			return err
		},
		func() error {
			_, err := p.CreateWorkspace(ctx, CreateWorkspace{Name: "gone", VendorURL: vendor.URL})
			return err
		},
		func() error { return p.DeleteWorkspace(ctx, "gone") },
		// Users: a new one attached, renamed, deactivated, its password
		// reset; a seeded one deleted without a call.
		func() error {
			r, err := p.CreateUser(ctx, DefaultWorkspace, CreateUserRequest{TenantID: w.Tenants[0].ID, Email: "kept@example.com", FirstName: "K", LastName: "Pt"})
			if err != nil {
				return err
			}
			last := "Kept"
			if _, err := p.UpdateUser(ctx, DefaultWorkspace, r.User.ID, UserPatch{LastName: &last}); err != nil {
				return err
			}
			if _, err := p.DeactivateUser(ctx, DefaultWorkspace, r.User.ID); err != nil {
				return err
			}
			_, err = p.ResetUserPassword(ctx, DefaultWorkspace, r.User.ID, "")
			return err
		},
		// The clock: its time, and what it did to the seeded world (graced,
		// failed calls, stop marks, notices) all persist.
		func() error {
			_, err := p.Advance(ctx, DefaultWorkspace, AdvanceRequest{By: "2mo"})
			return err
		},
		func() error {
			for _, u := range w.Users {
				if u.Role != world.RoleOwner {
					_, err := p.DeleteUser(ctx, DefaultWorkspace, u.ID)
					return err
				}
			}
			return nil
		},
		// Last, so no later step rewrites the subscription by chance.
		func() error {
			name := "renamed last"
			_, err := p.UpdateSubscription(ctx, DefaultWorkspace, id, SubscriptionPatch{Name: &name})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if s, _ := p.Subscription(ctx, DefaultWorkspace, id); s.Status != world.StatusStoppingFailed || s.LastError == "" {
		t.Fatalf("the refusal did not land: %+v", s)
	}
	before := snapshot(t, p)
	store.Close()

	store2 := openStore(t, dir)
	defer store2.Close()
	p2, err := New(Config{Seed: 1, VendorURL: vendor.URL}, store2)
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, p2)
	if len(after) != len(before) {
		t.Errorf("restored %d items, want %d", len(after), len(before))
	}
	for k, want := range before {
		if got := after[k]; got != want {
			t.Errorf("%s after restart:\n got %s\nwant %s", k, got, want)
		}
	}
	// The restored platform goes on where the old one stopped: ids do not
	// repeat.
	res2, err := p2.PlaceOrder(ctx, DefaultWorkspace, OrderRequest{TenantID: w.Tenants[0].ID, PlanID: plan.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Subscription.ID <= res.Order.ID {
		t.Errorf("new subscription id %d reuses an old id (last order %d)", res2.Subscription.ID, res.Order.ID)
	}
	// A workspace's own ap_guid survives the restart, and a reset after it.
	if info, err := p2.ResetWorkspace(ctx, "other"); err != nil || info.APGUID != "kept-across-restarts" {
		t.Errorf("reset after the restart: %v, ap_guid %q", err, info.APGUID)
	}
}

// TestRestartFailsInterruptedOperation: an operation whose vendor call
// was in flight when the process died comes back failed and retryable,
// not stuck in its transitional status.
func TestRestartFailsInterruptedOperation(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-release
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"late"}`)
	}))
	defer vendor.Close()
	defer close(release)
	dir := t.TempDir()
	store := openStore(t, dir)
	defer store.Close()
	p, err := New(Config{Seed: 1, VendorURL: vendor.URL}, store)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := p.World(ctx, DefaultWorkspace)
	go p.PlaceOrder(ctx, DefaultWorkspace, OrderRequest{TenantID: w.Tenants[0].ID, PlanID: firstRenewable(w).ID})
	id := w.NextID + 1
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := p.Subscription(ctx, DefaultWorkspace, id)
		if err == nil && s.Status == world.StatusInstalling {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription %d never became installing: %+v %v", id, s, err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The process dies while it is stuck in the call. The transitional
	// state was committed deferred (journal.DeferWindow), so it reaches
	// the disk while the call runs; the crash is the data directory as
	// it is then, copied for a new process to open.
	for !onDisk(t, dir, recSubscription, id) {
		if time.Now().After(deadline) {
			t.Fatalf("the in-flight order never reached the disk while its vendor call ran")
		}
		time.Sleep(time.Millisecond)
	}
	crashed := t.TempDir()
	for _, name := range []string{journal.FileName, journal.FileName + "-wal"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(crashed, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other := openStore(t, crashed)
	defer other.Close()
	p2, err := New(Config{Seed: 1}, other)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p2.Subscription(ctx, DefaultWorkspace, id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != world.StatusInstallationFailed || s.LastError == "" || !s.Ability.Retry {
		t.Errorf("interrupted order restored as %s (%q, retry %v), want installation_failed with a message and retry", s.Status, s.LastError, s.Ability.Retry)
	}
	orders, _ := p2.Orders(ctx, DefaultWorkspace, id)
	if len(orders) != 1 || orders[0].Status != world.OrderProvisioningFailed {
		t.Errorf("orders after restore: %+v", orders)
	}
}

// onDisk reports whether the data directory's database holds the record
// of the default workspace, reading it as another process would while
// the sandbox runs.
func onDisk(t *testing.T, dir, kind string, id int64) bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, journal.FileName)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM records WHERE workspace = ? AND kind = ? AND id = ?`, DefaultWorkspace, kind, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// failingStore makes the failIn-th batch submitted from now fail to
// commit, as a full disk would, by giving it an exchange that cannot be
// encoded.
type failingStore struct {
	*journal.SQLite
	failIn atomic.Int32
}

func (f *failingStore) Submit(b *journal.Batch) {
	if f.failIn.Add(-1) == 0 {
		b.Exchanges = append(b.Exchanges, &journal.Exchange{Event: "poison", Outcome: journal.OutcomeOK,
			Request: journal.Request{Body: json.RawMessage("{not json")}})
	}
	f.SQLite.Submit(b)
}

// TestFailedCommitIsWrittenLater: when the store cannot commit a batch,
// the operation fails, and what the batch carried is written with the
// workspace's next batch, so the disk catches up with the world in memory
// instead of silently differing until a restart shows it.
func TestFailedCommitIsWrittenLater(t *testing.T) {
	ctx := context.Background()
	v := examplevendor.New(examplevendor.Config{})
	vendor := httptest.NewServer(v.Handler())
	defer vendor.Close()
	name := func(s string) SubscriptionPatch { return SubscriptionPatch{Name: &s} }

	tests := []struct {
		name string
		// failIn is which of the operation's batches fails: an
		// operation's first is its transitional state, which nobody
		// waits for.
		failIn int32
		// failing runs the operation whose commit fails.
		failing func(p *Platform, w *world.World) error
	}{
		{"update", 1, func(p *Platform, w *world.World) error {
			_, err := p.UpdateSubscription(ctx, DefaultWorkspace, w.Subscriptions[0].ID, name("renamed while the disk was full"))
			return err
		}},
		{"order", 2, func(p *Platform, w *world.World) error {
			_, err := p.PlaceOrder(ctx, DefaultWorkspace, OrderRequest{TenantID: w.Tenants[0].ID, PlanID: firstRenewable(w).ID})
			return err
		}},
		{"reset", 0, func(p *Platform, w *world.World) error {
			// Something for the reset to undo, and an exchange for it
			// to forget.
			if _, err := p.PlaceOrder(ctx, DefaultWorkspace, OrderRequest{TenantID: w.Tenants[0].ID, PlanID: firstRenewable(w).ID}); err != nil {
				t.Fatal(err)
			}
			p.store.(*failingStore).failIn.Store(1)
			_, err := p.ResetWorkspace(ctx, DefaultWorkspace)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st := &failingStore{SQLite: openStore(t, dir)}
			p, err := New(Config{Seed: 1, VendorURL: vendor.URL}, st)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := p.World(ctx, DefaultWorkspace)
			st.failIn.Store(tt.failIn)
			if err := tt.failing(p, w); err == nil {
				t.Fatal("an operation whose commit failed was acknowledged")
			}
			// The next batch of the workspace, about something else.
			if _, err := p.UpdateSubscription(ctx, DefaultWorkspace, w.Subscriptions[1].ID, name("renamed after")); err != nil {
				t.Fatal(err)
			}
			want := snapshot(t, p)
			st.Close()
			st2 := openStore(t, dir)
			defer st2.Close()
			p2, err := New(Config{Seed: 1, VendorURL: vendor.URL}, st2)
			if err != nil {
				t.Fatal(err)
			}
			got := snapshot(t, p2)
			for k := range want {
				if got[k] != want[k] {
					t.Errorf("%s after restart differs from the live one:\n got %.400s\nwant %.400s", k, got[k], want[k])
				}
			}
		})
	}
}
