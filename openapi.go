// Package apsandbox holds what the whole module shares at its root: the
// OpenAPI document of the operator API and of the vendor endpoints.
package apsandbox

import _ "embed"

// Generate the operator API server (package api) and the Go client from
// openapi.yaml. The configurations are in oapi-codegen/; paths in them are
// relative to this directory, the module root.
//
//go:generate go tool oapi-codegen -config oapi-codegen/api.yaml openapi.yaml
//go:generate go tool oapi-codegen -config oapi-codegen/client.yaml openapi.yaml

// OpenAPI is openapi.yaml, the source of truth of the operator API and of
// every call the sandbox makes to a vendor (its webhooks section). It is
// embedded so that one binary serves the document it was built from
// (GET /openapi.yaml) and validates requests, responses and vendor bodies
// against exactly that document, with no file to ship or keep in step.
//
//go:embed openapi.yaml
var OpenAPI []byte
