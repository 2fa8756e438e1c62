package platform

import (
	"context"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/replay"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// MaxReplay caps how many exchanges one replay re-sends, so that a
// forgotten filter cannot keep a vendor busy for an hour.
const MaxReplay = 10_000

// ReplayRequest selects recorded exchanges and where to send them again.
type ReplayRequest struct {
	// VendorURL "" means the workspace's api_path.
	VendorURL string
	Filter    journal.Filter
	Ignore    []string
	// Timeout 0 means the workspace's timeout.
	Timeout time.Duration
	// Raw is set for a caller holding the control token: the recorded
	// requests go out as they were sent, secrets included, and the report
	// shows answers unredacted. Without it a caller replays what it can
	// see: requests as redacted (a [FILTERED] header is not sent at all),
	// with the workspace's own integration headers added only when the
	// target is the workspace's own api_path, and answers redacted. So a
	// replay can never carry a vendor's credentials to another URL.
	Raw bool
}

// Replay re-sends the selected exchanges in order and diffs each answer
// with the recorded one. It changes nothing in the world and records
// nothing: the report is the result.
func (p *Platform) Replay(ctx context.Context, name string, req ReplayRequest) (replay.Report, error) {
	ignore, err := replay.ParsePatterns(req.Ignore)
	if err != nil {
		return replay.Report{}, world.Invalid("ignore", "%v", err)
	}
	ws, err := p.lock(name)
	if err != nil {
		return replay.Report{}, err
	}
	set := cloneSettings(ws.settings)
	ws.mu.Unlock()
	target := req.VendorURL
	if target == "" {
		target = set.APIPath
	} else if err := vendorapi.CheckBaseURL(target); err != nil {
		return replay.Report{}, world.Invalid("vendor_url", "%v", err)
	}
	if target == "" {
		return replay.Report{}, world.Errorf(world.CodeConflict, "the workspace has no api_path; give vendor_url")
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = set.Timeout()
	}
	f := req.Filter
	f.Limit = MaxReplay + 1
	xs, err := p.store.List(ctx, name, f)
	if err != nil {
		return replay.Report{}, world.Errorf(world.CodeInternal, "read the journal: %v", err)
	}
	if len(xs) > MaxReplay {
		return replay.Report{}, world.Invalid("filter", "selects more than %d exchanges; narrow it (after_id/until_id, event, subscription_id…)", MaxReplay)
	}
	o := replay.Options{Target: target, Ignore: ignore, Timeout: timeout}
	if !req.Raw {
		for i := range xs {
			xs[i] = journal.Redact(xs[i])
		}
		o.Redact = journal.Redact
		if sameBase(target, set.APIPath) {
			o.Headers = set.Headers
		}
	}
	return replay.Run(ctx, p.client, xs, o), nil
}

// sameBase reports whether two vendor base URLs are the same, a trailing
// slash aside.
func sameBase(a, b string) bool {
	return a != "" && strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// ImportResult says where imported exchanges landed.
type ImportResult struct {
	Imported int
	// FirstID and LastID bound the new ids; 0 when nothing was imported.
	FirstID, LastID int64
}

// Import appends exchanges from another journal (a JSONL export) to the
// workspace, all in one commit. They get new ids and keep their old one
// as OriginalID.
func (p *Platform) Import(ctx context.Context, name string, xs []journal.Exchange) (ImportResult, error) {
	if n := p.store.Retention().MaxExchanges; n > 0 && len(xs) > n {
		// Retention would cut the import down as soon as it landed.
		return ImportResult{}, world.Invalid("body", "the file has %d exchanges and this sandbox keeps at most %d per workspace (--retain-count): import fewer, or raise it", len(xs), n)
	}
	ws, err := p.lock(name)
	if err != nil {
		return ImportResult{}, err
	}
	if len(xs) == 0 {
		ws.mu.Unlock()
		return ImportResult{}, nil
	}
	ptrs := make([]*journal.Exchange, len(xs))
	for i := range xs {
		x := xs[i]
		if x.OriginalID == 0 {
			x.OriginalID = x.ID
		}
		x.ID, x.Workspace = 0, name
		ptrs[i] = &x
	}
	b := &journal.Batch{Workspace: name, Exchanges: ptrs}
	p.store.Submit(b)
	ws.mu.Unlock()
	if err := p.settle(ws, b); err != nil {
		return ImportResult{}, err
	}
	return ImportResult{Imported: len(ptrs), FirstID: ptrs[0].ID, LastID: ptrs[len(ptrs)-1].ID}, nil
}
