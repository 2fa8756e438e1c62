package operator

// The handlers of api.StrictServerInterface. Each converts its request to
// the domain, calls the platform, and converts the answer back; an error
// is returned as is, for writeError to render.

import (
	"bytes"
	"context"

	"github.com/apsandbox/apsandbox"
	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// Paging of the exchange list.
const (
	defaultExchangeLimit = 100
	maxExchangeLimit     = 1000
)

// noBody answers a required body that is missing; the strict server
// normally refuses such a request before the handler runs.
func noBody() error {
	return world.Errorf(world.CodeInvalidArgument, "request body is required")
}

// ---- health ----

// Healthz answers while the process serves at all.
func (s *Server) Healthz(context.Context, api.HealthzRequestObject) (api.HealthzResponseObject, error) {
	return api.Healthz200JSONResponse{Status: api.HealthStatusStatusOk}, nil
}

// Readyz answers 200 when the readiness function says so, else 503.
func (s *Server) Readyz(context.Context, api.ReadyzRequestObject) (api.ReadyzResponseObject, error) {
	if !s.ready() {
		return api.Readyz503JSONResponse{Status: api.HealthStatusStatusUnavailable}, nil
	}
	return api.Readyz200JSONResponse{Status: api.HealthStatusStatusOk}, nil
}

// GetOpenAPI serves the embedded openapi.yaml.
func (s *Server) GetOpenAPI(context.Context, api.GetOpenAPIRequestObject) (api.GetOpenAPIResponseObject, error) {
	return api.GetOpenAPI200TextYamlResponse{
		Body:          bytes.NewReader(apsandbox.OpenAPI),
		ContentLength: int64(len(apsandbox.OpenAPI)),
	}, nil
}

// ---- workspaces ----

// ListWorkspaces lists every workspace.
func (s *Server) ListWorkspaces(ctx context.Context, _ api.ListWorkspacesRequestObject) (api.ListWorkspacesResponseObject, error) {
	ws, err := s.p.Workspaces(ctx)
	if err != nil {
		return nil, err
	}
	return api.ListWorkspaces200JSONResponse{Items: each(ws, toWorkspaceInfo)}, nil
}

// CreateWorkspace creates a workspace.
func (s *Server) CreateWorkspace(ctx context.Context, req api.CreateWorkspaceRequestObject) (api.CreateWorkspaceResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	w, err := s.p.CreateWorkspace(ctx, fromCreateWorkspace(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateWorkspace201JSONResponse(toWorkspaceInfo(w)), nil
}

// GetWorkspace gets one workspace.
func (s *Server) GetWorkspace(ctx context.Context, req api.GetWorkspaceRequestObject) (api.GetWorkspaceResponseObject, error) {
	w, err := s.p.Workspace(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.GetWorkspace200JSONResponse(toWorkspaceInfo(w)), nil
}

// DeleteWorkspace deletes a workspace.
func (s *Server) DeleteWorkspace(ctx context.Context, req api.DeleteWorkspaceRequestObject) (api.DeleteWorkspaceResponseObject, error) {
	if err := s.p.DeleteWorkspace(ctx, req.Ws); err != nil {
		return nil, err
	}
	return api.DeleteWorkspace204Response{}, nil
}

// ResetWorkspace reseeds a workspace's world.
func (s *Server) ResetWorkspace(ctx context.Context, req api.ResetWorkspaceRequestObject) (api.ResetWorkspaceResponseObject, error) {
	w, err := s.p.ResetWorkspace(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.ResetWorkspace200JSONResponse(toWorkspaceInfo(w)), nil
}

// GetWorld answers the whole world.
func (s *Server) GetWorld(ctx context.Context, req api.GetWorldRequestObject) (api.GetWorldResponseObject, error) {
	w, err := s.p.World(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, world.Errorf(world.CodeInternal, "workspace %s has no world", req.Ws)
	}
	return api.GetWorld200JSONResponse(toWorld(w)), nil
}

// ---- integration ----

// GetIntegration answers the integration settings.
func (s *Server) GetIntegration(ctx context.Context, req api.GetIntegrationRequestObject) (api.GetIntegrationResponseObject, error) {
	set, err := s.p.Integration(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.GetIntegration200JSONResponse(toSettings(set)), nil
}

// PutIntegration replaces the integration settings.
func (s *Server) PutIntegration(ctx context.Context, req api.PutIntegrationRequestObject) (api.PutIntegrationResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	set, err := s.p.SetIntegration(ctx, req.Ws, fromSettingsUpdate(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.PutIntegration200JSONResponse(toSettings(set)), nil
}

// CheckIntegration calls the vendor's /check.
func (s *Server) CheckIntegration(ctx context.Context, req api.CheckIntegrationRequestObject) (api.CheckIntegrationResponseObject, error) {
	r, err := s.p.CheckIntegration(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.CheckIntegration200JSONResponse(toCheckResult(r)), nil
}

// ---- the world, read only ----

// ListDistributors lists the distributors.
func (s *Server) ListDistributors(ctx context.Context, req api.ListDistributorsRequestObject) (api.ListDistributorsResponseObject, error) {
	l, err := s.p.Distributors(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.ListDistributors200JSONResponse{Items: each(l, toDistributor)}, nil
}

// GetDistributor gets one distributor.
func (s *Server) GetDistributor(ctx context.Context, req api.GetDistributorRequestObject) (api.GetDistributorResponseObject, error) {
	v, err := s.p.Distributor(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetDistributor200JSONResponse(toDistributor(v)), nil
}

// ListResellers lists the resellers.
func (s *Server) ListResellers(ctx context.Context, req api.ListResellersRequestObject) (api.ListResellersResponseObject, error) {
	l, err := s.p.Resellers(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.ListResellers200JSONResponse{Items: each(l, toReseller)}, nil
}

// GetReseller gets one reseller.
func (s *Server) GetReseller(ctx context.Context, req api.GetResellerRequestObject) (api.GetResellerResponseObject, error) {
	v, err := s.p.Reseller(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetReseller200JSONResponse(toReseller(v)), nil
}

// ListTenants lists the tenants.
func (s *Server) ListTenants(ctx context.Context, req api.ListTenantsRequestObject) (api.ListTenantsResponseObject, error) {
	l, err := s.p.Tenants(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.ListTenants200JSONResponse{Items: each(l, toTenant)}, nil
}

// GetTenant gets one tenant.
func (s *Server) GetTenant(ctx context.Context, req api.GetTenantRequestObject) (api.GetTenantResponseObject, error) {
	v, err := s.p.Tenant(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetTenant200JSONResponse(toTenant(v)), nil
}

// ListUsers lists the users.
func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	l, err := s.p.Users(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.ListUsers200JSONResponse{Items: each(l, toUser)}, nil
}

// GetUser gets one user.
func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	v, err := s.p.User(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(toUser(v)), nil
}

// ListPlans lists the plans.
func (s *Server) ListPlans(ctx context.Context, req api.ListPlansRequestObject) (api.ListPlansResponseObject, error) {
	l, err := s.p.Plans(ctx, req.Ws)
	if err != nil {
		return nil, err
	}
	return api.ListPlans200JSONResponse{Items: each(l, toPlan)}, nil
}

// GetPlan gets one plan.
func (s *Server) GetPlan(ctx context.Context, req api.GetPlanRequestObject) (api.GetPlanResponseObject, error) {
	v, err := s.p.Plan(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetPlan200JSONResponse(toPlan(v)), nil
}

// ListOrders lists the orders, of one subscription when asked.
func (s *Server) ListOrders(ctx context.Context, req api.ListOrdersRequestObject) (api.ListOrdersResponseObject, error) {
	l, err := s.p.Orders(ctx, req.Ws, deref(req.Params.SubscriptionID))
	if err != nil {
		return nil, err
	}
	return api.ListOrders200JSONResponse{Items: each(l, toOrder)}, nil
}

// GetOrder gets one order.
func (s *Server) GetOrder(ctx context.Context, req api.GetOrderRequestObject) (api.GetOrderResponseObject, error) {
	v, err := s.p.Order(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetOrder200JSONResponse(toOrder(v)), nil
}

// ---- subscriptions ----

// ListSubscriptions lists the subscriptions matching the filters.
func (s *Server) ListSubscriptions(ctx context.Context, req api.ListSubscriptionsRequestObject) (api.ListSubscriptionsResponseObject, error) {
	f := platform.SubscriptionFilter{
		TenantID: deref(req.Params.TenantID),
		PlanID:   deref(req.Params.PlanID),
		Status:   world.Status(deref(req.Params.Status)),
	}
	l, err := s.p.Subscriptions(ctx, req.Ws, f)
	if err != nil {
		return nil, err
	}
	return api.ListSubscriptions200JSONResponse{Items: each(l, toSubscription)}, nil
}

// GetSubscription gets one subscription.
func (s *Server) GetSubscription(ctx context.Context, req api.GetSubscriptionRequestObject) (api.GetSubscriptionResponseObject, error) {
	v, err := s.p.Subscription(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.GetSubscription200JSONResponse(toSubscription(v)), nil
}

// PlaceOrder orders a new subscription.
func (s *Server) PlaceOrder(ctx context.Context, req api.PlaceOrderRequestObject) (api.PlaceOrderResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.p.PlaceOrder(ctx, req.Ws, fromOrderRequest(*req.Body))
	if err != nil {
		return nil, err
	}
	if r.Refusal != nil {
		// Nothing was created: the vendor refused the order attributes.
		return api.PlaceOrder200JSONResponse(toOperationResult(r)), nil
	}
	return api.PlaceOrder201JSONResponse(toOperationResult(r)), nil
}

// UpdateSubscription changes options of a subscription.
func (s *Server) UpdateSubscription(ctx context.Context, req api.UpdateSubscriptionRequestObject) (api.UpdateSubscriptionResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	v, err := s.p.UpdateSubscription(ctx, req.Ws, req.ID, fromSubscriptionPatch(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateSubscription200JSONResponse(toSubscription(v)), nil
}

// result converts an operation's answer for the *200JSONResponse types,
// which all embed OperationResultJSONResponse.
func result(r platform.Result) api.OperationResultJSONResponse {
	return api.OperationResultJSONResponse(toOperationResult(r))
}

// RenewSubscription renews a subscription.
func (s *Server) RenewSubscription(ctx context.Context, req api.RenewSubscriptionRequestObject) (api.RenewSubscriptionResponseObject, error) {
	r, err := s.p.Renew(ctx, req.Ws, req.ID, fromRenewRequest(req.Body))
	if err != nil {
		return nil, err
	}
	return api.RenewSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// ChangeResources changes resource quantities.
func (s *Server) ChangeResources(ctx context.Context, req api.ChangeResourcesRequestObject) (api.ChangeResourcesResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.p.ChangeResources(ctx, req.Ws, req.ID, quantities(&req.Body.Resources))
	if err != nil {
		return nil, err
	}
	return api.ChangeResources200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// SwitchPlan switches a subscription to another plan.
func (s *Server) SwitchPlan(ctx context.Context, req api.SwitchPlanRequestObject) (api.SwitchPlanResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.p.SwitchPlan(ctx, req.Ws, req.ID, fromSwitchPlanRequest(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.SwitchPlan200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// StopSubscription stops a subscription.
func (s *Server) StopSubscription(ctx context.Context, req api.StopSubscriptionRequestObject) (api.StopSubscriptionResponseObject, error) {
	r, err := s.p.Stop(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.StopSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// ActivateSubscription activates a stopped subscription.
func (s *Server) ActivateSubscription(ctx context.Context, req api.ActivateSubscriptionRequestObject) (api.ActivateSubscriptionResponseObject, error) {
	r, err := s.p.Activate(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.ActivateSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// DeleteSubscription deletes a subscription.
func (s *Server) DeleteSubscription(ctx context.Context, req api.DeleteSubscriptionRequestObject) (api.DeleteSubscriptionResponseObject, error) {
	r, err := s.p.Delete(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.DeleteSubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}

// RetrySubscription sends a failed operation again.
func (s *Server) RetrySubscription(ctx context.Context, req api.RetrySubscriptionRequestObject) (api.RetrySubscriptionResponseObject, error) {
	r, err := s.p.Retry(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.RetrySubscription200JSONResponse{OperationResultJSONResponse: result(r)}, nil
}
