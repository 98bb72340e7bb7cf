//go:build tools

// Package tools pins the versions of the code generator and linters used by
// the Makefile, so that `go run` of each resolves through go.mod.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
