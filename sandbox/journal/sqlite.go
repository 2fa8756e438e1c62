package journal

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go driver: works in a scratch image
)

// memdbSeq names in-memory databases, so that two stores in one process
// (tests) never share one.
var memdbSeq atomic.Int64

// MemoryDir is the --data value for a database that lives only as long as
// the process.
const MemoryDir = ":memory:"

// FileName is the database file inside the data directory.
const FileName = "apsandbox.db"

// maxGroup caps how many batches one transaction commits.
const maxGroup = 256

// pruneEvery is how many committed exchanges pass between retention
// sweeps; a sweep also runs at least once a minute.
const pruneEvery = 1000

// SQLite is the durable journal: one SQLite file in WAL mode with
// synchronous=FULL, so a committed batch survives a crash or power loss.
// One goroutine writes; it commits every batch waiting in the queue in one
// transaction (group commit), so concurrent operations share an fsync
// instead of queueing for one each.
type SQLite struct {
	db        *sql.DB
	w         *writeConn
	unlock    func() error
	retention Retention
	now       func() time.Time

	queue chan *Batch
	stop  chan struct{}
	done  chan struct{}

	errMu sync.Mutex
	err   error

	// closeMu orders Submit against Close: a batch is either queued
	// before the writer drains the queue for the last time, or refused.
	closeMu sync.RWMutex
	closed  bool
}

// OpenSQLite opens (creating and migrating as needed) the journal in dir,
// or an in-memory one when dir is MemoryDir.
func OpenSQLite(ctx context.Context, dir string, r Retention) (*SQLite, error) {
	dsn, err := dataSource(dir)
	if err != nil {
		return nil, err
	}
	unlock := func() error { return nil }
	if dir != MemoryDir {
		if unlock, err = lockDir(dir); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	// WAL lets readers run beside the writer, which keeps a
	// connection of its own.
	db.SetMaxOpenConns(4)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		unlock()
		return nil, err
	}
	w, err := openWriteConn(ctx, db)
	if err != nil {
		db.Close()
		unlock()
		return nil, err
	}
	s := &SQLite{
		db:        db,
		w:         w,
		unlock:    unlock,
		retention: r,
		now:       time.Now,
		queue:     make(chan *Batch, 4*maxGroup),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	go s.writer()
	return s, nil
}

func dataSource(dir string) (string, error) {
	pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	if dir == MemoryDir {
		// A plain ":memory:" is a new database on every connection;
		// the memdb VFS shares one, under a name unique to this store,
		// between the writer's connection and the readers'.
		return fmt.Sprintf("file:/apsandbox-%d?vfs=memdb&", memdbSeq.Add(1)) + pragmas, nil
	}
	if dir == "" {
		return "", errors.New("data directory: empty; use a path or :memory:")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	return "file:" + path + "?" + pragmas + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)", nil
}

// Submit queues b; the writer commits it in submission order.
func (s *SQLite) Submit(b *Batch) {
	b.prepare()
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		b.finish(errors.New("journal is closed"))
		return
	}
	s.queue <- b
}

// writer commits queued batches until Close, grouping what is waiting.
func (s *SQLite) writer() {
	defer close(s.done)
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	sincePrune := 0
	group := make([]*Batch, 0, maxGroup)
	for {
		var first *Batch
		select {
		case first = <-s.queue:
		case <-tick.C:
			s.prune()
			continue
		case <-s.stop:
			// Commit what was queued before Close.
			for {
				select {
				case b := <-s.queue:
					s.commitGroup([]*Batch{b})
				default:
					return
				}
			}
		}
		group = s.fill(append(group[:0], first))
		sincePrune += s.commitGroup(group)
		if sincePrune >= pruneEvery {
			sincePrune = 0
			s.prune()
		}
	}
}

