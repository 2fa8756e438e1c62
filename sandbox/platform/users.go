package platform

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"
	"unicode"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// UserResult is what a user operation answers. A vendor refusal is not an
// error: the user carries it in LastError, and the change it asked for is
// not made.
type UserResult struct {
	User world.User
	// Password is the one sent to the vendor by create, attach and
	// reset-password; empty otherwise.
	Password    string
	ExchangeIDs []int64
}

// CreateUserRequest creates a user on a tenant.
type CreateUserRequest struct {
	TenantID                   int64
	Email, FirstName, LastName string
	// Role defaults to world.RoleUser.
	Role string
	// Password defaults to a generated one.
	Password string
}

// UserPatch changes a user's names; nil leaves one as it is.
type UserPatch struct {
	FirstName, LastName *string
}

// busy marks a user with a call in flight. The generation tells a mark
// left by a call that outlived a reset, which holds nobody back: the
// reset world may have a user of the same id.
type busy struct {
	action string
	gen    int
}

// userFlight is a user operation between its checks and the vendor's
// answer. ok applies the success to the user (with ws.mu held).
type userFlight struct {
	ws       *workspace
	gen      int
	now      time.Time
	userID   int64
	action   string
	password string
	call     vendorapi.Call
	ok       func(u *world.User, ans vendorapi.Answer)
	// done and batch belong to an operation that made its change at once
	// (no call): its answer and its batch were taken under the lock that
	// made the change, so a reset after it cannot come in between.
	done  *UserResult
	batch *journal.Batch
}

// localUser finishes, with ws.mu held, a user operation that calls no
// one: it takes the answer and submits the change.
func (p *Platform) localUser(ws *workspace, u *world.User, action, password string) *userFlight {
	b := ws.batch()
	p.store.Submit(b)
	return &userFlight{ws: ws, userID: u.ID, action: action, password: password, batch: b,
		done: &UserResult{User: *u, Password: password, ExchangeIDs: []int64{}}}
}

// CreateUser creates a user on a tenant and attaches it to the vendor's
// service (/user/create). The user exists on the platform whatever the
// vendor answers; a refusal leaves it unattached, with LastError, for
// AttachUser to try again.
func (p *Platform) CreateUser(ctx context.Context, name string, req CreateUserRequest) (UserResult, error) {
	ws, err := p.lock(name)
	if err != nil {
		return UserResult{}, err
	}
	f, err := func() (*userFlight, error) {
		defer ws.mu.Unlock()
		w := ws.world
		tn, ok := w.Tenant(req.TenantID)
		if !ok {
			return nil, world.Invalid("tenant_id", "tenant %d not found", req.TenantID)
		}
		email := strings.TrimSpace(req.Email)
		if err := world.ValidateEmail(email); err != nil {
			return nil, world.Invalid("email", "%v", err)
		}
		for i := range w.Users {
			if u := &w.Users[i]; u.Status != world.UserDeleted && strings.EqualFold(u.Email, email) {
				return nil, world.Errorf(world.CodeConflict, "e-mail %s is the login of user %d already", email, u.ID)
			}
		}
		first, err := personName("first_name", req.FirstName)
		if err != nil {
			return nil, err
		}
		last, err := personName("last_name", req.LastName)
		if err != nil {
			return nil, err
		}
		role := req.Role
		switch role {
		case "":
			role = world.RoleUser
		case world.RoleOwner:
			if o := owner(w, tn.ID); o != nil {
				return nil, world.Errorf(world.CodeConflict, "tenant %d has an owner already (user %d); an account has exactly one", tn.ID, o.ID)
			}
		case world.RoleAdmin, world.RoleFinanceManager, world.RoleUser:
		default:
			return nil, world.Invalid("role", "must be owner, admin, finance_manager or user, got %q", role)
		}
		if req.Password != "" {
			if err := checkPassword(req.Password); err != nil {
				return nil, err
			}
		}
		if err := ws.ready(); err != nil {
			return nil, err
		}
		// Every check passed: from here the world changes.
		w.Users = append(w.Users, world.User{
			ID: w.NewID(), TenantID: tn.ID, Email: email, FirstName: first, LastName: last,
			Role: role, Status: world.UserActive,
		})
		u := &w.Users[len(w.Users)-1]
		ws.touch(recUser, u.ID)
		if ws.manual() {
			return p.userByMail(ws, u, "create-user", vendorapi.EventUserCreate, "", nil), nil
		}
		return p.attachFlight(ws, u, req.Password, "create-user"), nil
	}()
	if err != nil {
		return UserResult{}, err
	}
	return p.flyUser(ctx, f)
}

