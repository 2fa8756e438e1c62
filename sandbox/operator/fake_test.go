package operator

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/replay"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// The fixture: a small but complete world, as the generator would make
// one, built from literals so that the tests know every value. It starts at
// t0() and its subscriptions expire at t1().

func t0() time.Time { return time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC) }
func t1() time.Time { return t0().AddDate(0, 1, 0) }

func fixtureWorld() *world.World {
	exp := t1()
	return &world.World{
		APGUID: "6f1c2b8e-6c4d-4a53-9e0b-3f2d9a0c1e77",
		Seed:   1,
		Product: world.Product{
			ID: 1, Name: "CloudBackup", Vendor: "Acme Software",
		},
		Distributors: []world.Distributor{{
			ID: 2, Name: "Dev Acc", Region: "Region", Currency: "USD",
			Attributes: map[string]string{"certificate_password": "[FILTERED]"},
		}},
		Resellers: []world.Reseller{{
			ID: 3, DistributorID: 2, Name: "Root", CompanyName: "Dev acc",
			FirstAddress: "Street building", SecondAddress: "", City: "City",
			Region: "Region", Zip: "220000", Country: "US",
			CompanyPhone: "+123555456", CompanyEmail: "email@example.com",
			Currency:       "USD",
			Attributes:     map[string]string{"reseller_public_id": "R-77"},
			CoreAttributes: map[string]string{},
		}},
		Tenants: []world.Tenant{{
			ID: 4, ResellerID: 3, CompanyName: "John GS", Type: world.TenantBusiness,
			Contact: world.Contact{
				FirstName: "John", LastName: "GS", Zip: "220000", City: "Quinsk",
				State: "Quinsk", Country: "AQ", Phone: "+123 55 1111111",
				Email: "test@example.com", Fax: "+123 55 1111111",
				AddressLine1: "Quinsk", AddressLine2: "",
			},
			Owner: world.Owner{FirstName: "John", LastName: "GS", Phone: "+123 55 1111111"},
		}},
		Users: []world.User{
			{ID: 5, TenantID: 4, Email: "john@example.com", FirstName: "John", LastName: "GS", Role: world.RoleOwner, Status: "active", VendorID: "u-1234567"},
			{ID: 6, TenantID: 4, Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Role: world.RoleFinanceManager, Status: "inactive"},
		},
		ServiceTerms: []world.ServiceTerm{{
			ID: 7, Name: "Standard", BillingDay: 1, ManualRenewPoint: -1, AutoRenewPoint: 3,
			GracePeriod: 7, StopPeriod: 30, StopType: world.TermAutomatic, DeleteType: world.TermManual,
		}},
		Plans: []world.Plan{
			{
				ID: 8, Name: "Cloud User 50-99 WKS/FS", Description: "", SKU: "KLMN1234OMG",
				BillingType: world.BillingRecurring, Currency: "USD", SetupFee: 0, ServiceTermID: 7,
				Periods: []world.Period{
					{ID: 9, Value: 1, Type: world.PeriodMonth, Price: 1999, RenewalPrice: 1999},
					{ID: 10, Value: 30, Type: world.PeriodDay, Trial: true},
				},
				Resources: []world.Resource{
					{ID: 11, Key: "user_licenses", Name: "User licenses", Unit: "unit", Included: 5, Min: 1, Max: 0, UnitPrice: 350},
				},
				Attributes: map[string]string{},
			},
			{
				ID: 12, Name: "Forever", Description: "One payment", SKU: "FOREVER-1",
				BillingType: world.BillingNonRecurring, Currency: "USD", SetupFee: 4_000_000_000, ServiceTermID: 7,
				Periods:         []world.Period{{ID: 13, Value: 1, Type: world.PeriodYear, Endless: true, Price: 99900}},
				Resources:       []world.Resource{},
				Attributes:      map[string]string{"edition": "pro"},
				AutoRenewLocked: true,
			},
		},
		Subscriptions: []world.Subscription{
			{
				ID: 14, Name: "Backup for John GS", TenantID: 4, ResellerID: 3, PlanID: 8, PeriodID: 9,
				Status: world.StatusActive, AutoRenew: true, ExternalID: "0000fff2-00c8-9d6e-0ecc-3a083b9e736a",
				StartDate: t0(), ExpirationDate: &exp,
				Resources:       map[string]int64{"user_licenses": 50},
				Attributes:      map[string]string{"login_url": "https://svc.example/login"},
				OrderAttributes: map[string]string{},
				Ability:         world.Ability{Renew: true, ChangeResources: true, AddResources: true, SwitchPlan: true, Stop: true, Delete: true, ChangeAutoRenew: true},
				CreatedAt:       t0(), UpdatedAt: t0(),
			},
			{
				ID: 15, Name: "Forever", TenantID: 4, ResellerID: 3, PlanID: 12, PeriodID: 13,
				Status:          world.StatusInstallationFailed,
				StartDate:       t0(),
				Resources:       map[string]int64{},
				Attributes:      map[string]string{},
				OrderAttributes: map[string]string{"domain": "john.example"},
				LastError:       "Unknown resource key 'users'",
				Ability:         world.Ability{Retry: true, Delete: true},
				Pending:         &world.Operation{Kind: world.OpCreate, OrderID: 17, PlanID: 12, PeriodID: 13, Resources: map[string]int64{"seats": 3}, PrevStatus: world.StatusOrdered},
				CreatedAt:       t0(), UpdatedAt: t1(),
			},
		},
		Orders: []world.Order{
			{ID: 16, SubscriptionID: 14, TenantID: 4, Type: world.OrderSales, Status: world.OrderCompleted, PlanID: 8, PeriodID: 9, Resources: map[string]int64{"user_licenses": 50}, Total: 17500, Currency: "USD", CreatedAt: t0(), UpdatedAt: t0()},
			{ID: 17, SubscriptionID: 15, TenantID: 4, Type: world.OrderSales, Status: world.OrderProvisioningFailed, PlanID: 12, PeriodID: 13, Resources: map[string]int64{}, Total: 4_000_099_900, Currency: "USD", Error: "Unknown resource key 'users'", CreatedAt: t0(), UpdatedAt: t1()},
		},
		NextID: 17,
	}
}

