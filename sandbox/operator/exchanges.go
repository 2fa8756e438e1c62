package operator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/replay"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// maxHAR caps a HAR export, which is built whole (its entries are sorted
// by start time): beyond this a HAR no longer opens comfortably in a
// browser anyway. JSON Lines exports stream, page by page, uncapped.
const maxHAR = 10_000

// exportPage is how many exchanges a streaming export reads at a time, so
// that exporting a full journal holds one page in memory, not the journal.
const exportPage = 500

// filterParams are the journal filters the list and the export share.
type filterParams struct {
	Event                            *api.Event
	SubscriptionID, OrderID, UserID  *int64
	Outcome                          *api.Outcome
	Status                           *int64
	Action, RunID                    *string
	From, To, VirtualFrom, VirtualTo *time.Time
	AfterID, UntilID                 *int64
}

func (p filterParams) filter() journal.Filter {
	f := journal.Filter{
		Event:          string(deref(p.Event)),
		SubscriptionID: deref(p.SubscriptionID),
		OrderID:        deref(p.OrderID),
		UserID:         deref(p.UserID),
		Outcome:        string(deref(p.Outcome)),
		Action:         deref(p.Action),
		RunID:          deref(p.RunID),
		From:           deref(p.From),
		To:             deref(p.To),
		VirtualFrom:    deref(p.VirtualFrom),
		VirtualTo:      deref(p.VirtualTo),
		AfterID:        deref(p.AfterID),
		UntilID:        deref(p.UntilID),
	}
	if p.Status != nil {
		// 0 on the wire means "no answer"; the filter spells that -1.
		f.Status = int(*p.Status)
		if f.Status == 0 {
			f.Status = -1
		}
	}
	return f
}

// redactAll shows secrets as [FILTERED] unless raw was granted.
func redactAll(xs []journal.Exchange, raw bool) []journal.Exchange {
	if raw {
		return xs
	}
	out := make([]journal.Exchange, len(xs))
	for i, x := range xs {
		out[i] = journal.Redact(x)
	}
	return out
}

// ListExchanges answers one page of the journal.
func (s *Server) ListExchanges(ctx context.Context, req api.ListExchangesRequestObject) (api.ListExchangesResponseObject, error) {
	p := req.Params
	raw, err := s.rawAllowed(ctx, p.Raw)
	if err != nil {
		return nil, err
	}
	limit := int(deref(p.Limit))
	if limit <= 0 {
		limit = defaultExchangeLimit
	}
	limit = min(limit, maxExchangeLimit)
	f := filterParams{
		p.Event, p.SubscriptionID, p.OrderID, p.UserID, p.Outcome, p.Status, p.Action, p.RunID,
		p.From, p.To, p.VirtualFrom, p.VirtualTo, p.AfterID, p.UntilID,
	}.filter()
	// One more than the page, to know whether there is a next one.
	f.Limit = limit + 1
	xs, err := s.p.Exchanges(ctx, req.Ws, f)
	if err != nil {
		return nil, err
	}
	return api.ListExchanges200JSONResponse(toExchangeList(redactAll(xs, raw), limit)), nil
}

