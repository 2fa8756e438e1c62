package journal

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations bring a database from version i to i+1. Append only: a
// released migration never changes, so that every data directory a user
// has can still be opened. The schema version lives in PRAGMA user_version.
var migrations = []string{
	// 1: workspaces, their world records, and the exchanges.
	`CREATE TABLE workspaces (
		name       TEXT PRIMARY KEY,
		created_at TEXT NOT NULL,
		meta       BLOB NOT NULL
	);
	CREATE TABLE records (
		workspace TEXT    NOT NULL,
		kind      TEXT    NOT NULL,
		id        INTEGER NOT NULL,
		data      BLOB    NOT NULL,
		PRIMARY KEY (workspace, kind, id)
	) WITHOUT ROWID;
	CREATE TABLE exchanges (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		workspace       TEXT    NOT NULL,
		event           TEXT    NOT NULL,
		subscription_id INTEGER NOT NULL DEFAULT 0,
		order_id        INTEGER NOT NULL DEFAULT 0,
		user_id         INTEGER NOT NULL DEFAULT 0,
		outcome         TEXT    NOT NULL,
		status          INTEGER,
		action          TEXT    NOT NULL DEFAULT '',
		run_id          TEXT    NOT NULL DEFAULT '',
		started_at      INTEGER NOT NULL,
		virtual_time    INTEGER NOT NULL,
		data            BLOB    NOT NULL
	);
	CREATE INDEX exchanges_workspace ON exchanges (workspace, id);
	CREATE INDEX exchanges_subscription ON exchanges (workspace, subscription_id, id);
	CREATE INDEX exchanges_started ON exchanges (started_at);`,
	// 2: age retention counts from when an exchange entered this
	// journal, not from when the call was made, so that an imported
	// recording older than the retention is not swept away at once.
	`ALTER TABLE exchanges ADD COLUMN recorded_at INTEGER NOT NULL DEFAULT 0;
	UPDATE exchanges SET recorded_at = started_at;
	DROP INDEX exchanges_started;
	CREATE INDEX exchanges_recorded ON exchanges (recorded_at);`,
}

// SchemaVersion is the schema this binary writes.
var SchemaVersion = len(migrations)

// migrate brings db to SchemaVersion, each step in its own transaction.
// A database written by a newer binary is refused rather than damaged.
func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("journal: read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("journal: the data directory has schema version %d, newer than this apsandbox (%d); use a newer apsandbox or another --data", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("journal: migrate to %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("journal: migrate to %d: %w", v+1, err)
		}
		// PRAGMA takes no bound parameters.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("journal: migrate to %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("journal: migrate to %d: %w", v+1, err)
		}
	}
	return nil
}
