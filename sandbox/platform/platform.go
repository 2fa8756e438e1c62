// Package platform plays the ActivePlatform installation: it owns the
// workspaces, and carries out every operation by checking the world's
// rules, moving the subscription through its statuses, calling the vendor
// through vendorapi and recording the exchange in the journal.
package platform

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// DefaultWorkspace always exists.
const DefaultWorkspace = "default"

// DefaultEpoch is where every workspace clock starts, so that the same seed
// gives the same dates in every run.
var DefaultEpoch = time.Date(2026, time.January, 1, 9, 0, 0, 0, time.UTC)

// Config configures the platform.
type Config struct {
	// Seed of the default workspace and of workspaces created without one.
	Seed int64
	// VendorURL is the default workspace's api_path.
	VendorURL string
	// Epoch is where workspace clocks start; zero means DefaultEpoch.
	Epoch time.Time
	// HTTPClient calls vendors; nil means a client with sane limits.
	HTTPClient *http.Client
	Version    string
	Logger     *slog.Logger
	// OutboxCap is how many e-mails each workspace's outbox keeps, the
	// newest; 0 means DefaultOutboxCap.
	OutboxCap int
}

// Platform holds the workspaces.
type Platform struct {
	cfg    Config
	store  journal.Store
	client *vendorapi.Client
	log    *slog.Logger

	mu         sync.RWMutex
	workspaces map[string]*workspace
}

// workspace is one isolated world. mu guards everything below it; vendor
// calls are made without holding it.
type workspace struct {
	name      string
	createdAt time.Time

	mu   sync.Mutex
	seed int64
	// apguid, when set, is the installation id the world carries instead
	// of its seed's (CreateWorkspace.APGUID); a reset keeps it.
	apguid   string
	world    *world.World
	settings vendorapi.Settings
	clock    time.Time
	// generation changes on reset, so that a vendor answer arriving after
	// a reset is not applied to the new world.
	generation int
	deleted    bool
	// dirty holds the world entities changed since the last batch.
	dirty map[recKey]struct{}
	// unsaved is what failed to commit and goes with the next batch.
	unsaved unsaved
	// busyUsers holds the users with a vendor call in flight: a user
	// takes one operation at a time, as a subscription does.
	busyUsers map[int64]busy
	// advancing is true while the clock fires events; one advance at a
	// time.
	advancing bool
	// outbox holds the e-mails sent (manual provisioning mode, notices).
	outbox outbox
	// abort is closed by a reset or a deletion during an advance, so
	// that its queued calls are not made for a world that is gone.
	abort chan struct{}
}

// stopAdvance aborts an advance in progress. Call with ws.mu held.
func (ws *workspace) stopAdvance() {
	if ws.abort != nil {
		close(ws.abort)
		ws.abort = nil
	}
}