// GetExchange gets one exchange.
func (s *Server) GetExchange(ctx context.Context, req api.GetExchangeRequestObject) (api.GetExchangeResponseObject, error) {
	raw, err := s.rawAllowed(ctx, req.Params.Raw)
	if err != nil {
		return nil, err
	}
	x, err := s.p.Exchange(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	if !raw {
		x = journal.Redact(x)
	}
	return api.GetExchange200JSONResponse(toExchange(x)), nil
}

// export is a file download: JSON Lines or HAR.
type export struct {
	contentType, filename string
	body                  []byte
}

func (e export) VisitExportExchangesResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", e.contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", e.filename))
	w.Header().Set("Content-Length", fmt.Sprint(len(e.body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(e.body)
	return err
}

// ExportExchanges writes the selected exchanges as JSON Lines or HAR.
func (s *Server) ExportExchanges(ctx context.Context, req api.ExportExchangesRequestObject) (api.ExportExchangesResponseObject, error) {
	p := req.Params
	raw, err := s.rawAllowed(ctx, p.Raw)
	if err != nil {
		return nil, err
	}
	f := filterParams{
		p.Event, p.SubscriptionID, p.OrderID, p.UserID, p.Outcome, p.Status, p.Action, p.RunID,
		p.From, p.To, p.VirtualFrom, p.VirtualTo, p.AfterID, p.UntilID,
	}.filter()
	if p.Format == api.ExportExchangesParamsFormatHar {
		f.Limit = maxHAR + 1
		xs, err := s.p.Exchanges(ctx, req.Ws, f)
		if err != nil {
			return nil, err
		}
		if len(xs) > maxHAR {
			return nil, world.Invalid("filter", "selects more than %d exchanges for a HAR; narrow it with after_id/until_id or a time range, or export JSON Lines", maxHAR)
		}
		var buf bytes.Buffer
		if err := journal.WriteHAR(&buf, redactAll(xs, raw), s.version); err != nil {
			return nil, err
		}
		return export{"application/json", "apsandbox-" + req.Ws + ".har", buf.Bytes()}, nil
	}
	// The first page is read here, so that an unknown workspace is still
	// a 404; the rest stream as they are written.
	f.Limit = exportPage
	first, err := s.p.Exchanges(ctx, req.Ws, f)
	if err != nil {
		return nil, err
	}
	return jsonlExport{s: s, ctx: ctx, ws: req.Ws, filter: f, raw: raw, first: first}, nil
}

// jsonlExport streams a JSON Lines export page by page.
type jsonlExport struct {
	s      *Server
	ctx    context.Context
	ws     string
	filter journal.Filter
	raw    bool
	first  []journal.Exchange
}

func (e jsonlExport) VisitExportExchangesResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", ndjson)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "apsandbox-"+e.ws+".jsonl"))
	w.WriteHeader(http.StatusOK)
	page, f := e.first, e.filter
	for {
		if err := journal.WriteJSONL(w, redactAll(page, e.raw)); err != nil {
			return err
		}
		if len(page) < exportPage {
			return nil
		}
		f.AfterID = page[len(page)-1].ID
		var err error
		if page, err = e.s.p.Exchanges(e.ctx, e.ws, f); err != nil {
			// The status is sent; a cut-off last line is what the reader
			// sees, and an import of it names that line.
			e.s.log.Error("export stopped", "workspace", e.ws, "err", err)
			return err
		}
	}
}

// ImportExchanges appends a JSON Lines export to the workspace, all or
// nothing.
func (s *Server) ImportExchanges(ctx context.Context, req api.ImportExchangesRequestObject) (api.ImportExchangesResponseObject, error) {
	if req.Body == nil {
		return nil, world.Errorf(world.CodeInvalidArgument, "request body is required: JSON Lines, one exchange per line")
	}
	xs, err := journal.ReadJSONL(req.Body)
	if err != nil {
		return nil, importError(err)
	}
	res, err := s.p.Import(ctx, req.Ws, xs)
	if err != nil {
		return nil, err
	}
	return api.ImportExchanges200JSONResponse{Imported: int64(res.Imported), FirstID: res.FirstID, LastID: res.LastID}, nil
}

// importError names each bad line and field of an import.
func importError(err error) error {
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return world.Errorf(world.CodeInvalidArgument, "request body is larger than %d bytes", big.Limit)
	}
	var ie *journal.ImportError
	if !errors.As(err, &ie) {
		return world.Errorf(world.CodeInvalidArgument, "cannot read the import: %v", err)
	}
	we := world.Errorf(world.CodeInvalidArgument, "nothing was imported: %d problem(s) in the file", len(ie.Problems))
	for _, p := range ie.Problems {
		field := fmt.Sprintf("line %d", p.Line)
		if p.Field != "" {
			field += ": " + p.Field
		}
		we.Details = append(we.Details, world.Detail{Field: field, Problem: p.Problem})
	}
	return we
}

// CreateReplay re-sends recorded calls and diffs the answers.
func (s *Server) CreateReplay(ctx context.Context, req api.CreateReplayRequestObject) (api.CreateReplayResponseObject, error) {
	b := req.Body
	r := platform.ReplayRequest{VendorURL: deref(b.VendorURL), Ignore: deref(b.Ignore), Raw: s.holdsToken(ctx)}
	if b.TimeoutMs != nil {
		r.Timeout = time.Duration(*b.TimeoutMs) * time.Millisecond
	}
	if fp := b.Filter; fp != nil {
		r.Filter = filterParams{
			Event: fp.Event, SubscriptionID: fp.SubscriptionID, OrderID: fp.OrderID, UserID: fp.UserID,
			Outcome: fp.Outcome, Status: fp.Status, Action: fp.Action, RunID: fp.RunID,
			AfterID: fp.AfterID, UntilID: fp.UntilID,
		}.filter()
	}
	rep, err := s.p.Replay(ctx, req.Ws, r)
	if err != nil {
		return nil, err
	}
	return api.CreateReplay200JSONResponse(toReplayReport(rep)), nil
}

func toReplayReport(r replay.Report) api.ReplayReport {
	out := api.ReplayReport{Target: r.Target, Ignore: r.Ignore, Items: []api.ReplayItem{}}
	out.Summary.Total = int64(r.Summary.Total)
	out.Summary.Equal = int64(r.Summary.Equal)
	out.Summary.Changed = int64(r.Summary.Changed)
	out.Summary.Failed = int64(r.Summary.Failed)
	for _, it := range r.Items {
		ai := api.ReplayItem{
			ExchangeID: it.ExchangeID, Event: it.Event, Method: it.Method, URL: it.URL, Error: nonZero(it.Error),
			DurationMs: it.DurationMS, Verdict: api.ReplayItemVerdict(it.Verdict),
			RecordedStatus: int64(it.RecordedStatus), ReplayedStatus: int64(it.ReplayedStatus),
			StatusChanged: it.StatusChanged, Changes: []api.ReplayChange{},
		}
		for _, c := range it.Changes {
			ac := api.ReplayChange{Op: api.ReplayChangeOp(c.Op), Path: c.Path}
			if c.Recorded != nil {
				ac.Recorded = &c.Recorded
			}
			if c.Replayed != nil {
				ac.Replayed = &c.Replayed
			}
			ai.Changes = append(ai.Changes, ac)
		}
		out.Items = append(out.Items, ai)
	}
	return out
}
