#!/usr/bin/env bash
# release-drill.sh rehearses `make release` on spec bumps, in a scratch
# clone of this repository (the real one is never touched):
#
#   1. an additive bump (a new optional number and a new array property on
#      the invocation's progress) -> the next minor, with a CHANGELOG
#      section naming both fields, and an annotated tag at HEAD;
#   2. a description-only bump (info.version raised too) -> the next
#      patch, no Breaking changes;
#   3. a removed property (Diagnostic.driver): `make check-release` fails until it is announced;
#      `make release` -> the next minor, with Breaking changes naming it;
#   4. `make release` with nothing new, a dirty tree, or a replace in go.mod
#      exits non-zero;
#   5. in a clone with no tag and no released CHANGELOG section, the first
#      release: the version in the code.
#
# After each release the tree must be clean and `make check-release` must
# pass. The clone is of HEAD (commit your work first); if it has no v* tag
# (CI's clone may have none), the drill tags HEAD with the version in the
# code first, as if it were the last release. The bumps are edits of the
# current openapi.yaml, so they follow the spec as it changes; an edit
# that no longer applies fails the drill, naming it.
#
# Run by `make drill`, after scripts/drill.sh. Environment: GO (default
# go), MAKE (default make), DRILL_KEEP=1 keeps the scratch clone.
set -euo pipefail

GO=${GO:-go}
MAKE=${MAKE:-make}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
start=$SECONDS

scratch=$(mktemp -d "${TMPDIR:-/tmp}/release-drill.XXXXXX")
if [[ ${DRILL_KEEP:-} == 1 ]]; then
	echo "release-drill: keeping $scratch"
else
	trap 'rm -rf "$scratch"' EXIT
fi
export APIDIFF_DIR=$scratch/bin # build apidiff once for every release
export RELEASE_DATE=2026-01-02
# A CI machine may have no git identity; the scratch clone's commits and
# tags need one.
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-release drill} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-drill@example.invalid}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-release drill} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-drill@example.invalid}

failures=0
pass() { printf 'PASS %-28s %s\n' "$1" "$2"; }
fail() {
	printf 'FAIL %-28s %s\n' "$1" "$2"
	failures=$((failures + 1))
}
die() {
	echo "release-drill: $*" >&2
	exit 1
}

repo=$scratch/repo
git clone -q "$root" "$repo"
cd "$repo"
[[ -z $(git -C "$root" status --porcelain --untracked-files=no) ]] ||
	echo "release-drill: note: uncommitted changes in $root are not drilled (the clone is of HEAD)"

code_version() { sed -n 's/^const Version = "\([^"]*\)"$/\1/p' internal/version/version.go; }
base=$(git tag --merged HEAD -l 'v*' | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n1 || true)
if [[ -z $base ]]; then
	base=v$(code_version)
	git tag -a "$base" -m "$base (the drill's base tag)"
	echo "release-drill: no v* tag in the clone: tagged HEAD $base as the last release"
fi
echo "release-drill: base $base, HEAD $(git rev-parse --short HEAD)"

# next MAJOR.MINOR.PATCH minor|patch prints the next version.
next() {
	local maj min pat
	IFS=. read -r maj min pat <<<"${1#v}"
	case $2 in
	minor) echo "v$maj.$((min + 1)).0" ;;
	patch) echo "v$maj.$min.$((pat + 1))" ;;
	esac
}

# edit_spec NAME AWK applies the awk program to openapi.yaml; the drill
# fails if it changes nothing.
edit_spec() {
	awk "$2" openapi.yaml >"$scratch/spec" || die "$1: awk failed"
	cmp -s "$scratch/spec" openapi.yaml && die "$1: the edit no longer applies to openapi.yaml; update scripts/release-drill.sh"
	cp "$scratch/spec" openapi.yaml
}

# bump NAME AWK edits the spec, regenerates and commits, as a spec bump does.
bump() {
	edit_spec "$1" "$2"
	"$GO" generate ./gen >"$scratch/$1.generate" 2>&1 || {
		cat "$scratch/$1.generate"
		die "$1: go generate failed"
	}
	git add -A && git commit -qm "spec: $1"
}