func fixtureWorkspace() platform.WorkspaceInfo {
	return platform.WorkspaceInfo{
		Name: "default", Seed: 1, APGUID: "6f1c2b8e-6c4d-4a53-9e0b-3f2d9a0c1e77",
		VendorURL: "http://127.0.0.1:9090", Clock: t0(), CreatedAt: t0(),
		Counts: platform.Counts{Distributors: 1, Resellers: 1, Tenants: 1, Users: 2, Plans: 2, Subscriptions: 2, Orders: 2},
	}
}

func fixtureSettings() vendorapi.Settings {
	return vendorapi.Settings{
		Mode: vendorapi.ModeAutomatic, APIPath: "http://127.0.0.1:9090",
		AllowResourceValidation: true,
		Paths:                   map[string]string{"subscription.renew": "/subscription/update"},
		Headers:                 map[string]string{"X-Token": "secret"},
		TimeoutMS:               10000,
	}
}

func fixtureExchanges() []journal.Exchange {
	return []journal.Exchange{
		{
			ID: 1, Workspace: "default", Event: string(vendorapi.EventCheck),
			Request: journal.Request{
				Method: "POST", URL: "http://127.0.0.1:9090/check?ap_guid=6f1c&reseller_id=3", Path: "/check",
				Query: map[string]string{"ap_guid": "6f1c", "reseller_id": "3"}, Headers: map[string]string{"User-Agent": "apsandbox/dev"},
			},
			Response: &journal.Response{Status: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "ok"},
			Outcome:  journal.OutcomeOK, StartedAt: t0(), VirtualTime: t0(), DurationMS: 1.25,
		},
		{
			ID: 2, Workspace: "default", Event: string(vendorapi.EventSubscriptionCreate), SubscriptionID: 15, OrderID: 17,
			Request: journal.Request{
				Method: "POST", URL: "http://127.0.0.1:9090/subscription/create?ap_guid=6f1c&reseller_id=3", Path: "/subscription/create",
				Query: map[string]string{"ap_guid": "6f1c", "reseller_id": "3"}, Headers: map[string]string{"Content-Type": "application/json"},
				Body: json.RawMessage(`{"subscription":{"id":15,"attributes":{}}}`),
			},
			Outcome: journal.OutcomeError, Error: "dial tcp 127.0.0.1:9090: connect: connection refused",
			StartedAt: t0(), VirtualTime: t0(), DurationMS: 0.4,
		},
		{
			ID: 3, Workspace: "default", Event: string(vendorapi.EventSubscriptionRenew), SubscriptionID: 14, OrderID: 18,
			Request: journal.Request{
				Method: "POST", URL: "http://127.0.0.1:9090/subscription/update?ap_guid=6f1c&reseller_id=3", Path: "/subscription/update",
				Query: map[string]string{"ap_guid": "6f1c", "reseller_id": "3"}, Headers: map[string]string{},
				Body: json.RawMessage(`{"external_id":"0000fff2"}`),
			},
			Response: &journal.Response{Status: 422, Headers: map[string]string{}, Body: `{"task":{"error_message":"Subscription must have an expiration date"}}`},
			Outcome:  journal.OutcomeRefused, Error: "Subscription must have an expiration date",
			StartedAt: t1(), VirtualTime: t1(), DurationMS: 3,
		},
	}
}

