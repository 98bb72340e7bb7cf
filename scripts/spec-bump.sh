#!/usr/bin/env bash
# spec-bump.sh replaces openapi.yaml with a new release of the spec:
#
#   make spec-bump SPEC=path/to/openapi.yaml
#
# It prints the breaking changes (and then all changes) between the current
# openapi.yaml and SPEC with oasdiff, copies SPEC over openapi.yaml, runs
# `go generate ./gen`, prints what changed in the exported Go API of
# ./client and ./gen (scripts/apidiff.sh: incompatible changes first), runs
# `make test`, and ends with a summary. It exits non-zero if generation or
# the tests fail, or if apidiff could not run; openapi.yaml and gen/ are
# left changed either way, for you to fix, review and commit together.
#
# oasdiff is run at a pinned version with `go run pkg@version`, and apidiff
# likewise with `go install pkg@version` (see scripts/apidiff.sh); neither
# touches go.mod. The Go API before the bump is saved before openapi.yaml
# is replaced. It refuses to run when openapi.yaml or gen/ has uncommitted
# changes, so that `git diff` shows exactly the bump.
#
# Environment: GO (default go), MAKE (default make).
set -euo pipefail

GO=${GO:-go}
MAKE=${MAKE:-make}
# shellcheck source=tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
oasdiff=$oasdiff_pkg

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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spec-bump.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export APIDIFF_DIR=$tmp/bin # build apidiff once for both calls

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

# apidiff compares export data, so the API before the bump is saved now.
section "Go API before the bump: scripts/apidiff.sh -w"
api="NOT CHECKED: apidiff could not save the API before the bump (see above)"
if GO=$GO scripts/apidiff.sh -w "$tmp/api-before" .; then
	api="not run"
fi

cp "$spec" openapi.yaml

generated=FAILED tested="not run"
section "go generate ./gen"
if "$GO" generate ./gen; then
	generated=ok
	if [[ $api == "not run" ]]; then
		section "Go API changes: scripts/apidiff.sh (incompatible first)"
		rc=0
		GO=$GO scripts/apidiff.sh "$tmp/api-before" . | tee "$tmp/apidiff.out" || rc=$?
		counts=$(sed -n 's/^apidiff: \(\.\/client .*\)/\1/p' "$tmp/apidiff.out")
		case $rc in
		0) api="compatible for users of ./client: $counts" ;;
		3) api="INCOMPATIBLE for users of ./client: $counts" ;;
		*) api="NOT CHECKED: apidiff could not run (see above; does ./client compile?)" ;;
		esac
	fi
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
echo "Go API (apidiff):  $api"
echo "make test:         $tested"
echo "changed files:"
git status --short -- openapi.yaml gen | sed 's/^/  /'
if [[ $generated != ok || $tested != ok ]]; then
	echo "Fix the failures above (a failing test names what to change), then commit openapi.yaml and gen/ with the fixes."
	exit 1
fi
if [[ $api == NOT* ]]; then
	echo "!!! apidiff did not run, so nobody has checked what this bump does to users' Go code."
	echo "!!! Fix that (see its output above), then run 'make apidiff' (compares with HEAD) before committing."
	exit 1
fi
if [[ $api == INCOMPATIBLE* ]]; then
	echo "Tests pass, but the Go API changes above can break users' code: fix them in the overlay or client/, or plan a major version, before committing."
elif ((errors + warnings)); then
	echo "Tests pass, but read the breaking changes above before committing openapi.yaml and gen/."
else
	echo "Ready: review 'git diff' and commit openapi.yaml and gen/."
fi