# release NAME runs make release into $scratch/NAME.release and prints its
# exit status.
# The time it took is appended to $scratch/times.
release() {
	local rc=0 t0=$SECONDS
	"$MAKE" --no-print-directory release GO="$GO" >"$scratch/$1.release" 2>&1 || rc=$?
	echo "$1 $((SECONDS - t0))s" >>"$scratch/times"
	echo "$rc"
}

# section prints the CHANGELOG section of version $1.
section() {
	awk -v h="## $1 " 'index($0, h) == 1 { p = 1; print; next } p && /^## / { exit } p' CHANGELOG.md
}

# check_release NAME WANT (new version) NAME checks the outcome of a release.
check_release() {
	local name=$1 want=$2 rc=$3 got why=""
	got=$(code_version)
	if [[ $rc != 0 ]]; then
		why="make release exited $rc: $(tail -n 3 "$scratch/$name.release" | tr '\n' ' ')"
	elif [[ v$got != "$want" ]]; then
		why="released v$got, want $want"
	elif [[ $(git describe --exact-match HEAD 2>/dev/null) != "$want" ]]; then
		why="HEAD is not tagged $want"
	elif [[ $(git cat-file -t "$want") != tag ]]; then
		why="$want is a lightweight tag, want an annotated one"
	elif [[ $(git log -1 --format=%s) != "Release $want" ]]; then
		why="HEAD's subject is \"$(git log -1 --format=%s)\""
	elif [[ -n $(git status --porcelain) ]]; then
		why="the tree is not clean after the release: $(git status --porcelain | tr '\n' ' ')"
	elif ! "$MAKE" --no-print-directory check-release GO="$GO" >"$scratch/$name.check" 2>&1; then
		why="make check-release fails after the release: $(tail -n 2 "$scratch/$name.check" | tr '\n' ' ')"
	fi
	echo "$why"
}

# want_words SECTION-TEXT WORD... prints the first word the text lacks.
want_words() {
	local text=$1 w
	shift
	for w in "$@"; do
		grep -qiF -- "$w" <<<"$text" || {
			echo "$w"
			return
		}
	done
}

progress_schema='    V1InvocationsIdGetResponsesContentApplicationJsonSchemaProgress:'

# 1. Additive: a new optional number and an array property.
bump additive '
	{ print }
	$0 == "'"$progress_schema"'" { s = 1 }
	s && $0 == "      properties:" {
		print "        percentDone:"
		print "          type: number"
		print "        warnings:"
		print "          type: array"
		print "          items:"
		print "            type: string"
		s = 0
	}'
want=$(next "$base" minor)
rc=$(release additive)
why=$(check_release additive "$want" "$rc")
sec=$(section "$want")
if [[ -z $why ]]; then
	missing=$(want_words "$sec" percentDone warnings PercentDone Warnings)
	[[ -z $missing ]] || why="the $want section does not name $missing"
fi
# New fields are not breaking, not even the array that makes Progress
# incomparable (apidiff.sh says why).
if [[ -z $why ]] && awk '/^### Breaking changes$/ { p = 1; next } /^###? / { p = 0 } p' <<<"$sec" | grep -qE 'Progress|PercentDone|Warnings'; then
	why="the $want section lists the new fields under Breaking changes"
fi
if [[ -z $why ]]; then pass "additive bump -> minor" "$want, naming percentDone and warnings (API and Go), annotated tag at HEAD"; else fail "additive bump -> minor" "$why"; fi
prev=$want

# 2. Description only, with the spec's info.version raised as a publisher
# does (gen.SpecVersion() changes; a constant would have been breaking).
bump description '
	/^        Get one durable invocation and its current state/ { sub(/Get one durable invocation/, "Read one durable invocation") }
	/^  version: / { $0 = $0 "-drill" }
	{ print }'
want=$(next "$prev" patch)
rc=$(release description)
why=$(check_release description "$want" "$rc")
sec=$(section "$want")
if [[ -z $why && $sec == *"### Breaking changes"* ]]; then why="a description-only bump has Breaking changes"; fi
if [[ -z $why ]]; then pass "description-only -> patch" "$want"; else fail "description-only -> patch" "$why"; fi
prev=$want