// fakePlatform answers from the fixture and records the last request it
// was given. Only the workspace "default" exists.
type fakePlatform struct {
	mu    sync.Mutex
	w     *world.World
	err   error // when set, every method fails with it
	calls []any // the requests received, in order
}

func newFake() *fakePlatform { return &fakePlatform{w: fixtureWorld()} }

func (f *fakePlatform) enter(ws string, req any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req)
	if f.err != nil {
		return f.err
	}
	if ws != "default" {
		return world.NotFound("workspace", ws)
	}
	return nil
}

func (f *fakePlatform) lastCall() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return nil
	}
	return f.calls[len(f.calls)-1]
}

func find[T any](l []T, id int64, idOf func(T) int64, kind string) (T, error) {
	for _, v := range l {
		if idOf(v) == id {
			return v, nil
		}
	}
	var zero T
	return zero, world.NotFound(kind, id)
}

func (f *fakePlatform) result(id int64) (platform.Result, error) {
	s, err := find(f.w.Subscriptions, id, func(s world.Subscription) int64 { return s.ID }, "subscription")
	if err != nil {
		return platform.Result{}, err
	}
	o := f.w.Orders[0]
	return platform.Result{Subscription: s, Order: &o, ExchangeIDs: []int64{3}}, nil
}

func (f *fakePlatform) Workspaces(ctx context.Context) ([]platform.WorkspaceInfo, error) {
	if err := f.enter("default", nil); err != nil {
		return nil, err
	}
	return []platform.WorkspaceInfo{fixtureWorkspace()}, nil
}

func (f *fakePlatform) CreateWorkspace(ctx context.Context, req platform.CreateWorkspace) (platform.WorkspaceInfo, error) {
	if err := f.enter("default", req); err != nil {
		return platform.WorkspaceInfo{}, err
	}
	if req.Name == "default" {
		return platform.WorkspaceInfo{}, world.Errorf(world.CodeConflict, "workspace default already exists")
	}
	w := fixtureWorkspace()
	w.Name, w.Seed, w.VendorURL = req.Name, req.Seed, req.VendorURL
	return w, nil
}

func (f *fakePlatform) Workspace(ctx context.Context, ws string) (platform.WorkspaceInfo, error) {
	if err := f.enter(ws, nil); err != nil {
		return platform.WorkspaceInfo{}, err
	}
	return fixtureWorkspace(), nil
}

func (f *fakePlatform) DeleteWorkspace(ctx context.Context, ws string) error {
	if err := f.enter(ws, nil); err != nil {
		return err
	}
	return world.Errorf(world.CodeConflict, "the workspace default cannot be deleted")
}

func (f *fakePlatform) ResetWorkspace(ctx context.Context, ws string) (platform.WorkspaceInfo, error) {
	return f.Workspace(ctx, ws)
}

func (f *fakePlatform) World(ctx context.Context, ws string) (*world.World, error) {
	if err := f.enter(ws, nil); err != nil {
		return nil, err
	}
	return f.w.Clone(), nil
}

func (f *fakePlatform) Distributors(ctx context.Context, ws string) ([]world.Distributor, error) {
	return f.w.Distributors, f.enter(ws, nil)
}

func (f *fakePlatform) Distributor(ctx context.Context, ws string, id int64) (world.Distributor, error) {
	if err := f.enter(ws, id); err != nil {
		return world.Distributor{}, err
	}
	return find(f.w.Distributors, id, func(v world.Distributor) int64 { return v.ID }, "distributor")
}