// AttachUser attaches an existing user to the vendor's service: a user of
// the seeded world, or one whose creation the vendor refused.
func (p *Platform) AttachUser(ctx context.Context, name string, id int64, password string) (UserResult, error) {
	return p.userOp(ctx, name, id, func(ws *workspace, u *world.User) (*userFlight, error) {
		if u.VendorID != "" {
			return nil, world.Errorf(world.CodeConflict, "user %d is attached already (vendor id %s)", u.ID, u.VendorID)
		}
		if password != "" {
			if err := checkPassword(password); err != nil {
				return nil, err
			}
		}
		if err := ws.ready(); err != nil {
			return nil, err
		}
		if ws.manual() {
			return nil, world.Errorf(world.CodeConflict, "cannot attach user %d: in manual provisioning mode there is no vendor API to attach to; the vendor learns of users by e-mail", u.ID)
		}
		return p.attachFlight(ws, u, password, "attach-user"), nil
	})
}

// attachFlight prepares /user/create for u; password "" is generated.
func (p *Platform) attachFlight(ws *workspace, u *world.User, password, action string) *userFlight {
	if password == "" {
		password = generatePassword(ws.world.APGUID, u.ID, u.PasswordResets)
	}
	return p.userFlight(ws, u, action, vendorapi.EventUserCreate, vendorapi.UserCreateBody{
		Password: password, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
	}, password, func(u *world.User, ans vendorapi.Answer) {
		u.VendorID = ans.ID
		u.PasswordResets++
	})
}

// UpdateUser changes a user's names (/user/update when attached).
func (p *Platform) UpdateUser(ctx context.Context, name string, id int64, patch UserPatch) (UserResult, error) {
	return p.userOp(ctx, name, id, func(ws *workspace, u *world.User) (*userFlight, error) {
		if patch.FirstName == nil && patch.LastName == nil {
			return nil, world.Invalid("body", "must change first_name or last_name")
		}
		first, last := u.FirstName, u.LastName
		var err error
		if patch.FirstName != nil {
			if first, err = personName("first_name", *patch.FirstName); err != nil {
				return nil, err
			}
		}
		if patch.LastName != nil {
			if last, err = personName("last_name", *patch.LastName); err != nil {
				return nil, err
			}
		}
		apply := func(u *world.User, _ vendorapi.Answer) { u.FirstName, u.LastName = first, last }
		return p.vendorOrLocal(ws, u, "update-user", vendorapi.EventUserUpdate,
			vendorapi.UserUpdateBody{ID: u.VendorID, FirstName: first, LastName: last}, "", apply)
	})
}

// DeleteUser detaches a user from the service (/user/delete when
// attached) and marks it deleted. An account's owner cannot be deleted.
func (p *Platform) DeleteUser(ctx context.Context, name string, id int64) (UserResult, error) {
	return p.userOp(ctx, name, id, func(ws *workspace, u *world.User) (*userFlight, error) {
		if u.Role == world.RoleOwner {
			return nil, world.Errorf(world.CodeConflict, "user %d is the owner of tenant %d; an account keeps its owner", u.ID, u.TenantID)
		}
		return p.vendorOrLocal(ws, u, "delete-user", vendorapi.EventUserDelete, vendorapi.UserRefBody{ID: u.VendorID}, "",
			func(u *world.User, _ vendorapi.Answer) { u.Status = world.UserDeleted })
	})
}

// ActivateUser activates a deactivated user (/user/activate when attached).
func (p *Platform) ActivateUser(ctx context.Context, name string, id int64) (UserResult, error) {
	return p.userOp(ctx, name, id, func(ws *workspace, u *world.User) (*userFlight, error) {
		if u.Status != world.UserInactive {
			return nil, world.Errorf(world.CodeConflict, "user %d is %s; only an inactive user can be activated", u.ID, u.Status)
		}
		return p.vendorOrLocal(ws, u, "activate-user", vendorapi.EventUserActivate, vendorapi.UserRefBody{ID: u.VendorID}, "",
			func(u *world.User, _ vendorapi.Answer) { u.Status = world.UserActive })
	})
}

