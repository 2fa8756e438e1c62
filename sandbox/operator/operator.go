// Package operator is the operator API of the sandbox: the HTTP surface
// (gin, under /api/v1) through which a person, a script or a test drives a
// platform. Its shape is openapi.yaml; the server interface and models are
// generated from it into package api, and this package implements that
// interface by converting between the generated models and the domain
// types. Every request under /api/v1 is validated against the document
// before a handler runs, and every error, whatever produced it, is written
// by one function in the one error shape.
package operator

import (
	"context"
	"log/slog"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/replay"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// Platform is what the operator API drives: the method set of
// *platform.Platform. It is an interface so that handlers can be tested
// against a fake. Errors are *world.Error; their code decides the HTTP
// status.
type Platform interface {
	Workspaces(ctx context.Context) ([]platform.WorkspaceInfo, error)
	CreateWorkspace(ctx context.Context, req platform.CreateWorkspace) (platform.WorkspaceInfo, error)
	Workspace(ctx context.Context, ws string) (platform.WorkspaceInfo, error)
	DeleteWorkspace(ctx context.Context, ws string) error
	ResetWorkspace(ctx context.Context, ws string) (platform.WorkspaceInfo, error)
	World(ctx context.Context, ws string) (*world.World, error)

	Distributors(ctx context.Context, ws string) ([]world.Distributor, error)
	Distributor(ctx context.Context, ws string, id int64) (world.Distributor, error)
	Resellers(ctx context.Context, ws string) ([]world.Reseller, error)
	Reseller(ctx context.Context, ws string, id int64) (world.Reseller, error)
	Tenants(ctx context.Context, ws string) ([]world.Tenant, error)
	Tenant(ctx context.Context, ws string, id int64) (world.Tenant, error)
	Users(ctx context.Context, ws string) ([]world.User, error)
	User(ctx context.Context, ws string, id int64) (world.User, error)
	Plans(ctx context.Context, ws string) ([]world.Plan, error)
	Plan(ctx context.Context, ws string, id int64) (world.Plan, error)
	Subscriptions(ctx context.Context, ws string, f platform.SubscriptionFilter) ([]world.Subscription, error)
	Subscription(ctx context.Context, ws string, id int64) (world.Subscription, error)
	Orders(ctx context.Context, ws string, subscriptionID int64) ([]world.Order, error)
	Order(ctx context.Context, ws string, id int64) (world.Order, error)

	Integration(ctx context.Context, ws string) (vendorapi.Settings, error)
	SetIntegration(ctx context.Context, ws string, s vendorapi.Settings) (vendorapi.Settings, error)
	CheckIntegration(ctx context.Context, ws string) (platform.CheckResult, error)

	PlaceOrder(ctx context.Context, ws string, req platform.OrderRequest) (platform.Result, error)
	Renew(ctx context.Context, ws string, id int64, req platform.RenewRequest) (platform.Result, error)
	ChangeResources(ctx context.Context, ws string, id int64, resources map[string]int64) (platform.Result, error)
	SwitchPlan(ctx context.Context, ws string, id int64, req platform.SwitchRequest) (platform.Result, error)
	Stop(ctx context.Context, ws string, id int64) (platform.Result, error)
	Activate(ctx context.Context, ws string, id int64) (platform.Result, error)
	Delete(ctx context.Context, ws string, id int64) (platform.Result, error)
	Retry(ctx context.Context, ws string, id int64) (platform.Result, error)
	UpdateSubscription(ctx context.Context, ws string, id int64, patch platform.SubscriptionPatch) (world.Subscription, error)
	PullUsage(ctx context.Context, ws string, id int64) (platform.Result, error)
	PullConsumption(ctx context.Context, ws string, id int64, req platform.ConsumptionRequest) (platform.ConsumptionResult, error)
	OrderAttributes(ctx context.Context, ws string, req platform.OrderAttributesRequest) (platform.OrderAttributesResult, error)

	Complete(ctx context.Context, ws string, id int64, req platform.CompleteRequest) (platform.Result, error)
	Fail(ctx context.Context, ws string, id int64, message string) (platform.Result, error)
	Approve(ctx context.Context, ws string, id int64) (platform.Result, error)
	Decline(ctx context.Context, ws string, id int64) (platform.Result, error)
	Outbox(ctx context.Context, ws string, f platform.OutboxFilter) ([]world.Mail, error)

	CreateUser(ctx context.Context, ws string, req platform.CreateUserRequest) (platform.UserResult, error)
	UpdateUser(ctx context.Context, ws string, id int64, patch platform.UserPatch) (platform.UserResult, error)
	DeleteUser(ctx context.Context, ws string, id int64) (platform.UserResult, error)
	AttachUser(ctx context.Context, ws string, id int64, password string) (platform.UserResult, error)
	ActivateUser(ctx context.Context, ws string, id int64) (platform.UserResult, error)
	DeactivateUser(ctx context.Context, ws string, id int64) (platform.UserResult, error)
	ResetUserPassword(ctx context.Context, ws string, id int64, password string) (platform.UserResult, error)

	Clock(ctx context.Context, ws string) (platform.ClockInfo, error)
	Advance(ctx context.Context, ws string, req platform.AdvanceRequest) (platform.AdvanceResult, error)

	Exchanges(ctx context.Context, ws string, f journal.Filter) ([]journal.Exchange, error)
	Exchange(ctx context.Context, ws string, id int64) (journal.Exchange, error)
	Import(ctx context.Context, ws string, xs []journal.Exchange) (platform.ImportResult, error)
	Replay(ctx context.Context, ws string, req platform.ReplayRequest) (replay.Report, error)
}

// Server serves the operator API for one platform. It implements
// api.StrictServerInterface; Register mounts it on a gin router.
type Server struct {
	p     Platform
	log   *slog.Logger
	ready func() bool
	spec  *spec
	// token is the control token that unlocks raw exchanges; "" locks
	// them for everyone.
	token     string
	version   string
	scenarios ScenarioRunner
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger; only internal errors are logged. The default
// discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) {
		if l != nil {
			s.log = l
		}
	}
}