func (f *fakePlatform) Resellers(ctx context.Context, ws string) ([]world.Reseller, error) {
	return f.w.Resellers, f.enter(ws, nil)
}

func (f *fakePlatform) Reseller(ctx context.Context, ws string, id int64) (world.Reseller, error) {
	if err := f.enter(ws, id); err != nil {
		return world.Reseller{}, err
	}
	return find(f.w.Resellers, id, func(v world.Reseller) int64 { return v.ID }, "reseller")
}

func (f *fakePlatform) Tenants(ctx context.Context, ws string) ([]world.Tenant, error) {
	return f.w.Tenants, f.enter(ws, nil)
}

func (f *fakePlatform) Tenant(ctx context.Context, ws string, id int64) (world.Tenant, error) {
	if err := f.enter(ws, id); err != nil {
		return world.Tenant{}, err
	}
	return find(f.w.Tenants, id, func(v world.Tenant) int64 { return v.ID }, "tenant")
}

func (f *fakePlatform) Users(ctx context.Context, ws string) ([]world.User, error) {
	return f.w.Users, f.enter(ws, nil)
}

func (f *fakePlatform) User(ctx context.Context, ws string, id int64) (world.User, error) {
	if err := f.enter(ws, id); err != nil {
		return world.User{}, err
	}
	return find(f.w.Users, id, func(v world.User) int64 { return v.ID }, "user")
}

func (f *fakePlatform) Plans(ctx context.Context, ws string) ([]world.Plan, error) {
	return f.w.Plans, f.enter(ws, nil)
}

func (f *fakePlatform) Plan(ctx context.Context, ws string, id int64) (world.Plan, error) {
	if err := f.enter(ws, id); err != nil {
		return world.Plan{}, err
	}
	return find(f.w.Plans, id, func(v world.Plan) int64 { return v.ID }, "plan")
}

func (f *fakePlatform) Subscriptions(ctx context.Context, ws string, flt platform.SubscriptionFilter) ([]world.Subscription, error) {
	if err := f.enter(ws, flt); err != nil {
		return nil, err
	}
	var out []world.Subscription
	for _, s := range f.w.Subscriptions {
		if (flt.TenantID == 0 || s.TenantID == flt.TenantID) && (flt.PlanID == 0 || s.PlanID == flt.PlanID) && (flt.Status == "" || s.Status == flt.Status) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakePlatform) Subscription(ctx context.Context, ws string, id int64) (world.Subscription, error) {
	if err := f.enter(ws, id); err != nil {
		return world.Subscription{}, err
	}
	return find(f.w.Subscriptions, id, func(v world.Subscription) int64 { return v.ID }, "subscription")
}

func (f *fakePlatform) Orders(ctx context.Context, ws string, subscriptionID int64) ([]world.Order, error) {
	if err := f.enter(ws, subscriptionID); err != nil {
		return nil, err
	}
	var out []world.Order
	for _, o := range f.w.Orders {
		if subscriptionID == 0 || o.SubscriptionID == subscriptionID {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *fakePlatform) Order(ctx context.Context, ws string, id int64) (world.Order, error) {
	if err := f.enter(ws, id); err != nil {
		return world.Order{}, err
	}
	return find(f.w.Orders, id, func(v world.Order) int64 { return v.ID }, "order")
}

func (f *fakePlatform) Integration(ctx context.Context, ws string) (vendorapi.Settings, error) {
	return fixtureSettings(), f.enter(ws, nil)
}

func (f *fakePlatform) SetIntegration(ctx context.Context, ws string, s vendorapi.Settings) (vendorapi.Settings, error) {
	if err := f.enter(ws, s); err != nil {
		return vendorapi.Settings{}, err
	}
	s = s.Normalize()
	if err := s.Validate(); err != nil {
		return vendorapi.Settings{}, err
	}
	return s, nil
}

func (f *fakePlatform) CheckIntegration(ctx context.Context, ws string) (platform.CheckResult, error) {
	return platform.CheckResult{Ready: true, Message: "Your integration is ready to use.", URL: "http://127.0.0.1:9090/check?ap_guid=6f1c&reseller_id=3", ExchangeID: 1}, f.enter(ws, nil)
}

func (f *fakePlatform) PlaceOrder(ctx context.Context, ws string, req platform.OrderRequest) (platform.Result, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.Result{}, err
	}
	if _, err := find(f.w.Tenants, req.TenantID, func(v world.Tenant) int64 { return v.ID }, "tenant"); err != nil {
		return platform.Result{}, world.Invalid("tenant_id", "no tenant %d", req.TenantID)
	}
	r, err := f.result(14)
	r.Warnings = []string{"the plan allows no auto-renew; auto_renew is off"}
	return r, err
}

func (f *fakePlatform) Renew(ctx context.Context, ws string, id int64, req platform.RenewRequest) (platform.Result, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.Result{}, err
	}
	return f.result(id)
}

func (f *fakePlatform) ChangeResources(ctx context.Context, ws string, id int64, resources map[string]int64) (platform.Result, error) {
	if err := f.enter(ws, resources); err != nil {
		return platform.Result{}, err
	}
	return f.result(id)
}

func (f *fakePlatform) SwitchPlan(ctx context.Context, ws string, id int64, req platform.SwitchRequest) (platform.Result, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.Result{}, err
	}
	return f.result(id)
}