// fill adds what is waiting in the queue to group. A group of deferrable
// batches only is held up to DeferWindow for a batch someone waits for,
// so that an operation's transitional state and its outcome usually
// share one commit and one fsync.
func (s *SQLite) fill(group []*Batch) []*Batch {
	var deadline <-chan time.Time
	for len(group) < maxGroup {
		select {
		case b := <-s.queue:
			group = append(group, b)
			continue
		default:
		}
		if !allDeferred(group) {
			return group
		}
		if deadline == nil {
			t := time.NewTimer(DeferWindow)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case b := <-s.queue:
			group = append(group, b)
		case <-deadline:
			return group
		case <-s.stop:
			return group
		}
	}
	return group
}

func allDeferred(group []*Batch) bool {
	for _, b := range group {
		if !b.Defer {
			return false
		}
	}
	return true
}

// commitGroup commits the batches in one transaction. If that fails, each
// is retried alone so one bad batch cannot fail its neighbours. It
// returns the number of exchanges written.
func (s *SQLite) commitGroup(group []*Batch) int {
	n, err := s.commit(group)
	if err == nil {
		for _, b := range group {
			b.finish(nil)
		}
		return n
	}
	if len(group) == 1 {
		s.fail(err)
		group[0].finish(err)
		return 0
	}
	total := 0
	for _, b := range group {
		total += s.commitGroup([]*Batch{b})
	}
	return total
}

func (s *SQLite) fail(err error) {
	s.errMu.Lock()
	s.err = err
	s.errMu.Unlock()
}

// Retention is what the store keeps.
func (s *SQLite) Retention() Retention { return s.retention }

// Err is the last commit failure, nil while commits succeed.
func (s *SQLite) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *SQLite) commit(group []*Batch) (int, error) {
	ctx := context.Background()
	w := s.w
	recordedAt := nanos(s.now())
	if _, err := w.begin.ExecContext(ctx); err != nil {
		return 0, fmt.Errorf("journal: begin: %w", err)
	}
	ids := make([][]int64, len(group))
	n := 0
	// Headers this group writes; they become w.savedMeta once durable.
	metas := map[string][]byte{}
	skip := superseded(group)
	for i, b := range group {
		var err error
		if ids[i], err = w.apply(ctx, b, metas, skip[i], recordedAt); err != nil {
			w.rollback.ExecContext(ctx)
			return 0, fmt.Errorf("journal: workspace %q: %w", b.Workspace, err)
		}
		n += len(b.Exchanges)
	}
	if _, err := w.commit.ExecContext(ctx); err != nil {
		// A failed COMMIT may leave the transaction open (SQLITE_BUSY)
		// or already rolled back (SQLITE_FULL); make sure it is gone.
		w.rollback.ExecContext(ctx)
		return 0, fmt.Errorf("journal: commit: %w", err)
	}
	for ws, m := range metas {
		if m == nil {
			delete(w.savedMeta, ws)
		} else {
			w.savedMeta[ws] = m
		}
	}
	// Ids are handed out only once they are durable.
	for i, b := range group {
		for j, x := range b.Exchanges {
			x.ID = ids[i][j]
			x.Workspace = b.Workspace
		}
	}
	s.clearErr()
	return n, nil
}

func (s *SQLite) clearErr() {
	s.errMu.Lock()
	s.err = nil
	s.errMu.Unlock()
}

// writeConn is the writer's own connection with its statements prepared
// once: parsing SQL for every commit would cost more than the commit's
// own work. Transactions are opened and closed by hand on it, since a
// prepared *sql.Stmt is bound to its connection, not to a *sql.Tx.
type writeConn struct {
	conn                                           *sql.Conn
	begin, commit, rollback                        *sql.Stmt
	upsertWorkspace, deleteRecords, clearExchanges *sql.Stmt
	upsertRecord, insertExchange                   *sql.Stmt
	dropExchanges, dropRecords, dropWorkspace      *sql.Stmt
	// savedMeta is each workspace's header as last committed. Most
	// operations leave the header as it was; not rewriting it then
	// spares a row write per batch.
	savedMeta map[string][]byte
}