// New returns a platform holding the workspaces the store saved, and the
// default workspace. A nil store keeps everything in memory.
func New(cfg Config, store journal.Store) (*Platform, error) {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Epoch.IsZero() {
		cfg.Epoch = DefaultEpoch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if store == nil {
		store = journal.NewMemory(journal.DefaultRetention)
	}
	p := &Platform{
		cfg:        cfg,
		store:      store,
		client:     vendorapi.NewClient(cfg.HTTPClient, cfg.Version),
		log:        cfg.Logger,
		workspaces: map[string]*workspace{},
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	if _, ok := p.workspaces[DefaultWorkspace]; ok {
		return p, nil
	}
	if _, err := p.CreateWorkspace(context.Background(), CreateWorkspace{
		Name: DefaultWorkspace, Seed: cfg.Seed, VendorURL: cfg.VendorURL,
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// load brings back the saved workspaces. A --vendor given at start wins
// over the default workspace's saved api_path, as the newest instruction.
func (p *Platform) load() error {
	ctx := context.Background()
	saved, err := p.store.Load(ctx)
	if err != nil {
		return err
	}
	for _, sw := range saved {
		ws, err := restore(sw, p.cfg.OutboxCap)
		if err != nil {
			return err
		}
		if n := ws.recover(); n > 0 {
			p.log.Warn("operations interrupted by the last shutdown were marked failed", "workspace", ws.name, "count", n)
		}
		if ws.name == DefaultWorkspace {
			if p.cfg.VendorURL != "" && p.cfg.VendorURL != ws.settings.APIPath {
				p.log.Info("default workspace api_path set from --vendor", "was", ws.settings.APIPath, "now", p.cfg.VendorURL)
				ws.settings.APIPath = p.cfg.VendorURL
			}
			if p.cfg.Seed != ws.seed {
				p.log.Warn("the default workspace was saved with another seed; reset it to regenerate", "saved", ws.seed, "flag", p.cfg.Seed)
			}
		}
		if err := journal.Commit(p.store, ws.batch()); err != nil {
			return err
		}
		p.workspaces[ws.name] = ws
	}
	if len(saved) > 0 {
		p.log.Info("workspaces restored", "count", len(saved))
	}
	return nil
}

var (
	wsName        = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	apguidPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

// generate makes the workspace's world from its seed, at its clock, with
// its own ap_guid when it has one.
func (ws *workspace) generate() *world.World {
	w := world.Generate(ws.seed, ws.clock)
	if ws.apguid != "" {
		w.APGUID = ws.apguid
	}
	return w
}

// CreateWorkspace makes a new isolated world.
func (p *Platform) CreateWorkspace(_ context.Context, req CreateWorkspace) (WorkspaceInfo, error) {
	if !wsName.MatchString(req.Name) {
		return WorkspaceInfo{}, world.Invalid("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit; got %q", req.Name)
	}
	if req.Seed < 0 {
		return WorkspaceInfo{}, world.Invalid("seed", "must be positive, got %d", req.Seed)
	}
	if req.Seed == 0 {
		req.Seed = p.cfg.Seed
	}
	if req.APGUID != "" && !apguidPattern.MatchString(req.APGUID) {
		return WorkspaceInfo{}, world.Invalid("ap_guid", "must be 1-64 letters, digits or '-', got %q", req.APGUID)
	}
	settings := vendorapi.DefaultSettings(req.VendorURL)
	if err := settings.Validate(); err != nil {
		if e, ok := err.(*world.Error); ok && len(e.Details) > 0 && e.Details[0].Field == "api_path" {
			return WorkspaceInfo{}, world.Invalid("vendor_url", "%s", e.Details[0].Problem)
		}
		return WorkspaceInfo{}, err
	}
	ws := &workspace{
		name:      req.Name,
		createdAt: time.Now().UTC(),
		seed:      req.Seed,
		apguid:    req.APGUID,
		settings:  settings,
		clock:     p.cfg.Epoch,
		outbox:    outbox{cap: p.cfg.OutboxCap},
	}
	ws.world = ws.generate()
	p.mu.Lock()
	if _, ok := p.workspaces[req.Name]; ok {
		p.mu.Unlock()
		return WorkspaceInfo{}, world.Errorf(world.CodeConflict, "workspace %q already exists", req.Name)
	}
	p.workspaces[req.Name] = ws
	b := ws.fullBatch()
	p.store.Submit(b)
	p.mu.Unlock()
	if err := b.Wait(); err != nil {
		p.mu.Lock()
		delete(p.workspaces, req.Name)
		p.mu.Unlock()
		ws.mu.Lock()
		// A caller that found it meanwhile must not write for it.
		ws.deleted = true
		ws.mu.Unlock()
		return WorkspaceInfo{}, storeError(err)
	}
	return ws.info(), nil
}

// storeError is what the operator sees when the store cannot commit.
func storeError(err error) error {
	return world.Errorf(world.CodeInternal, "the journal could not record this: %v", err)
}

// Workspaces lists the workspaces by name.
func (p *Platform) Workspaces(_ context.Context) ([]WorkspaceInfo, error) {
	p.mu.RLock()
	all := make([]*workspace, 0, len(p.workspaces))
	for _, ws := range p.workspaces {
		all = append(all, ws)
	}
	p.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	out := make([]WorkspaceInfo, 0, len(all))
	for _, ws := range all {
		ws.mu.Lock()
		out = append(out, ws.info())
		ws.mu.Unlock()
	}
	return out, nil
}

// Workspace describes one workspace.
func (p *Platform) Workspace(_ context.Context, name string) (WorkspaceInfo, error) {
	ws, err := p.lock(name)
	if err != nil {
		return WorkspaceInfo{}, err
	}
	defer ws.mu.Unlock()
	return ws.info(), nil
}

// DeleteWorkspace removes a workspace and its exchanges. The default
// workspace cannot be deleted; reset it instead.
func (p *Platform) DeleteWorkspace(ctx context.Context, name string) error {
	if name == DefaultWorkspace {
		return world.Errorf(world.CodeConflict, "the default workspace always exists; reset it instead")
	}
	p.mu.Lock()
	ws, ok := p.workspaces[name]
	if !ok {
		p.mu.Unlock()
		return world.NotFound("workspace", name)
	}
	delete(p.workspaces, name)
	ws.mu.Lock()
	ws.deleted = true
	ws.stopAdvance()
	b := &journal.Batch{Workspace: name, Delete: true}
	p.store.Submit(b)
	ws.mu.Unlock()
	p.mu.Unlock()
	if err := b.Wait(); err != nil {
		return storeError(err)
	}
	return nil
}

// ResetWorkspace regenerates the world from its seed and restarts its
// clock. Integration settings are kept: they describe the vendor, not the
// world. Exchanges are forgotten.
func (p *Platform) ResetWorkspace(ctx context.Context, name string) (WorkspaceInfo, error) {
	ws, err := p.lock(name)
	if err != nil {
		return WorkspaceInfo{}, err
	}
	ws.clock = p.cfg.Epoch
	ws.world = ws.generate()
	ws.outbox.clear()
	ws.generation++
	ws.stopAdvance()
	info := ws.info()
	b := ws.fullBatch()
	b.ClearExchanges = true
	p.store.Submit(b)
	ws.mu.Unlock()
	if err := p.settle(ws, b); err != nil {
		return WorkspaceInfo{}, err
	}
	return info, nil
}

// lock finds a workspace and locks it; the caller unlocks.
func (p *Platform) lock(name string) (*workspace, error) {
	p.mu.RLock()
	ws, ok := p.workspaces[name]
	p.mu.RUnlock()
	if !ok {
		return nil, world.NotFound("workspace", name)
	}
	ws.mu.Lock()
	if ws.deleted {
		ws.mu.Unlock()
		return nil, world.NotFound("workspace", name)
	}
	return ws, nil
}

func (ws *workspace) info() WorkspaceInfo {
	w := ws.world
	return WorkspaceInfo{
		Name:      ws.name,
		Seed:      ws.seed,
		APGUID:    w.APGUID,
		VendorURL: ws.settings.APIPath,
		Clock:     ws.clock,
		CreatedAt: ws.createdAt,
		Counts: Counts{
			Distributors:  len(w.Distributors),
			Resellers:     len(w.Resellers),
			Tenants:       len(w.Tenants),
			Users:         len(w.Users),
			Plans:         len(w.Plans),
			Subscriptions: len(w.Subscriptions),
			Orders:        len(w.Orders),
		},
	}
}

// Integration returns the workspace's integration settings.
func (p *Platform) Integration(_ context.Context, name string) (vendorapi.Settings, error) {
	ws, err := p.lock(name)
	if err != nil {
		return vendorapi.Settings{}, err
	}
	defer ws.mu.Unlock()
	return cloneSettings(ws.settings), nil
}

// SetIntegration replaces the integration settings after validating them.
func (p *Platform) SetIntegration(_ context.Context, name string, s vendorapi.Settings) (vendorapi.Settings, error) {
	s = cloneSettings(s.Normalize())
	if err := s.Validate(); err != nil {
		return vendorapi.Settings{}, err
	}
	ws, err := p.lock(name)
	if err != nil {
		return vendorapi.Settings{}, err
	}
	ws.settings = s
	b := ws.batch()
	p.store.Submit(b)
	ws.mu.Unlock()
	if err := p.settle(ws, b); err != nil {
		return vendorapi.Settings{}, err
	}
	return cloneSettings(s), nil
}

// CheckIntegration calls {api_path}/check?ap_guid=&reseller_id= as Vendor
// Portal's "Start check" does (seed 003) and reports whether the
// integration is ready.
func (p *Platform) CheckIntegration(ctx context.Context, name string) (CheckResult, error) {
	ws, err := p.lock(name)
	if err != nil {
		return CheckResult{}, err
	}
	set := cloneSettings(ws.settings)
	apguid := ws.world.APGUID
	var resellerID int64
	if len(ws.world.Resellers) > 0 {
		resellerID = ws.world.Resellers[0].ID
	}
	now := ws.clock
	ws.mu.Unlock()
	if set.APIPath == "" {
		return CheckResult{}, world.Errorf(world.CodeConflict, "the workspace has no api_path; set it with PUT integration first")
	}
	call := vendorapi.Call{Event: vendorapi.EventCheck, Settings: set, APGUID: apguid, ResellerID: resellerID}
	dv := p.deliver(ctx, call, now, "check", 0, 0, 0)
	ans := dv.ans
	if err := p.commitExchange(ws, dv.xs...); err != nil {
		return CheckResult{}, err
	}
	res := CheckResult{Ready: ans.OK, URL: call.URL(), ExchangeID: dv.first().ID}
	if ans.OK {
		res.Message = "Your integration is ready to use."
	} else {
		res.Message = ans.Message
	}
	return res, nil
}

// exchange completes the record of a vendor call with why it was made.
func exchange(ctx context.Context, a vendorapi.Answer, now time.Time, action string, subID, orderID, userID int64) *journal.Exchange {
	x := a.Exchange
	x.SubscriptionID, x.OrderID, x.UserID = subID, orderID, userID
	x.VirtualTime = now
	x.Action = action
	x.RunID = RunID(ctx)
	return &x
}

// commitExchange records an exchange that changed nothing in the world.
// The operator API answers only after this returns, so what it reports is
// recorded. An exchange of a workspace deleted meanwhile is dropped with
// the workspace.
func (p *Platform) commitExchange(ws *workspace, xs ...*journal.Exchange) error {
	ws.mu.Lock()
	if ws.deleted {
		ws.mu.Unlock()
		return world.NotFound("workspace", ws.name)
	}
	b := &journal.Batch{Workspace: ws.name, Exchanges: xs}
	p.store.Submit(b)
	ws.mu.Unlock()
	return p.settle(ws, b)
}

type runKey struct{}

// WithRunID marks the operations made with ctx as part of a scenario run,
// so their exchanges can be found by run.
func WithRunID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, runKey{}, id)
}

// RunID is the scenario run ctx belongs to, "" when none.
func RunID(ctx context.Context) string {
	id, _ := ctx.Value(runKey{}).(string)
	return id
}

// Err reports whether the platform can still record what it does.
func (p *Platform) Err() error { return p.store.Err() }

// Exchanges lists recorded exchanges of a workspace.
func (p *Platform) Exchanges(ctx context.Context, name string, f journal.Filter) ([]journal.Exchange, error) {
	if _, err := p.Workspace(ctx, name); err != nil {
		return nil, err
	}
	return p.store.List(ctx, name, f)
}

// Exchange returns one recorded exchange.
func (p *Platform) Exchange(ctx context.Context, name string, id int64) (journal.Exchange, error) {
	if _, err := p.Workspace(ctx, name); err != nil {
		return journal.Exchange{}, err
	}
	x, err := p.store.Get(ctx, name, id)
	if err != nil {
		return journal.Exchange{}, world.NotFound("exchange", id)
	}
	return x, nil
}

func cloneSettings(s vendorapi.Settings) vendorapi.Settings {
	s.Paths = cloneMap(s.Paths)
	s.Headers = cloneMap(s.Headers)
	return s
}

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
