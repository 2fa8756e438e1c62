package platform

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// TestImportRespectsRetention: an import larger than the count retention
// is refused whole, rather than cut down the moment it lands; one that
// fits lands whole, with its old ids kept as original_id.
func TestImportRespectsRetention(t *testing.T) {
	ctx := context.Background()
	p, err := New(Config{Seed: 1}, journal.NewMemory(journal.Retention{MaxExchanges: 2}))
	if err != nil {
		t.Fatal(err)
	}
	xs := func(n int) []journal.Exchange {
		var out []journal.Exchange
		for i := range n {
			out = append(out, journal.Exchange{ID: int64(40 + i), Event: "check", Outcome: journal.OutcomeOK,
				Request: journal.Request{Method: "POST", URL: "http://v/check"}, StartedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		}
		return out
	}
	_, err = p.Import(ctx, DefaultWorkspace, xs(3))
	var we *world.Error
	if !errors.As(err, &we) || we.Code != world.CodeInvalidArgument || len(we.Details) == 0 || we.Details[0].Field != "body" {
		t.Errorf("import over the retention: %v, want invalid_argument on body", err)
	}
	if got, _ := p.Exchanges(ctx, DefaultWorkspace, journal.Filter{}); len(got) != 0 {
		t.Errorf("a refused import left %d exchanges", len(got))
	}
	res, err := p.Import(ctx, DefaultWorkspace, xs(2))
	if err != nil || res.Imported != 2 {
		t.Fatalf("import within the retention: %+v %v", res, err)
	}
	got, _ := p.Exchanges(ctx, DefaultWorkspace, journal.Filter{})
	if len(got) != 2 || got[0].OriginalID != 40 || got[1].OriginalID != 41 || got[0].ID != res.FirstID || got[1].ID != res.LastID {
		t.Errorf("imported: %+v, result %+v", got, res)
	}
}