# 3. A removed property: check-release must fail until it is announced.
# Diagnostic.driver: the overlay leaves it alone and no code reads it, as
# for testdata/spec-bumps/06-removed-property.yaml.
bump removal '
	/^    [A-Za-z0-9]+ErrorDiagnostic:$/ { s = 1 }
	s && $0 == "        driver:" { getline; s = 0; next }
	{ print }'
if "$MAKE" --no-print-directory check-release GO="$GO" >"$scratch/removal.precheck" 2>&1; then
	fail "unannounced removal" "make check-release passes with an unannounced incompatible change"
elif ! grep -q 'Driver' "$scratch/removal.precheck"; then
	fail "unannounced removal" "make check-release fails without naming Driver: $(tail -n 2 "$scratch/removal.precheck" | tr '\n' ' ')"
else
	pass "unannounced removal" "make check-release fails, naming $(grep -m1 Driver "$scratch/removal.precheck")"
fi
want=$(next "$prev" minor)
rc=$(release removal)
why=$(check_release removal "$want" "$rc")
sec=$(section "$want")
if [[ -z $why ]]; then
	breaking=$(awk '/^### Breaking changes$/ { p = 1; next } /^###? / { p = 0 } p' <<<"$sec")
	if [[ -z $breaking ]]; then
		why="the $want section has no Breaking changes"
	else
		missing=$(want_words "$breaking" Driver)
		[[ -z $missing ]] || why="Breaking changes of $want do not name $missing"
	fi
fi
if [[ -z $why ]]; then pass "removed property -> minor" "$want, Breaking changes naming Driver"; else fail "removed property -> minor" "$why"; fi

# 4. Refusals: nothing new, a dirty tree, a replace directive.
refuses() {
	local name=$1 word=$2 rc
	rc=$(release "$name")
	if [[ $rc == 0 ]]; then
		fail "refuses: $name" "make release exited 0"
	elif ! grep -qi -- "$word" "$scratch/$name.release"; then
		fail "refuses: $name" "exit $rc, but the message does not say \"$word\": $(tail -n 1 "$scratch/$name.release")"
	else
		pass "refuses: $name" "exit $rc: $(grep -m1 '^release:' "$scratch/$name.release")"
	fi
}
tagged=$(git rev-parse HEAD)
refuses "nothing new" "nothing new"
echo "// drill" >>internal/version/version.go
refuses "dirty tree" "not clean"
git checkout -q -- internal/version/version.go
"$GO" mod edit -replace github.com/google/uuid=../uuid
git commit -qam "drill: a replace directive"
refuses "replace in go.mod" "replace"
[[ $(git rev-list --count "$tagged..HEAD") == 1 && -z $(git tag --points-at HEAD) ]] ||
	fail "refusals leave no trace" "a refused release committed or tagged something"

# 5. The first release: a clone with no tag and a CHANGELOG with no
# released section releases the version in the code.
first=$scratch/first
git clone -q --no-tags "$root" "$first"
cd "$first"
git tag -l | xargs -r git tag -d >/dev/null # a clone of a clone may still bring tags
v=v$(code_version)
awk '/^## v[0-9]/ { exit } { print }' CHANGELOG.md >"$scratch/first.changelog"
cp "$scratch/first.changelog" CHANGELOG.md
git commit -qam "drill: a CHANGELOG with no release yet"
rc=$(release first)
why=$(check_release first "$v" "$rc")
if [[ -z $why ]] && ! section "$v" | grep -q 'The first release'; then why="the $v section does not say it is the first release"; fi
if [[ -z $why ]]; then pass "no tag: first release" "$v, the version in the code"; else fail "no tag: first release" "$why"; fi

echo "release-drill: make release took: $(tr '\n' ',' <"$scratch/times" | sed 's/,$//; s/,/, /g')"
echo "release-drill: $((SECONDS - start))s, $failures failure(s)"
((failures == 0))
