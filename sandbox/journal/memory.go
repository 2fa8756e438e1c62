package journal

import (
	"context"
	"fmt"
	"sync"
)

// ErrNotFound is returned by Get for an unknown exchange.
var ErrNotFound = fmt.Errorf("exchange not found")

// Memory is an in-memory journal. It is the store for throwaway runs and
// the yardstick the durable store is measured against.
type Memory struct {
	mu     sync.RWMutex
	nextID int64
	byWS   map[string][]Exchange
}

// NewMemory returns an empty in-memory journal.
func NewMemory() *Memory { return &Memory{byWS: map[string][]Exchange{}} }

// Append stores x, assigning its ID.
func (m *Memory) Append(_ context.Context, x *Exchange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	x.ID = m.nextID
	m.byWS[x.Workspace] = append(m.byWS[x.Workspace], *x)
	return nil
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

// DeleteWorkspace forgets every exchange of the workspace.
func (m *Memory) DeleteWorkspace(_ context.Context, ws string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byWS, ws)
	return nil
}
