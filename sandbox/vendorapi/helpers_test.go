package vendorapi

import (
	"errors"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

func fieldOf(err error) string {
	var e *world.Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		return e.Details[0].Field
	}
	return "?" + err.Error()
}