// DeactivateUser deactivates an active user (/user/deactivate when
// attached).
func (p *Platform) DeactivateUser(ctx context.Context, name string, id int64) (UserResult, error) {
	return p.userOp(ctx, name, id, func(ws *workspace, u *world.User) (*userFlight, error) {
		if u.Status != world.UserActive {
			return nil, world.Errorf(world.CodeConflict, "user %d is %s; only an active user can be deactivated", u.ID, u.Status)
		}
		return p.vendorOrLocal(ws, u, "deactivate-user", vendorapi.EventUserDeactivate, vendorapi.UserRefBody{ID: u.VendorID}, "",
			func(u *world.User, _ vendorapi.Answer) { u.Status = world.UserInactive })
	})
}

// ResetUserPassword sets a user's password, the given one or a generated
// one (/user/password_reset when attached).
func (p *Platform) ResetUserPassword(ctx context.Context, name string, id int64, password string) (UserResult, error) {
	return p.userOp(ctx, name, id, func(ws *workspace, u *world.User) (*userFlight, error) {
		if password == "" {
			password = generatePassword(ws.world.APGUID, u.ID, u.PasswordResets)
		} else if err := checkPassword(password); err != nil {
			return nil, err
		}
		return p.vendorOrLocal(ws, u, "reset-password", vendorapi.EventUserPasswordReset,
			vendorapi.UserPasswordResetBody{ID: u.VendorID, Password: password}, password,
			func(u *world.User, _ vendorapi.Answer) { u.PasswordResets++ })
	})
}

// userOp finds a user that is not deleted, runs check under the lock, and
// flies the operation it returns, or answers at once when check changed
// the world itself (a flight with no call).
func (p *Platform) userOp(ctx context.Context, name string, id int64, check func(ws *workspace, u *world.User) (*userFlight, error)) (UserResult, error) {
	ws, err := p.lock(name)
	if err != nil {
		return UserResult{}, err
	}
	f, err := func() (*userFlight, error) {
		defer ws.mu.Unlock()
		u, ok := ws.world.User(id)
		if !ok {
			return nil, world.NotFound("user", id)
		}
		if u.Status == world.UserDeleted {
			return nil, world.Errorf(world.CodeConflict, "user %d is deleted", id)
		}
		if b, ok := ws.busyUsers[id]; ok && b.gen == ws.generation {
			return nil, world.Errorf(world.CodeConflict, "user %d has an operation in flight (%s); try again when it is answered", id, b.action)
		}
		return check(ws, u)
	}()
	if err != nil {
		return UserResult{}, err
	}
	return p.flyUser(ctx, f)
}

// vendorOrLocal calls the vendor for an attached user. An unattached user
// is the platform's alone: the change is made at once, with no call, as
// the platform has nobody to tell. In manual provisioning mode the change
// is made at once too, and the vendor is told by e-mail (userByMail).
func (p *Platform) vendorOrLocal(ws *workspace, u *world.User, action string, event vendorapi.Event, body any, password string, ok func(*world.User, vendorapi.Answer)) (*userFlight, error) {
	if ws.manual() {
		if err := ws.ready(); err != nil {
			return nil, err
		}
		return p.userByMail(ws, u, action, event, password, ok), nil
	}
	if u.VendorID != "" {
		if err := ws.ready(); err != nil {
			return nil, err
		}
		return p.userFlight(ws, u, action, event, body, password, ok), nil
	}
	ok(u, vendorapi.Answer{})
	u.LastError = ""
	ws.touch(recUser, u.ID)
	return p.localUser(ws, u, action, password), nil
}

// userFlight marks u busy and prepares the call. Call with ws.mu held.
func (p *Platform) userFlight(ws *workspace, u *world.User, action string, event vendorapi.Event, body any, password string, ok func(*world.User, vendorapi.Answer)) *userFlight {
	w := ws.world
	var resellerID int64
	if tn, found := w.Tenant(u.TenantID); found {
		resellerID = tn.ResellerID
	}
	if ws.busyUsers == nil {
		ws.busyUsers = map[int64]busy{}
	}
	ws.busyUsers[u.ID] = busy{action, ws.generation}
	// What changed before the call (a new user) is on disk while the
	// call runs; deferred, it usually shares the answer's commit. Most
	// user operations change nothing before the answer: no batch then.
	if len(ws.dirty) > 0 {
		pre := ws.batch()
		pre.Defer = true
		p.store.Submit(pre)
	}
	return &userFlight{
		ws: ws, gen: ws.generation, now: ws.clock, userID: u.ID, action: action, password: password, ok: ok,
		call: vendorapi.Call{
			Event: event, Settings: cloneSettings(ws.settings), APGUID: w.APGUID, ResellerID: resellerID,
			Body: body, ExpectID: event == vendorapi.EventUserCreate,
		},
	}
}

