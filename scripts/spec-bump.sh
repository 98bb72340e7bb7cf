#!/usr/bin/env bash
# spec-bump.sh replaces openapi.yaml with a new release of the spec:
#
#   make spec-bump SPEC=path/to/openapi.yaml
#
# It prints the breaking changes (and then all changes) between the current
# openapi.yaml and SPEC with oasdiff, copies SPEC over openapi.yaml, runs
# `go generate ./gen` and then `make test`, and ends with a summary. It
# exits non-zero if generation or the tests fail; openapi.yaml and gen/ are
# left changed either way, for you to fix, review and commit together.
#
# oasdiff is run at a pinned version with `go run pkg@version`, which does
# not touch go.mod. It refuses to run when openapi.yaml or gen/ has
# uncommitted changes, so that `git diff` shows exactly the bump.
#
# Environment: GO (default go), MAKE (default make).
set -euo pipefail

GO=${GO:-go}
MAKE=${MAKE:-make}
oasdiff=github.com/oasdiff/oasdiff@v1.37.0

die() {
	echo "spec-bump: $*" >&2
	exit 2
}

[[ $# == 1 && -n $1 ]] || die "usage: make spec-bump SPEC=path/to/openapi.yaml"
[[ -f $1 ]] || die "$1: no such file"
spec=$(realpath "$1")
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if cmp -s "$spec" openapi.yaml; then
	echo "spec-bump: $1 is identical to openapi.yaml; nothing to do"
	exit 0
fi
if [[ -n $(git status --porcelain -- openapi.yaml gen) ]]; then
	git status --short -- openapi.yaml gen >&2
	die "openapi.yaml or gen/ has uncommitted changes; commit or discard them first"
fi

section() { printf '\n=== %s\n' "$*"; }

section "Breaking changes: oasdiff breaking openapi.yaml $1 (${oasdiff#*@})"
breaking=$("$GO" run "$oasdiff" breaking openapi.yaml "$spec") || die "oasdiff breaking failed"
echo "$breaking"
# oasdiff's first line is "N changes: E error, W warning, I info", or "No
# breaking changes to report" when there are none.
errors=0 warnings=0
if [[ $breaking =~ ([0-9]+)\ error,\ ([0-9]+)\ warning ]]; then
	errors=${BASH_REMATCH[1]} warnings=${BASH_REMATCH[2]}
fi

section "All changes: oasdiff changelog"
"$GO" run "$oasdiff" changelog openapi.yaml "$spec" || die "oasdiff changelog failed"

cp "$spec" openapi.yaml

generated=FAILED tested="not run"
section "go generate ./gen"
if "$GO" generate ./gen; then
	generated=ok
	section "$MAKE test"
	if "$MAKE" --no-print-directory test GO="$GO"; then
		tested=ok
	else
		tested=FAILED
	fi
fi

section "Summary"
echo "openapi.yaml is now $1"
echo "breaking changes: $errors error(s), $warnings warning(s) (oasdiff ${oasdiff#*@})"
echo "go generate ./gen: $generated"
echo "make test:         $tested"
echo "changed files:"
git status --short -- openapi.yaml gen | sed 's/^/  /'
if [[ $generated != ok || $tested != ok ]]; then
	echo "Fix the failures above (a failing test names what to change), then commit openapi.yaml and gen/ with the fixes."
	exit 1
fi
if ((errors + warnings)); then
	echo "Tests pass, but read the breaking changes above before committing openapi.yaml and gen/."
else
	echo "Ready: review 'git diff' and commit openapi.yaml and gen/."
fi
