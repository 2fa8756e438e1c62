package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go driver: works in a scratch image
)

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
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if dir == MemoryDir {
		// Every connection to ":memory:" is its own database: keep one.
		db.SetMaxOpenConns(1)
	} else {
		// WAL lets readers run beside the writer.
		db.SetMaxOpenConns(4)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s := &SQLite{
		db:        db,
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
		return "file::memory:?" + pragmas, nil
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
		group = append(group[:0], first)
	fill:
		for len(group) < maxGroup {
			select {
			case b := <-s.queue:
				group = append(group, b)
			default:
				break fill
			}
		}
		sincePrune += s.commitGroup(group)
		if sincePrune >= pruneEvery {
			sincePrune = 0
			s.prune()
		}
	}
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

// Err is the last commit failure, nil while commits succeed.
func (s *SQLite) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *SQLite) commit(group []*Batch) (int, error) {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("journal: begin: %w", err)
	}
	defer tx.Rollback()
	ids := make([][]int64, len(group))
	n := 0
	for i, b := range group {
		if ids[i], err = apply(ctx, tx, b); err != nil {
			return 0, fmt.Errorf("journal: workspace %q: %w", b.Workspace, err)
		}
		n += len(b.Exchanges)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("journal: commit: %w", err)
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

func apply(ctx context.Context, tx *sql.Tx, b *Batch) ([]int64, error) {
	if b.Delete {
		for _, q := range []string{
			`DELETE FROM exchanges WHERE workspace = ?`,
			`DELETE FROM records WHERE workspace = ?`,
			`DELETE FROM workspaces WHERE name = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, b.Workspace); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	if b.Meta != nil {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO workspaces (name, created_at, meta) VALUES (?, ?, ?)
			 ON CONFLICT (name) DO UPDATE SET meta = excluded.meta`,
			b.Workspace, b.CreatedAt.UTC().Format(time.RFC3339Nano), b.Meta); err != nil {
			return nil, err
		}
	}
	if b.Replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM records WHERE workspace = ?`, b.Workspace); err != nil {
			return nil, err
		}
	}
	if b.ClearExchanges {
		if _, err := tx.ExecContext(ctx, `DELETE FROM exchanges WHERE workspace = ?`, b.Workspace); err != nil {
			return nil, err
		}
	}
	if len(b.Records) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO records (workspace, kind, id, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace, kind, id) DO UPDATE SET data = excluded.data`)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		for _, r := range b.Records {
			if _, err := st.ExecContext(ctx, b.Workspace, r.Kind, r.ID, r.Data); err != nil {
				return nil, fmt.Errorf("record %s %d: %w", r.Kind, r.ID, err)
			}
		}
	}
	ids := make([]int64, len(b.Exchanges))
	for i, x := range b.Exchanges {
		id, err := insertExchange(ctx, tx, b.Workspace, x)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

func insertExchange(ctx context.Context, tx *sql.Tx, ws string, x *Exchange) (int64, error) {
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
	res, err := tx.ExecContext(ctx, `INSERT INTO exchanges
		(workspace, event, subscription_id, order_id, user_id, outcome, status, action, run_id, started_at, virtual_time, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ws, x.Event, x.SubscriptionID, x.OrderID, x.UserID, x.Outcome, status, x.Action, x.RunID,
		x.StartedAt.UnixNano(), x.VirtualTime.UnixNano(), data)
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
		cut := s.now().Add(-age).UnixNano()
		if _, err := s.db.ExecContext(ctx, `DELETE FROM exchanges WHERE started_at < ?`, cut); err != nil {
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
		add("started_at >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		add("started_at < ?", f.To.UnixNano())
	}
	if !f.VirtualFrom.IsZero() {
		add("virtual_time >= ?", f.VirtualFrom.UnixNano())
	}
	if !f.VirtualTo.IsZero() {
		add("virtual_time < ?", f.VirtualTo.UnixNano())
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
	return s.db.Close()
}
