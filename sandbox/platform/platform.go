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
}

// Journal is what the platform needs of the exchange store.
type Journal interface {
	Append(ctx context.Context, x *journal.Exchange) error
	List(ctx context.Context, ws string, f journal.Filter) ([]journal.Exchange, error)
	Get(ctx context.Context, ws string, id int64) (journal.Exchange, error)
	DeleteWorkspace(ctx context.Context, ws string) error
}

// Platform holds the workspaces.
type Platform struct {
	cfg     Config
	journal Journal
	client  *vendorapi.Client
	log     *slog.Logger

	mu         sync.RWMutex
	workspaces map[string]*workspace
}

// workspace is one isolated world. mu guards everything below it; vendor
// calls are made without holding it.
type workspace struct {
	name      string
	createdAt time.Time

	mu       sync.Mutex
	seed     int64
	world    *world.World
	settings vendorapi.Settings
	clock    time.Time
	// generation changes on reset, so that a vendor answer arriving after
	// a reset is not applied to the new world.
	generation int
	deleted    bool
}

// New returns a platform with the default workspace.
func New(cfg Config, j Journal) (*Platform, error) {
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
	if j == nil {
		j = journal.NewMemory()
	}
	p := &Platform{
		cfg:        cfg,
		journal:    j,
		client:     vendorapi.NewClient(cfg.HTTPClient, cfg.Version),
		log:        cfg.Logger,
		workspaces: map[string]*workspace{},
	}
	if _, err := p.CreateWorkspace(context.Background(), CreateWorkspace{
		Name: DefaultWorkspace, Seed: cfg.Seed, VendorURL: cfg.VendorURL,
	}); err != nil {
		return nil, err
	}
	return p, nil
}

var wsName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

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
		settings:  settings,
		clock:     p.cfg.Epoch,
	}
	ws.world = world.Generate(req.Seed, ws.clock)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.workspaces[req.Name]; ok {
		return WorkspaceInfo{}, world.Errorf(world.CodeConflict, "workspace %q already exists", req.Name)
	}
	p.workspaces[req.Name] = ws
	return ws.info(), nil
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
	p.mu.Unlock()
	ws.mu.Lock()
	ws.deleted = true
	ws.mu.Unlock()
	return p.journal.DeleteWorkspace(ctx, name)
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
	ws.world = world.Generate(ws.seed, ws.clock)
	ws.generation++
	info := ws.info()
	ws.mu.Unlock()
	if err := p.journal.DeleteWorkspace(ctx, name); err != nil {
		return WorkspaceInfo{}, world.Errorf(world.CodeInternal, "forget exchanges: %v", err)
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
	defer ws.mu.Unlock()
	ws.settings = s
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
	ans := p.client.Send(context.WithoutCancel(ctx), call)
	x, err := p.record(ctx, name, now, ans, 0, 0, 0)
	if err != nil {
		return CheckResult{}, err
	}
	res := CheckResult{Ready: ans.OK, URL: call.URL(), ExchangeID: x}
	if ans.OK {
		res.Message = "Your integration is ready to use."
	} else {
		res.Message = ans.Message
	}
	return res, nil
}

// record writes the exchange to the journal and returns its id. The
// operator API answers only after this returns, so what it reports is
// recorded.
func (p *Platform) record(ctx context.Context, ws string, now time.Time, a vendorapi.Answer, subID, orderID, userID int64) (int64, error) {
	x := a.Exchange
	x.Workspace = ws
	x.SubscriptionID, x.OrderID, x.UserID = subID, orderID, userID
	x.VirtualTime = now
	if err := p.journal.Append(context.WithoutCancel(ctx), &x); err != nil {
		p.log.Error("journal append failed", "workspace", ws, "event", x.Event, "err", err)
		return 0, world.Errorf(world.CodeInternal, "record exchange: %v", err)
	}
	return x.ID, nil
}

// Exchanges lists recorded exchanges of a workspace.
func (p *Platform) Exchanges(ctx context.Context, name string, f journal.Filter) ([]journal.Exchange, error) {
	if _, err := p.Workspace(ctx, name); err != nil {
		return nil, err
	}
	return p.journal.List(ctx, name, f)
}

// Exchange returns one recorded exchange.
func (p *Platform) Exchange(ctx context.Context, name string, id int64) (journal.Exchange, error) {
	if _, err := p.Workspace(ctx, name); err != nil {
		return journal.Exchange{}, err
	}
	x, err := p.journal.Get(ctx, name, id)
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
