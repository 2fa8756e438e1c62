package examplevendor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// User is the vendor's record of one user. The password is deliberately
// not kept: the request log already shows what the platform sent, and a
// state dump is no place for credentials.
type User struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	APGUID     string `json:"ap_guid"`
	ResellerID string `json:"reseller_id"`
	// Status is active, inactive or deleted.
	Status         Status `json:"status"`
	PasswordResets int    `json:"password_resets"`
}

// Users returns the vendor's users in creation order.
func (v *Vendor) Users() []User {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]User, 0, len(v.users))
	for _, u := range v.users {
		out = append(out, *u)
	}
	return out
}

// userBody is the union of the user endpoints' bodies (section 5).
type userBody struct {
	ID        json.RawMessage `json:"id"`
	Email     *string         `json:"email"`
	Password  *string         `json:"password"`
	FirstName *string         `json:"first_name"`
	LastName  *string         `json:"last_name"`
}

// requireStrings names the first field that is absent or blank.
func requireStrings(fields ...namedString) (reply, bool) {
	for _, f := range fields {
		if f.val == nil || strings.TrimSpace(*f.val) == "" {
			return fail(http.StatusBadRequest, "missing required field %s", f.name), true
		}
	}
	return reply{}, false
}

type namedString struct {
	name string
	val  *string
}

// createUser answers /user/create with 201 and the new user's id.
func (v *Vendor) createUser(c *call) reply {
	var b userBody
	if r, bad := decode(c.body, &b); bad {
		return r
	}
	if r, bad := requireStrings(
		namedString{"password", b.Password}, namedString{"email", b.Email},
		namedString{"first_name", b.FirstName}, namedString{"last_name", b.LastName},
	); bad {
		return r
	}
	v.nextUser++
	u := &User{
		ID: fmt.Sprintf("vu-%06d", v.nextUser), Email: *b.Email, FirstName: *b.FirstName, LastName: *b.LastName,
		APGUID: c.apGUID, ResellerID: c.resellerID, Status: StatusActive,
	}
	v.users = append(v.users, u)
	v.userByID[u.ID] = u
	return ok(http.StatusCreated, map[string]string{"id": u.ID})
}

// changeUser answers update, delete, activate, deactivate and
// password_reset. Activating an active user or deactivating an inactive
// one is harmless; a deleted user is gone for every endpoint.
func (v *Vendor) changeUser(c *call) reply {
	var b userBody
	if r, bad := decode(c.body, &b); bad {
		return r
	}
	id, r := flexID(b.ID, "id")
	switch {
	case r != nil:
		return *r
	case id == "":
		return fail(http.StatusBadRequest, "missing required field id")
	}
	u, found := v.userByID[id]
	switch {
	case !found:
		return fail(http.StatusUnprocessableEntity, "user %s not found", id)
	case u.Status == StatusDeleted:
		return fail(http.StatusUnprocessableEntity, "user %s is deleted", id)
	}
	switch c.endpoint {
	case "user/update":
		if r, bad := requireStrings(namedString{"first_name", b.FirstName}, namedString{"last_name", b.LastName}); bad {
			return r
		}
		u.FirstName, u.LastName = *b.FirstName, *b.LastName
		if b.Email != nil && strings.TrimSpace(*b.Email) != "" {
			u.Email = *b.Email
		}
	case "user/delete":
		u.Status = StatusDeleted
	case "user/activate":
		u.Status = StatusActive
	case "user/deactivate":
		u.Status = StatusInactive
	case "user/password_reset":
		if r, bad := requireStrings(namedString{"password", b.Password}); bad {
			return r
		}
		u.PasswordResets++
	}
	return ok(http.StatusOK, struct{}{})
}
