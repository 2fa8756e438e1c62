package api

import (
	"encoding/json"
	"errors"

	"github.com/gin-gonic/gin"
)

// The generated strict handlers decode request bodies with gin's
// ShouldBindJSON, which then runs gin's struct validator,
// go-playground/validator. The models carry no binding tags, so that
// validator never had anything to check (requests are checked against
// openapi.yaml before a handler runs); but linking it costs far more than
// its own code: one of its checks looks methods up by a name read from a
// tag (reflect.Value.MethodByName), and one such call anywhere turns off the
// linker's dead-method elimination for the whole binary, and with it the
// 20 MB image. So `go generate` (see openapi.go) rewrites those two calls,
// with gofmt -r, to the functions below, and cmd/apsandbox's
// TestNoReflectMethod fails if a call like it comes back.

// decodeJSON is ShouldBindJSON without the validator: a plain
// encoding/json decode of the request body, as gin's default JSON binding
// does it.
func decodeJSON(ctx *gin.Context, v any) error {
	if ctx.Request == nil || ctx.Request.Body == nil {
		return errors.New("invalid request")
	}
	return json.NewDecoder(ctx.Request.Body).Decode(v)
}

// validateStruct stands for the struct validator after a body was bound
// from an already validated value: there is nothing left to check.
func validateStruct(any) error { return nil }
