// Package gen holds the code that oapi-codegen generates from openapi.yaml:
// the API's models, a raw HTTP client (bctrl.gen.go) and a net/http server
// interface (server.gen.go) used by the fake server in client/bctrltest.
// Nothing here is edited by hand: replace openapi.yaml and run
// `make generate`. Users import github.com/bctrlhq/sdk-go/client instead.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../oapi-codegen.yaml ../openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../oapi-codegen.server.yaml ../openapi.yaml
//go:generate go run ../internal/specinfo ../openapi.yaml specinfo.gen.go
//go:generate go run ../internal/opsgen -config ../oapi-codegen.yaml -spec ../openapi.yaml -client ../client -fake ../client/bctrltest -server-config ../oapi-codegen.server.yaml
