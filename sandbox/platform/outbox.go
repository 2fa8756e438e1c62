package platform

import (
	"context"
	"sort"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// DefaultOutboxCap is how many e-mails a workspace's outbox keeps: the
// newest ones. A sandbox left in manual mode with its clock running for
// simulated years sends a mail per operation; the cap keeps memory and
// the data directory bounded while any test still sees what it caused.
const DefaultOutboxCap = 10_000

// recMail is the persisted record kind of an outbox e-mail. Like every
// record kind its name is stored, so it never changes.
const recMail = "mail"

// outbox holds a workspace's e-mails, oldest first, with consecutive ids.
// It belongs to the world: a reset empties it.
//
// Mails are persisted in cap slots, mail id i in slot (i-1)%cap+1, so
// that a new mail overwrites the record of the one the cap dropped: the
// store never needs to delete a record and never holds more than cap.
type outbox struct {
	mails []world.Mail
	// cap is the most mails kept; 0 means DefaultOutboxCap.
	cap int
	// last is the id of the newest mail; 0 when none was sent.
	last int64
}

func (ob *outbox) limit() int64 {
	if ob.cap <= 0 {
		return DefaultOutboxCap
	}
	return int64(ob.cap)
}

// slot is the record id that holds mail id.
func (ob *outbox) slot(id int64) int64 { return (id-1)%ob.limit() + 1 }

// bySlot is the mail held in slot; false when the slot is empty.
func (ob *outbox) bySlot(slot int64) (*world.Mail, bool) {
	n := len(ob.mails)
	if n == 0 || slot < 1 || slot > ob.limit() {
		return nil, false
	}
	c := ob.limit()
	// The newest id at or below last that maps to slot.
	id := ob.last - (((ob.last-1)%c-(slot-1))%c+c)%c
	i := n - 1 - int(ob.last-id)
	if i < 0 {
		return nil, false
	}
	return &ob.mails[i], true
}

// clear empties the outbox, keeping its cap; ids start at 1 again.
func (ob *outbox) clear() {
	*ob = outbox{cap: ob.cap}
}

// trim drops the oldest mails beyond the cap.
func (ob *outbox) trim() {
	if over := len(ob.mails) - int(ob.limit()); over > 0 {
		clear(ob.mails[:over])
		ob.mails = ob.mails[over:]
	}
}

// restored orders the mails a store gave back and applies the cap, which
// may differ from the one they were written under. slots maps each mail's
// id to the record id it was read from. It reports whether the stored
// layout no longer matches the cap, so that the workspace is written again
// whole, dropping the records of slots the cap no longer has.
func (ob *outbox) restored(slots map[int64]int64) bool {
	sort.Slice(ob.mails, func(i, j int) bool { return ob.mails[i].ID < ob.mails[j].ID })
	stored := len(ob.mails)
	ob.trim()
	ob.last = 0
	if n := len(ob.mails); n > 0 {
		ob.last = ob.mails[n-1].ID
	}
	if stored != len(ob.mails) || len(slots) != stored {
		return true
	}
	for i, m := range ob.mails {
		if m.ID != ob.last-int64(len(ob.mails)-1-i) || slots[m.ID] != ob.slot(m.ID) {
			return true
		}
	}
	return false
}

// notify sends an e-mail: it goes into the workspace's outbox with the
// next id and the workspace clock, addressed to the integration's
// notification_email when m.To is empty. Call with ws.mu held; the mail is
// written with the workspace's next batch, like any change to the world.
// It returns the mail as stored.
func (ws *workspace) notify(m world.Mail) world.Mail {
	ob := &ws.outbox
	ob.last++
	m.ID = ob.last
	m.CreatedAt = ws.clock
	if m.To == "" {
		m.To = ws.settings.NotificationEmail
	}
	ob.mails = append(ob.mails, m)
	ob.trim()
	ws.touch(recMail, ob.slot(m.ID))
	return m
}

// OutboxFilter narrows the outbox list; zero fields match all.
type OutboxFilter struct {
	Operation      string
	SubscriptionID int64
	UserID         int64
	// AfterID: only mails with a larger id (paging).
	AfterID int64
	// Limit: at most this many; 0 means all.
	Limit int
}

// Outbox lists the e-mails of a workspace passing f, oldest first.
func (p *Platform) Outbox(_ context.Context, name string, f OutboxFilter) ([]world.Mail, error) {
	ws, err := p.lock(name)
	if err != nil {
		return nil, err
	}
	defer ws.mu.Unlock()
	mails := ws.outbox.mails
	i := sort.Search(len(mails), func(i int) bool { return mails[i].ID > f.AfterID })
	out := []world.Mail{}
	for ; i < len(mails); i++ {
		m := mails[i]
		if (f.Operation != "" && m.Operation != f.Operation) ||
			(f.SubscriptionID != 0 && m.SubscriptionID != f.SubscriptionID) ||
			(f.UserID != 0 && m.UserID != f.UserID) {
			continue
		}
		out = append(out, m)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}
