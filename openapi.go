// Package apsandbox holds what the whole module shares at its root: the
// OpenAPI document of the operator API and of the vendor endpoints.
package apsandbox

import _ "embed"

// Generate the operator API server (package api) and the Go client from
// openapi.yaml. The configurations are in oapi-codegen/; paths in them are
// relative to this directory, the module root.
//
// The two gofmt rewrites take gin's struct validator out of the generated
// strict handlers; sandbox/operator/api/decode.go says why. The test that
// keeps generated code current runs these lines as they are written here.
//
//go:generate go tool oapi-codegen -config oapi-codegen/api.yaml openapi.yaml
//go:generate gofmt -w -r "ctx.ShouldBindJSON(x) -> decodeJSON(ctx, x)" sandbox/operator/api/api.gen.go
//go:generate gofmt -w -r "binding.Validator.ValidateStruct(x) -> validateStruct(x)" sandbox/operator/api/api.gen.go
//go:generate go tool oapi-codegen -config oapi-codegen/client.yaml openapi.yaml

// OpenAPI is openapi.yaml, the source of truth of the operator API and of
// every call the sandbox makes to a vendor (its webhooks section). It is
// embedded so that one binary serves the document it was built from
// (GET /openapi.yaml) and validates requests, responses and vendor bodies
// against exactly that document, with no file to ship or keep in step.
//
//go:embed openapi.yaml
var OpenAPI []byte