func openWriteConn(ctx context.Context, db *sql.DB) (*writeConn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal: writer connection: %w", err)
	}
	w := &writeConn{conn: conn, savedMeta: map[string][]byte{}}
	for _, st := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.begin, `BEGIN IMMEDIATE`},
		{&w.commit, `COMMIT`},
		{&w.rollback, `ROLLBACK`},
		{&w.upsertWorkspace, `INSERT INTO workspaces (name, created_at, meta) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET meta = excluded.meta`},
		{&w.deleteRecords, `DELETE FROM records WHERE workspace = ?`},
		{&w.clearExchanges, `DELETE FROM exchanges WHERE workspace = ?`},
		{&w.upsertRecord, `INSERT INTO records (workspace, kind, id, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace, kind, id) DO UPDATE SET data = excluded.data`},
		{&w.insertExchange, `INSERT INTO exchanges
			(workspace, event, subscription_id, order_id, user_id, outcome, status, action, run_id, started_at, virtual_time, recorded_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.dropExchanges, `DELETE FROM exchanges WHERE workspace = ?`},
		{&w.dropRecords, `DELETE FROM records WHERE workspace = ?`},
		{&w.dropWorkspace, `DELETE FROM workspaces WHERE name = ?`},
	} {
		if *st.dst, err = conn.PrepareContext(ctx, st.sql); err != nil {
			w.close()
			return nil, fmt.Errorf("journal: prepare %q: %w", st.sql, err)
		}
	}
	return w, nil
}

func (w *writeConn) close() error {
	for _, st := range []*sql.Stmt{w.begin, w.commit, w.rollback, w.upsertWorkspace, w.deleteRecords, w.clearExchanges,
		w.upsertRecord, w.insertExchange, w.dropExchanges, w.dropRecords, w.dropWorkspace} {
		if st != nil {
			st.Close()
		}
	}
	return w.conn.Close()
}

// apply writes one batch inside the open transaction and returns the ids
// of its exchanges.
func (w *writeConn) apply(ctx context.Context, b *Batch, metas map[string][]byte, skip map[int]bool, recordedAt int64) ([]int64, error) {
	if b.Delete {
		for _, st := range []*sql.Stmt{w.dropExchanges, w.dropRecords, w.dropWorkspace} {
			if _, err := st.ExecContext(ctx, b.Workspace); err != nil {
				return nil, err
			}
		}
		metas[b.Workspace] = nil
		return nil, nil
	}
	if b.Meta != nil && !bytes.Equal(b.Meta, w.lastMeta(b.Workspace, metas)) {
		if _, err := w.upsertWorkspace.ExecContext(ctx, b.Workspace, b.CreatedAt.UTC().Format(time.RFC3339Nano), b.Meta); err != nil {
			return nil, err
		}
		metas[b.Workspace] = b.Meta
	}
	if b.Replace {
		if _, err := w.deleteRecords.ExecContext(ctx, b.Workspace); err != nil {
			return nil, err
		}
	}
	if b.ClearExchanges {
		if _, err := w.clearExchanges.ExecContext(ctx, b.Workspace); err != nil {
			return nil, err
		}
	}
	for i, r := range b.Records {
		if skip[i] {
			continue
		}
		if _, err := w.upsertRecord.ExecContext(ctx, b.Workspace, r.Kind, r.ID, r.Data); err != nil {
			return nil, fmt.Errorf("record %s %d: %w", r.Kind, r.ID, err)
		}
	}
	ids := make([]int64, len(b.Exchanges))
	for i, x := range b.Exchanges {
		id, err := w.insert(ctx, b.Workspace, x, recordedAt)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// superseded finds, for each batch of a group, the records that a later
// batch of the same group overwrites (same workspace, kind and id) or
// wipes (Replace, Delete). The group commits as one transaction, so
// writing them would change nothing: an operation's transitional state
// and its outcome, when they meet in one group, cost one write, not two.
// The result maps batch index to record indexes to skip.
func superseded(group []*Batch) map[int]map[int]bool {
	type key struct {
		ws, kind string
		id       int64
	}
	later := map[key]bool{}
	wiped := map[string]bool{}
	out := map[int]map[int]bool{}
	for i := len(group) - 1; i >= 0; i-- {
		b := group[i]
		for j, r := range b.Records {
			k := key{b.Workspace, r.Kind, r.ID}
			if wiped[b.Workspace] || later[k] {
				if out[i] == nil {
					out[i] = map[int]bool{}
				}
				out[i][j] = true
			}
		}
		for _, r := range b.Records {
			later[key{b.Workspace, r.Kind, r.ID}] = true
		}
		if b.Replace || b.Delete {
			wiped[b.Workspace] = true
		}
	}
	return out
}

// lastMeta is the workspace's header as the open transaction leaves it.
func (w *writeConn) lastMeta(ws string, metas map[string][]byte) []byte {
	if m, ok := metas[ws]; ok {
		return m
	}
	return w.savedMeta[ws]
}

func (w *writeConn) insert(ctx context.Context, ws string, x *Exchange, recordedAt int64) (int64, error) {
	c := *x
	c.ID, c.Workspace = 0, ws
	data, err := json.Marshal(c)
	if err != nil {
		return 0, fmt.Errorf("encode exchange: %w", err)
	}
	status := any(nil)
	if x.Response != nil {
		status = x.Response.Status
	}
	res, err := w.insertExchange.ExecContext(ctx,
		ws, x.Event, x.SubscriptionID, x.OrderID, x.UserID, x.Outcome, status, x.Action, x.RunID,
		nanos(x.StartedAt), nanos(x.VirtualTime), recordedAt, data)
	if err != nil {
		return 0, fmt.Errorf("insert exchange: %w", err)
	}
	return res.LastInsertId()
}

// prune applies the retention; failures are kept for Err and retried at
// the next sweep.
func (s *SQLite) prune() {
	ctx := context.Background()
	if age := s.retention.MaxAge; age > 0 {
		cut := nanos(s.now().Add(-age))
		if _, err := s.db.ExecContext(ctx, `DELETE FROM exchanges WHERE recorded_at < ?`, cut); err != nil {
			s.fail(fmt.Errorf("journal: retention by age: %w", err))
			return
		}
	}
	if n := s.retention.MaxExchanges; n > 0 {
		rows, err := s.db.QueryContext(ctx, `SELECT workspace FROM exchanges GROUP BY workspace HAVING count(*) > ?`, n)
		if err != nil {
			s.fail(fmt.Errorf("journal: retention by count: %w", err))
			return
		}
		var over []string
		for rows.Next() {
			var ws string
			if err := rows.Scan(&ws); err == nil {
				over = append(over, ws)
			}
		}
		rows.Close()
		for _, ws := range over {
			if _, err := s.db.ExecContext(ctx, `DELETE FROM exchanges WHERE workspace = ? AND id <=
				(SELECT id FROM exchanges WHERE workspace = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, ws, ws, n); err != nil {
				s.fail(fmt.Errorf("journal: retention by count: %w", err))
				return
			}
		}
	}
}

