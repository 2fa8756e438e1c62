package journal

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-memory journal. It keeps exchanges but not world state,
// so nothing survives the process. It is the store for throwaway test
// sandboxes and the yardstick the durable store is measured against.
type Memory struct {
	retention Retention
	now       func() time.Time

	mu     sync.RWMutex
	nextID int64
	byWS   map[string][]Exchange
	// recorded holds when each exchange of byWS entered the journal,
	// index for index: age retention counts from then.
	recorded map[string][]time.Time
}

// NewMemory returns an empty in-memory journal that keeps what r allows.
func NewMemory(r Retention) *Memory {
	return &Memory{retention: r, now: time.Now, byWS: map[string][]Exchange{}, recorded: map[string][]time.Time{}}
}

// Submit applies b at once; there is nothing to wait for.
func (m *Memory) Submit(b *Batch) {
	b.prepare()
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case b.Delete:
		delete(m.byWS, b.Workspace)
		delete(m.recorded, b.Workspace)
		b.finish(nil)
		return
	case b.ClearExchanges:
		delete(m.byWS, b.Workspace)
		delete(m.recorded, b.Workspace)
	}
	now := m.now()
	for _, x := range b.Exchanges {
		m.nextID++
		x.ID = m.nextID
		x.Workspace = b.Workspace
		m.byWS[b.Workspace] = append(m.byWS[b.Workspace], *x)
		m.recorded[b.Workspace] = append(m.recorded[b.Workspace], now)
	}
	if len(b.Exchanges) > 0 {
		m.prune(b.Workspace)
	}
	b.finish(nil)
}

// prune drops what the retention does not keep; m.mu is held.
func (m *Memory) prune(ws string) {
	xs, at := m.byWS[ws], m.recorded[ws]
	drop := 0
	if n := m.retention.MaxExchanges; n > 0 && len(xs) > n {
		drop = len(xs) - n
	}
	if age := m.retention.MaxAge; age > 0 {
		cut := m.now().Add(-age)
		for drop < len(xs) && at[drop].Before(cut) {
			drop++
		}
	}
	if drop > 0 {
		// Copy rather than reslice, so the dropped exchanges are freed.
		m.byWS[ws] = append([]Exchange(nil), xs[drop:]...)
		m.recorded[ws] = append([]time.Time(nil), at[drop:]...)
	}
}

// List returns the workspace's exchanges that pass f, oldest first.
func (m *Memory) List(_ context.Context, ws string, f Filter) ([]Exchange, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []Exchange{}
	for i := range m.byWS[ws] {
		x := &m.byWS[ws][i]
		if !f.Match(x) {
			continue
		}
		out = append(out, *x)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// Get returns one exchange of the workspace.
func (m *Memory) Get(_ context.Context, ws string, id int64) (Exchange, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, x := range m.byWS[ws] {
		if x.ID == id {
			return x, nil
		}
	}
	return Exchange{}, ErrNotFound
}

// Load has nothing to return: memory does not outlive the process.
func (m *Memory) Load(context.Context) ([]SavedWorkspace, error) { return nil, nil }

// Retention is what the store keeps.
func (m *Memory) Retention() Retention { return m.retention }

// Err is always nil: memory cannot fail to commit.
func (m *Memory) Err() error { return nil }

// Close does nothing.
func (m *Memory) Close() error { return nil }