// WithReadiness sets the function /readyz asks; the default is always
// ready.
func WithReadiness(ready func() bool) Option {
	return func(s *Server) {
		if ready != nil {
			s.ready = ready
		}
	}
}

// WithControlToken sets the bearer token that lets a caller read
// exchanges unredacted. Without one, raw=true is refused to everyone.
func WithControlToken(token string) Option {
	return func(s *Server) { s.token = token }
}

// WithVersion names the sandbox version in exports (HAR creator).
func WithVersion(v string) Option {
	return func(s *Server) {
		if v != "" {
			s.version = v
		}
	}
}

var _ api.StrictServerInterface = (*Server)(nil)

// New returns the operator API for p. It panics if the embedded
// openapi.yaml does not load, which the package's tests rule out: the
// document is compiled into the binary, so a broken one is a build defect,
// not a runtime condition.
func New(p Platform, opts ...Option) *Server {
	sp, err := loadSpec()
	if err != nil {
		panic("operator: " + err.Error())
	}
	s := &Server{
		p:       p,
		log:     slog.New(slog.DiscardHandler),
		ready:   func() bool { return true },
		spec:    sp,
		version: "dev",
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Register mounts the whole API on r: /healthz, /readyz, /openapi.yaml and
// everything under /api/v1, each /api/v1 request validated against
// openapi.yaml first. When r is the *gin.Engine itself, Register also sets
// its NoRoute and NoMethod handlers so that an unknown route answers in the
// error shape: 404, or 405 with Allow when only the method is wrong and
// the engine's HandleMethodNotAllowed is set.
func (s *Server) Register(r gin.IRouter) {
	if e, ok := r.(*gin.Engine); ok {
		e.NoRoute(s.NoRoute)
		e.NoMethod(s.NoMethod)
		// Handlers receive the gin context; let it carry what the
		// caller middleware puts into the request's context.
		e.ContextWithFallback = true
	}
	h := api.NewStrictHandlerWithOptions(s, nil, api.StrictGinServerOptions{
		RequestErrorHandlerFunc:  s.requestBodyError,
		HandlerErrorFunc:         s.writeError,
		ResponseErrorHandlerFunc: s.responseError,
	})
	api.RegisterHandlersWithOptions(r.Group("", s.validateRequest, s.caller), h, api.GinServerOptions{
		ErrorHandler: s.parameterError,
	})
}

// spec is the loaded document with the router that finds an operation for
// a request.
type spec struct {
	doc    *openapi3.T
	router routers.Router
	// as30 is doc read as OpenAPI 3.0, for checking requests; see
	// loadSpec.
	as30 *openapi3.T
}
