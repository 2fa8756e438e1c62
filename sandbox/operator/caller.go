package operator

import (
	"context"
	"crypto/subtle"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// RunHeader ties an operation, and the vendor calls it makes, to a
// scenario run; the exchanges can then be listed with run_id.
const RunHeader = "X-Apsandbox-Run"

// DeliveryHeader asks for delivery faults on the request's vendor calls
// (see platform.ParseDelivery for the grammar), so that any client, the
// scenario runner included, can test a vendor's robustness per step.
const DeliveryHeader = "X-Apsandbox-Delivery"

type controlKey struct{}

// caller reads who is calling and on whose behalf: the run the request
// belongs to, the delivery faults it asks for, and whether it holds the
// control token. It puts them into the request's context for the
// handlers. A bad header is refused before anything happens.
func (s *Server) caller(c *gin.Context) {
	ctx := c.Request.Context()
	if run := c.GetHeader(RunHeader); run != "" {
		if len(run) > 128 || strings.IndexFunc(run, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }) >= 0 {
			s.writeError(c, world.Invalid(RunHeader, "must be 1-128 printable characters without spaces"))
			return
		}
		ctx = platform.WithRunID(ctx, run)
	}
	// Several header lines are one list, as HTTP joins them.
	if vals := c.Request.Header.Values(DeliveryHeader); len(vals) > 0 {
		d, err := platform.ParseDelivery(strings.Join(vals, ","))
		if err != nil {
			s.writeError(c, world.Invalid(DeliveryHeader, "%v", err))
			return
		}
		ctx = platform.WithDelivery(ctx, d)
	}
	if s.token != "" {
		auth := c.GetHeader("Authorization")
		if tok, ok := strings.CutPrefix(auth, "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.token)) == 1 {
			ctx = context.WithValue(ctx, controlKey{}, true)
		}
	}
	c.Request = c.Request.WithContext(ctx)
}

// holdsToken reports whether the caller sent the control token.
func (s *Server) holdsToken(ctx context.Context) bool {
	ok, _ := ctx.Value(controlKey{}).(bool)
	return s.token != "" && ok
}

// rawAllowed checks a request for raw (unredacted) exchanges: only a
// caller holding the control token may have them.
func (s *Server) rawAllowed(ctx context.Context, raw *bool) (bool, error) {
	if raw == nil || !*raw {
		return false, nil
	}
	if s.token == "" {
		return false, world.Errorf(world.CodeForbidden, "raw exchanges are locked: start the sandbox with --control-token (APSANDBOX_CONTROL_TOKEN) and send it as a bearer token")
	}
	if ok, _ := ctx.Value(controlKey{}).(bool); !ok {
		return false, world.Errorf(world.CodeForbidden, "raw exchanges need the control token: send Authorization: Bearer <token>")
	}
	return true, nil
}
