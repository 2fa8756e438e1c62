package journal

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get for an unknown exchange.
var ErrNotFound = errors.New("exchange not found")

// Record is one persisted entity of a workspace's world: a subscription,
// an order, a user… The journal stores it without knowing its type, so
// that the world can grow fields without a schema migration here.
type Record struct {
	Kind string
	ID   int64
	Data []byte
}

// Batch is one atomic write: a workspace's header, the world entities an
// operation changed, and the exchanges it made. Submitting a batch and
// waiting for it before answering the operator is what makes an
// acknowledged operation durable.
type Batch struct {
	Workspace string
	// CreatedAt is stored with the header when Meta is set.
	CreatedAt time.Time
	// Meta is the workspace's header (seed, clock, settings…); nil
	// leaves the stored one as it is.
	Meta []byte
	// Replace drops every stored record of the workspace before Records
	// are written: the world was created or regenerated.
	Replace bool
	// ClearExchanges forgets the workspace's exchanges (a reset).
	ClearExchanges bool
	// Delete forgets the workspace, its records and its exchanges; every
	// other field is ignored.
	Delete    bool
	Records   []Record
	Exchanges []*Exchange
	// Defer says that nobody waits for this batch: the store may hold it
	// up to DeferWindow so that it commits together with the batch that
	// follows. The platform defers an operation's transitional state,
	// which its outcome, a few milliseconds later, usually overwrites.
	Defer bool

	done chan struct{}
	err  error
}

// DeferWindow is the longest a deferred batch waits for company before it
// is committed alone. It bounds how long an operation's transitional
// state may stay undurable while its vendor call runs: a vendor slower
// than this (the case where a crash mid-call is likely) always finds the
// transitional state on disk.
const DeferWindow = 2 * time.Millisecond

// Wait blocks until the batch is committed and returns the commit's
// error. Exchange ids are assigned when Wait returns nil.
func (b *Batch) Wait() error {
	<-b.done
	return b.err
}

func (b *Batch) finish(err error) {
	b.err = err
	close(b.done)
}

func (b *Batch) prepare() {
	b.done = make(chan struct{})
}

// SavedWorkspace is a workspace as it was last committed.
type SavedWorkspace struct {
	Name      string
	CreatedAt time.Time
	Meta      []byte
	// Records are ordered by kind, then id.
	Records []Record
}

// Retention bounds how much of the journal is kept, so that a sandbox
// left running for weeks keeps flat memory and disk use.
type Retention struct {
	// MaxExchanges per workspace; the oldest go first. 0 keeps all.
	MaxExchanges int
	// MaxAge in wall-clock time. 0 keeps all.
	MaxAge time.Duration
}

// DefaultRetention keeps the last 100,000 exchanges of each workspace for
// 30 days: plenty for a debugging session, bounded for a demo box.
var DefaultRetention = Retention{MaxExchanges: 100_000, MaxAge: 30 * 24 * time.Hour}

// Store is the durable record behind the platform. Memory and SQLite
// implement it.
type Store interface {
	// Submit queues b for commit. Batches are committed in the order they
	// were submitted; call Wait on b for the result.
	Submit(b *Batch)
	List(ctx context.Context, ws string, f Filter) ([]Exchange, error)
	Get(ctx context.Context, ws string, id int64) (Exchange, error)
	// Load returns every saved workspace, by name.
	Load(ctx context.Context) ([]SavedWorkspace, error)
	// Retention is what the store keeps.
	Retention() Retention
	// Err reports a store that can no longer commit (a full disk…), for
	// readiness checks.
	Err() error
	Close() error
}

// Commit submits b and waits for it.
func Commit(s Store, b *Batch) error {
	s.Submit(b)
	return b.Wait()
}