// flyUser makes the vendor call without the lock, then applies and
// records the answer; a flight without a call only records the change.
func (p *Platform) flyUser(ctx context.Context, f *userFlight) (UserResult, error) {
	ws := f.ws
	if f.done != nil {
		if err := p.settle(ws, f.batch); err != nil {
			return UserResult{}, err
		}
		return *f.done, nil
	}
	dv := p.deliver(ctx, f.call, f.now, f.action, 0, 0, f.userID)
	ans := dv.ans
	if err := p.land(ws, f.gen, dv.xs...); err != nil {
		ws.mu.Lock()
		if b := ws.busyUsers[f.userID]; b.gen == f.gen {
			delete(ws.busyUsers, f.userID)
		}
		ws.mu.Unlock()
		return UserResult{}, err
	}
	delete(ws.busyUsers, f.userID)
	u, found := ws.world.User(f.userID)
	if !found {
		ws.mu.Unlock()
		return UserResult{}, world.NotFound("user", f.userID)
	}
	if ans.OK {
		f.ok(u, ans)
		u.LastError = ""
	} else {
		u.LastError = ans.Message
	}
	ws.touch(recUser, u.ID)
	res := UserResult{User: *u, Password: f.password}
	b := ws.batch(dv.xs...)
	p.store.Submit(b)
	ws.mu.Unlock()
	if err := p.settle(ws, b); err != nil {
		return UserResult{}, err
	}
	res.ExchangeIDs = dv.ids()
	// The user API has no warnings: a late delivery with no earlier call
	// of the user, or one the vendor refused, shows only in the journal.
	l, err := p.deliverLate(ctx, ws.name, journal.Filter{UserID: f.userID}, res.ExchangeIDs)
	if err != nil {
		return UserResult{}, err
	}
	var ignored []string
	l.addTo(&res.ExchangeIDs, &ignored)
	return res, nil
}

// owner is the tenant's owner, nil when it has none.
func owner(w *world.World, tenantID int64) *world.User {
	for i := range w.Users {
		if u := &w.Users[i]; u.TenantID == tenantID && u.Role == world.RoleOwner && u.Status != world.UserDeleted {
			return u
		}
	}
	return nil
}

// personName checks a first or last name.
func personName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", world.Invalid(field, "must not be empty")
	case len(s) > 100:
		return "", world.Invalid(field, "must be at most 100 bytes")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", world.Invalid(field, "must not contain control characters")
	}
	return s, nil
}

// checkPassword checks a password an operator gives: the platform's
// policy is not documented [GAP], so only what no policy would accept is
// refused.
func checkPassword(s string) error {
	switch {
	case len(s) < 8 || len(s) > 128:
		return world.Invalid("password", "must be 8 to 128 bytes long")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return world.Invalid("password", "must not contain control characters")
	}
	return nil
}

// generatePassword derives a password from the installation, the user and
// how many passwords it had: the same seed and the same operations give
// the same passwords, so the same exchanges. Sixteen characters with an
// upper-case letter, a lower-case letter, a digit and a symbol, so that
// any vendor's policy takes it.
func generatePassword(apGUID string, userID, n int64) string {
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(userID))
	binary.BigEndian.PutUint64(buf[8:], uint64(n))
	sum := sha256.Sum256(append([]byte(apGUID+"/password/"), buf[:]...))
	const (
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower  = "abcdefghijkmnopqrstuvwxyz"
		digits = "23456789"
		symbol = "!#$%*+-=?@"
		all    = upper + lower + digits + symbol
	)
	out := []byte{upper[sum[0]%byte(len(upper))], lower[sum[1]%byte(len(lower))], digits[sum[2]%byte(len(digits))], symbol[sum[3]%byte(len(symbol))]}
	for _, b := range sum[4:16] {
		out = append(out, all[int(b)%len(all)])
	}
	return string(out)
}
