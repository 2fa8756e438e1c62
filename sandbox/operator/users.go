package operator

import (
	"context"

	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
)

// CreateUser creates a user on a tenant and attaches it to the service.
func (s *Server) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	b := req.Body
	r, err := s.p.CreateUser(ctx, req.Ws, platform.CreateUserRequest{
		TenantID: b.TenantID, Email: b.Email, FirstName: b.FirstName, LastName: b.LastName,
		Role: string(deref(b.Role)), Password: deref(b.Password),
	})
	if err != nil {
		return nil, err
	}
	return api.CreateUser201JSONResponse{UserOperationResultJSONResponse: userResult(r)}, nil
}

// UpdateUser changes a user's names.
func (s *Server) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	if req.Body == nil {
		return nil, noBody()
	}
	r, err := s.p.UpdateUser(ctx, req.Ws, req.ID, platform.UserPatch{FirstName: req.Body.FirstName, LastName: req.Body.LastName})
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse{UserOperationResultJSONResponse: userResult(r)}, nil
}

// DeleteUser detaches a user and marks it deleted.
func (s *Server) DeleteUser(ctx context.Context, req api.DeleteUserRequestObject) (api.DeleteUserResponseObject, error) {
	r, err := s.p.DeleteUser(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.DeleteUser200JSONResponse{UserOperationResultJSONResponse: userResult(r)}, nil
}

// AttachUser attaches an existing user to the service.
func (s *Server) AttachUser(ctx context.Context, req api.AttachUserRequestObject) (api.AttachUserResponseObject, error) {
	var password string
	if req.Body != nil {
		password = deref(req.Body.Password)
	}
	r, err := s.p.AttachUser(ctx, req.Ws, req.ID, password)
	if err != nil {
		return nil, err
	}
	return api.AttachUser200JSONResponse{UserOperationResultJSONResponse: userResult(r)}, nil
}

// ActivateUser activates a deactivated user.
func (s *Server) ActivateUser(ctx context.Context, req api.ActivateUserRequestObject) (api.ActivateUserResponseObject, error) {
	r, err := s.p.ActivateUser(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.ActivateUser200JSONResponse{UserOperationResultJSONResponse: userResult(r)}, nil
}

// DeactivateUser deactivates a user.
func (s *Server) DeactivateUser(ctx context.Context, req api.DeactivateUserRequestObject) (api.DeactivateUserResponseObject, error) {
	r, err := s.p.DeactivateUser(ctx, req.Ws, req.ID)
	if err != nil {
		return nil, err
	}
	return api.DeactivateUser200JSONResponse{UserOperationResultJSONResponse: userResult(r)}, nil
}

// ResetUserPassword sets a user's password.
func (s *Server) ResetUserPassword(ctx context.Context, req api.ResetUserPasswordRequestObject) (api.ResetUserPasswordResponseObject, error) {
	var password string
	if req.Body != nil {
		password = deref(req.Body.Password)
	}
	r, err := s.p.ResetUserPassword(ctx, req.Ws, req.ID, password)
	if err != nil {
		return nil, err
	}
	return api.ResetUserPassword200JSONResponse{UserOperationResultJSONResponse: userResult(r)}, nil
}

func userResult(r platform.UserResult) api.UserOperationResultJSONResponse {
	ids := r.ExchangeIDs
	if ids == nil {
		ids = []int64{}
	}
	return api.UserOperationResultJSONResponse{User: toUser(r.User), Password: nonZero(r.Password), ExchangeIds: ids}
}