func (f *fakePlatform) Stop(ctx context.Context, ws string, id int64) (platform.Result, error) {
	if err := f.enter(ws, id); err != nil {
		return platform.Result{}, err
	}
	return f.result(id)
}

func (f *fakePlatform) Activate(ctx context.Context, ws string, id int64) (platform.Result, error) {
	if err := f.enter(ws, id); err != nil {
		return platform.Result{}, err
	}
	return platform.Result{}, world.Errorf(world.CodeConflict, "subscription %d is active; only a stopped subscription can be activated", id)
}

func (f *fakePlatform) Delete(ctx context.Context, ws string, id int64) (platform.Result, error) {
	if err := f.enter(ws, id); err != nil {
		return platform.Result{}, err
	}
	r, err := f.result(id)
	r.Order = nil // an operation without an order
	return r, err
}

func (f *fakePlatform) Retry(ctx context.Context, ws string, id int64) (platform.Result, error) {
	if err := f.enter(ws, id); err != nil {
		return platform.Result{}, err
	}
	return f.result(id)
}

func (f *fakePlatform) UpdateSubscription(ctx context.Context, ws string, id int64, patch platform.SubscriptionPatch) (world.Subscription, error) {
	if err := f.enter(ws, patch); err != nil {
		return world.Subscription{}, err
	}
	s, err := find(f.w.Subscriptions, id, func(v world.Subscription) int64 { return v.ID }, "subscription")
	if patch.Name != nil {
		s.Name = *patch.Name
	}
	if patch.AutoRenew != nil {
		s.AutoRenew = *patch.AutoRenew
	}
	return s, err
}

func (f *fakePlatform) Clock(ctx context.Context, ws string) (platform.ClockInfo, error) {
	if err := f.enter(ws, nil); err != nil {
		return platform.ClockInfo{}, err
	}
	return platform.ClockInfo{Now: t0(), Epoch: t0(), Next: &platform.ClockEvent{At: t0().Add(time.Hour), Kind: platform.EventAutoRenew, SubscriptionID: 15}}, nil
}

func (f *fakePlatform) Advance(ctx context.Context, ws string, req platform.AdvanceRequest) (platform.AdvanceResult, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.AdvanceResult{}, err
	}
	if req.By == "" && req.To == nil {
		return platform.AdvanceResult{}, world.Invalid("by", "give by or to")
	}
	return platform.AdvanceResult{From: t0(), Now: t0().Add(time.Hour), EventsTotal: 1, Events: []platform.ClockEvent{{
		At: t0().Add(time.Hour), Kind: platform.EventAutoRenew, SubscriptionID: 15, Outcome: platform.OutcomeDone,
		Status: world.StatusActive, OrderID: 16, ExchangeIDs: []int64{1},
	}}}, nil
}

func (f *fakePlatform) Exchanges(ctx context.Context, ws string, flt journal.Filter) ([]journal.Exchange, error) {
	if err := f.enter(ws, flt); err != nil {
		return nil, err
	}
	var out []journal.Exchange
	for _, x := range fixtureExchanges() {
		if flt.Match(&x) && (flt.Limit == 0 || len(out) < flt.Limit) {
			out = append(out, x)
		}
	}
	return out, nil
}

