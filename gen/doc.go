// Package gen holds the code that oapi-codegen generates from openapi.yaml:
// the API's models and a raw HTTP client. Nothing here is edited by hand;
// run `make generate` after replacing openapi.yaml. Users import
// github.com/bctrlhq/sdk-go/client instead.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../oapi-codegen.yaml ../openapi.yaml
