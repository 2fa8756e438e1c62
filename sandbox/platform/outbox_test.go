package platform

import (
	"context"
	"fmt"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// TestOutboxSlots: every kept mail is found in its slot, and a slot whose
// mail the cap dropped holds the newer mail that replaced it.
func TestOutboxSlots(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 9, 23} {
		ws := &workspace{outbox: outbox{cap: 4}}
		for range n {
			ws.notify(world.Mail{Operation: "x"})
		}
		ob := &ws.outbox
		if want := min(n, 4); len(ob.mails) != want {
			t.Fatalf("n=%d: kept %d mails, want %d", n, len(ob.mails), want)
		}
		for i, m := range ob.mails {
			if want := int64(n - len(ob.mails) + i + 1); m.ID != want {
				t.Errorf("n=%d: mail %d has id %d, want %d", n, i, m.ID, want)
			}
			got, ok := ob.bySlot(ob.slot(m.ID))
			if !ok || got.ID != m.ID {
				t.Errorf("n=%d: slot %d holds %v %v, want mail %d", n, ob.slot(m.ID), got, ok, m.ID)
			}
		}
		if n < 4 {
			for slot := int64(n + 1); slot <= 4; slot++ {
				if m, ok := ob.bySlot(slot); ok {
					t.Errorf("n=%d: empty slot %d holds mail %d", n, slot, m.ID)
				}
			}
		}
	}
}

// TestOutboxCapAcrossRestart: mails written under one cap come back under
// another as the newest that fit, and what is stored afterwards matches
// the live outbox after a second restart.
func TestOutboxCapAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mails := func(p *Platform) string {
		l, err := p.Outbox(ctx, DefaultWorkspace, OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range l {
			ids = append(ids, m.ID)
		}
		return fmt.Sprint(ids)
	}
	send := func(p *Platform, n int) {
		ws, err := p.lock(DefaultWorkspace)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			ws.notify(world.Mail{Operation: "x", Subject: "s"})
		}
		b := ws.batch()
		p.store.Submit(b)
		ws.mu.Unlock()
		if err := p.settle(ws, b); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		cap  int
		send int
		want string
	}{
		{cap: 5, send: 7, want: "[3 4 5 6 7]"},
		{cap: 3, send: 0, want: "[5 6 7]"},
		{cap: 3, send: 2, want: "[7 8 9]"},
		{cap: 10, send: 2, want: "[7 8 9 10 11]"},
		{cap: 10, send: 0, want: "[7 8 9 10 11]"},
	}
	for i, st := range steps {
		store := openStore(t, dir)
		p, err := New(Config{Seed: 1, OutboxCap: st.cap}, store)
		if err != nil {
			t.Fatal(err)
		}
		send(p, st.send)
		if got := mails(p); got != st.want {
			t.Errorf("step %d (cap %d): outbox %s, want %s", i, st.cap, got, st.want)
		}
		store.Close()
	}
}

// TestResetClearsOutbox: the outbox belongs to the world.
func TestResetClearsOutbox(t *testing.T) {
	ctx := context.Background()
	p, err := New(Config{Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := p.lock(DefaultWorkspace)
	ws.notify(world.Mail{Operation: "x"})
	ws.mu.Unlock()
	if _, err := p.ResetWorkspace(ctx, DefaultWorkspace); err != nil {
		t.Fatal(err)
	}
	if l, _ := p.Outbox(ctx, DefaultWorkspace, OutboxFilter{}); len(l) != 0 {
		t.Errorf("after reset the outbox holds %v", l)
	}
	ws, _ = p.lock(DefaultWorkspace)
	if m := ws.notify(world.Mail{Operation: "x"}); m.ID != 1 {
		t.Errorf("first mail after reset has id %d, want 1", m.ID)
	}
	ws.mu.Unlock()
}
