#!/usr/bin/env bash
# Regenerates ogenclient/, the ogen client the benchmarks compare the SDK
# with, from the repository's ../openapi.yaml (never edited): a scratch copy
# gets its one-value boolean enums written as consts (internal/constspec),
# which ogen needs, then ogen (pinned in go.mod's tool directive) generates
# the client from it with ogen.yml.
set -euo pipefail
cd "$(dirname "$0")"
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$GO" run ./internal/constspec <../openapi.yaml >"$tmp/openapi.yaml"
"$GO" tool ogen -config ogen.yml -target ogenclient -package ogenclient -clean "$tmp/openapi.yaml"
