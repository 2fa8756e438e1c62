package platform

import (
	"sync"
	"time"
)

// dispatcher runs a workspace's time-driven vendor calls: at most n at
// once, and no more than rate per second when rate > 0. Its queue has no
// bound, so submitting never blocks (the clock submits while holding the
// workspace lock, and the calls need that lock to land) and nothing is
// dropped; the clock bounds the queue itself by waiting for each instant.
type dispatcher struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []func()
	closed bool
	wg     sync.WaitGroup

	// interval between call starts; zero when unbounded.
	interval time.Duration
	// abort ends waits for a slot: the workspace was reset or deleted,
	// and the jobs left only record that.
	abort    <-chan struct{}
	rmu      sync.Mutex
	nextSlot time.Time
}

func newDispatcher(n int, rate float64, abort <-chan struct{}) *dispatcher {
	d := &dispatcher{abort: abort}
	d.cond = sync.NewCond(&d.mu)
	if rate > 0 {
		d.interval = time.Duration(float64(time.Second) / rate)
	}
	d.wg.Add(n)
	for range n {
		go d.work()
	}
	return d
}

// submit queues a job.
func (d *dispatcher) submit(job func()) {
	d.mu.Lock()
	d.queue = append(d.queue, job)
	d.mu.Unlock()
	d.cond.Signal()
}

func (d *dispatcher) work() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.cond.Wait()
		}
		if len(d.queue) == 0 {
			d.mu.Unlock()
			return
		}
		job := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		d.pace()
		job()
	}
}

// pace waits for this call's slot under the rate limit.
func (d *dispatcher) pace() {
	if d.interval == 0 {
		return
	}
	d.rmu.Lock()
	now := time.Now()
	slot := d.nextSlot
	if slot.Before(now) {
		slot = now
	}
	d.nextSlot = slot.Add(d.interval)
	d.rmu.Unlock()
	if wait := time.Until(slot); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-d.abort:
		}
	}
}

// close lets the workers finish the queue and waits for them.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cond.Broadcast()
	d.wg.Wait()
}
