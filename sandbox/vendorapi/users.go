package vendorapi

// The user endpoints' bodies, as the reference documents them (§5): no
// subscription or account travels with a user, only what is listed here.

// UserCreateBody is /user/create's body; the vendor answers 201 {"id"}.
type UserCreateBody struct {
	Password  string `json:"password"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// UserUpdateBody is /user/update's body.
type UserUpdateBody struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// UserRefBody is the body of /user/delete, /user/activate and
// /user/deactivate: the vendor's id of the user.
type UserRefBody struct {
	ID string `json:"id"`
}

// UserPasswordResetBody is /user/password_reset's body. The documented
// table lists only id; its example, which the platform follows, carries
// the new password too.
type UserPasswordResetBody struct {
	ID       string `json:"id"`
	Password string `json:"password"`
}