func (f *fakePlatform) Exchange(ctx context.Context, ws string, id int64) (journal.Exchange, error) {
	if err := f.enter(ws, id); err != nil {
		return journal.Exchange{}, err
	}
	return find(fixtureExchanges(), id, func(v journal.Exchange) int64 { return v.ID }, "exchange")
}

func (f *fakePlatform) Import(ctx context.Context, ws string, xs []journal.Exchange) (platform.ImportResult, error) {
	if err := f.enter(ws, xs); err != nil {
		return platform.ImportResult{}, err
	}
	if len(xs) == 0 {
		return platform.ImportResult{}, nil
	}
	return platform.ImportResult{Imported: len(xs), FirstID: 101, LastID: 100 + int64(len(xs))}, nil
}

// Replay compares the fixture's recorded answers with fixed new ones: the
// check equal, the create still failing, the renew now accepted.
func (f *fakePlatform) Replay(ctx context.Context, ws string, req platform.ReplayRequest) (replay.Report, error) {
	if err := f.enter(ws, req); err != nil {
		return replay.Report{}, err
	}
	ignore, err := replay.ParsePatterns(req.Ignore)
	if err != nil {
		return replay.Report{}, world.Invalid("ignore", "%v", err)
	}
	now := []*journal.Response{
		{Status: 200, Body: "ok"},
		nil,
		{Status: 200, Body: `{"task":null,"note":"accepted"}`},
	}
	rep := replay.Report{Target: req.VendorURL, Ignore: req.Ignore, Items: []replay.Item{}}
	if rep.Ignore == nil {
		rep.Ignore = []string{}
	}
	for i, x := range fixtureExchanges() {
		if !req.Filter.Match(&x) {
			continue
		}
		it := replay.Item{ExchangeID: x.ID, Event: x.Event, Method: x.Request.Method, URL: x.Request.URL, DurationMS: 1}
		it.Diff = replay.Compare(x.Response, now[i], ignore)
		if now[i] == nil {
			it.Error = "connection refused"
		}
		rep.Add(it)
	}
	return rep, nil
}

// userCall is what a fake user operation was asked, for the table test.
type userCall struct {
	Op       string
	ID       int64
	Password string
}

func (f *fakePlatform) userResult(ws string, req any, id int64, password string) (platform.UserResult, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.UserResult{}, err
	}
	u, err := find(f.w.Users, id, func(v world.User) int64 { return v.ID }, "user")
	if err != nil {
		return platform.UserResult{}, err
	}
	return platform.UserResult{User: u, Password: password, ExchangeIDs: []int64{7}}, nil
}

func (f *fakePlatform) CreateUser(ctx context.Context, ws string, req platform.CreateUserRequest) (platform.UserResult, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.UserResult{}, err
	}
	u := world.User{ID: 99, TenantID: req.TenantID, Email: req.Email, FirstName: req.FirstName, LastName: req.LastName,
		Role: req.Role, Status: world.UserActive, VendorID: "u-99", PasswordResets: 1}
	if u.Role == "" {
		u.Role = world.RoleUser
	}
	return platform.UserResult{User: u, Password: "Gen3rated!pass", ExchangeIDs: []int64{8}}, nil
}

func (f *fakePlatform) UpdateUser(ctx context.Context, ws string, id int64, patch platform.UserPatch) (platform.UserResult, error) {
	return f.userResult(ws, patch, id, "")
}

func (f *fakePlatform) DeleteUser(ctx context.Context, ws string, id int64) (platform.UserResult, error) {
	return f.userResult(ws, userCall{Op: "delete", ID: id}, id, "")
}

func (f *fakePlatform) AttachUser(ctx context.Context, ws string, id int64, password string) (platform.UserResult, error) {
	return f.userResult(ws, userCall{Op: "attach", ID: id, Password: password}, id, password)
}

func (f *fakePlatform) ActivateUser(ctx context.Context, ws string, id int64) (platform.UserResult, error) {
	return f.userResult(ws, userCall{Op: "activate", ID: id}, id, "")
}

func (f *fakePlatform) DeactivateUser(ctx context.Context, ws string, id int64) (platform.UserResult, error) {
	return f.userResult(ws, userCall{Op: "deactivate", ID: id}, id, "")
}

func (f *fakePlatform) ResetUserPassword(ctx context.Context, ws string, id int64, password string) (platform.UserResult, error) {
	return f.userResult(ws, userCall{Op: "reset-password", ID: id, Password: password}, id, password)
}

