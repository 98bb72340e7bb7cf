# tools.sh pins the tools that scripts/*.sh run with `go install pkg@version`
# or `go run pkg@version` (neither touches go.mod). Sourced, not run: one
# place to bump a tool for every script that uses it.
# shellcheck shell=bash disable=SC2034
apidiff_pkg=golang.org/x/exp/cmd/apidiff@v0.0.0-20261113113407-e3970619a1a4
oasdiff_pkg=github.com/oasdiff/oasdiff@v1.37.0