// Prune applies the retention now. The writer also runs it on its own.
func (s *SQLite) Prune() { s.prune() }

// List returns the workspace's exchanges that pass f, oldest first.
func (s *SQLite) List(ctx context.Context, ws string, f Filter) ([]Exchange, error) {
	where, args := sqlFilter(ws, f)
	q := `SELECT id, data FROM exchanges WHERE ` + where + ` ORDER BY id`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: list: %w", err)
	}
	defer rows.Close()
	out := []Exchange{}
	for rows.Next() {
		x, err := scanExchange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// sqlFilter is Filter.Match in SQL.
func sqlFilter(ws string, f Filter) (string, []any) {
	conds := []string{"workspace = ?"}
	args := []any{ws}
	add := func(cond string, v any) {
		conds = append(conds, cond)
		args = append(args, v)
	}
	if f.Event != "" {
		add("event = ?", f.Event)
	}
	if f.SubscriptionID != 0 {
		add("subscription_id = ?", f.SubscriptionID)
	}
	if f.OrderID != 0 {
		add("order_id = ?", f.OrderID)
	}
	if f.UserID != 0 {
		add("user_id = ?", f.UserID)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	switch {
	case f.Status > 0:
		add("status = ?", f.Status)
	case f.Status < 0:
		conds = append(conds, "status IS NULL")
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.RunID != "" {
		add("run_id = ?", f.RunID)
	}
	if !f.From.IsZero() {
		add("started_at >= ?", nanos(f.From))
	}
	if !f.To.IsZero() {
		add("started_at < ?", nanos(f.To))
	}
	if !f.VirtualFrom.IsZero() {
		add("virtual_time >= ?", nanos(f.VirtualFrom))
	}
	if !f.VirtualTo.IsZero() {
		add("virtual_time < ?", nanos(f.VirtualTo))
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	if f.UntilID > 0 {
		add("id <= ?", f.UntilID)
	}
	return strings.Join(conds, " AND "), args
}

type scanner interface{ Scan(dest ...any) error }

func scanExchange(r scanner) (Exchange, error) {
	var id int64
	var data []byte
	if err := r.Scan(&id, &data); err != nil {
		return Exchange{}, fmt.Errorf("journal: read exchange: %w", err)
	}
	var x Exchange
	if err := json.Unmarshal(data, &x); err != nil {
		return Exchange{}, fmt.Errorf("journal: exchange %d is corrupt: %w", id, err)
	}
	x.ID = id
	return x, nil
}

// Get returns one exchange of the workspace.
func (s *SQLite) Get(ctx context.Context, ws string, id int64) (Exchange, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, data FROM exchanges WHERE workspace = ? AND id = ?`, ws, id)
	x, err := scanExchange(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Exchange{}, ErrNotFound
	}
	return x, err
}

// Load returns every saved workspace with its records.
func (s *SQLite) Load(ctx context.Context) ([]SavedWorkspace, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, created_at, meta FROM workspaces ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("journal: load workspaces: %w", err)
	}
	var out []SavedWorkspace
	for rows.Next() {
		var w SavedWorkspace
		var created string
		if err := rows.Scan(&w.Name, &created, &w.Meta); err != nil {
			rows.Close()
			return nil, fmt.Errorf("journal: load workspaces: %w", err)
		}
		if w.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("journal: workspace %q: created_at: %w", w.Name, err)
		}
		out = append(out, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		recs, err := s.records(ctx, out[i].Name)
		if err != nil {
			return nil, err
		}
		out[i].Records = recs
	}
	return out, nil
}

func (s *SQLite) records(ctx context.Context, ws string) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, id, data FROM records WHERE workspace = ? ORDER BY kind, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("journal: load workspace %q: %w", ws, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Kind, &r.ID, &r.Data); err != nil {
			return nil, fmt.Errorf("journal: load workspace %q: %w", ws, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Close commits what is queued and closes the database.
func (s *SQLite) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	close(s.stop)
	<-s.done
	return errors.Join(s.w.close(), s.db.Close(), s.unlock())
}

// Times are stored as Unix nanoseconds, which reach from 1677 to 2262.
var minNanos, maxNanos = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

// nanos is t in Unix nanoseconds, clamped to what an int64 holds: UnixNano
// is undefined outside that range, and a filter "to=9999-12-31" must mean
// "everything", not wrap around to 1816. Imports refuse times outside it
// (see validateImported), so stored times are exact.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}