func (f *fakePlatform) Complete(ctx context.Context, ws string, id int64, req platform.CompleteRequest) (platform.Result, error) {
	if err := f.enter(ws, req); err != nil {
		return platform.Result{}, err
	}
	r, err := f.result(id)
	r.ExchangeIDs = []int64{}
	return r, err
}

func (f *fakePlatform) Fail(ctx context.Context, ws string, id int64, message string) (platform.Result, error) {
	if err := f.enter(ws, message); err != nil {
		return platform.Result{}, err
	}
	if message == "" {
		return platform.Result{}, world.Invalid("message", "must say why the operation failed")
	}
	r, err := f.result(id)
	r.ExchangeIDs = []int64{}
	return r, err
}

func (f *fakePlatform) Approve(ctx context.Context, ws string, id int64) (platform.Result, error) {
	if err := f.enter(ws, id); err != nil {
		return platform.Result{}, err
	}
	r, err := f.result(id)
	r.Order = nil
	return r, err
}

func (f *fakePlatform) Decline(ctx context.Context, ws string, id int64) (platform.Result, error) {
	if err := f.enter(ws, id); err != nil {
		return platform.Result{}, err
	}
	if id == 15 {
		return platform.Result{}, world.Errorf(world.CodeConflict, "cannot decline subscription 15: it is installation_failed, not waiting for manual approval")
	}
	r, err := f.result(id)
	r.Order, r.ExchangeIDs = nil, []int64{}
	return r, err
}

func fixtureMails() []world.Mail {
	return []world.Mail{
		{ID: 1, To: "ops@vendor.example", Subject: "Action required: provision new subscription 15 (Backup)", Body: "…", Operation: world.OpCreate, SubscriptionID: 15, CreatedAt: t0()},
		{ID: 2, To: "ops@vendor.example", Subject: "User create: kim@example.com (user 5)", Body: "…", Operation: "user_create", UserID: 5, CreatedAt: t0()},
		{ID: 3, To: "ops@vendor.example", Subject: "Action required: renew subscription 14 (Backup)", Body: "…", Operation: world.OpRenew, SubscriptionID: 14, CreatedAt: t1()},
	}
}

func (f *fakePlatform) Outbox(ctx context.Context, ws string, flt platform.OutboxFilter) ([]world.Mail, error) {
	if err := f.enter(ws, flt); err != nil {
		return nil, err
	}
	out := []world.Mail{}
	for _, m := range fixtureMails() {
		if m.ID > flt.AfterID && (flt.Operation == "" || m.Operation == flt.Operation) &&
			(flt.SubscriptionID == 0 || m.SubscriptionID == flt.SubscriptionID) && (flt.UserID == 0 || m.UserID == flt.UserID) &&
			(flt.Limit == 0 || len(out) < flt.Limit) {
			out = append(out, m)
		}
	}
	return out, nil
}

// fakeRuns is a scenario runner that records what it was asked.
type fakeRuns struct {
	mu  sync.Mutex
	got []ScenarioRunRequest
}

func (f *fakeRuns) RunScenario(ctx context.Context, ws string, req ScenarioRunRequest) (ScenarioRun, error) {
	if ws != "default" {
		return ScenarioRun{}, world.NotFound("workspace", ws)
	}
	if strings.Contains(req.Source, "renw") {
		return ScenarioRun{}, &world.Error{Code: world.CodeInvalidArgument, Message: "source: 1 problem",
			Details: []world.Detail{{Field: "source:4:5 steps[1].renw", Problem: "unknown action"}}}
	}
	f.mu.Lock()
	f.got = append(f.got, req)
	f.mu.Unlock()
	return ScenarioRun{ID: 1, Workspace: ws, Scenario: req.Name, Passed: true, CreatedAt: t0(), Report: json.RawMessage(`{"passed":true}`)}, nil
}

func (f *fakeRuns) ScenarioRun(ctx context.Context, ws string, id int64) (ScenarioRun, error) {
	if id != 1 {
		return ScenarioRun{}, world.NotFound("scenario run", id)
	}
	return ScenarioRun{ID: 1, Workspace: ws, Scenario: "integration-check", Passed: true, CreatedAt: t0(), Report: json.RawMessage(`{"passed":true}`)}, nil
}
