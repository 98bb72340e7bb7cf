#!/usr/bin/env bash
# release.sh cuts a release of github.com/bctrlhq/sdk-go, or checks that
# the tree is ready for one:
#
#   make release          scripts/release.sh
#   make check-release    scripts/release.sh -check
#
# Release: from a clean tree with commits since the last vX.Y.Z tag, it
# picks the next version with gorelease's rules, from the exported Go API
# of every importable package between that tag and HEAD
# (scripts/apidiff.sh) and from go.mod:
#
#   v0:  an incompatible change, an addition, or a changed requirement (a
#        module added or raised, the go directive raised) -> next minor;
#        otherwise -> next patch
#   v1+: incompatible -> refused, unless the module path moved to /vN+1;
#        additions or changed requirements -> minor; otherwise -> patch
#
# New methods on gen's generated interfaces, and a generated type that a
# new list field makes incomparable, count as additions (apidiff.sh says
# why). An entry under "### Breaking changes" in CHANGELOG.md's
# "## Unreleased" counts as an incompatible change: behaviour and CLI
# output are changes no diff can see. It then prepends a CHANGELOG.md
# section "## vX.Y.Z (date)": Breaking changes (the Unreleased ones, then
# apidiff's), the API changes in words (oasdiff changelog between the two
# openapi.yaml), the Go API additions (apidiff), then the rest of
# Unreleased, which it empties. It writes the version into
# internal/version/version.go, builds, commits "Release vX.Y.Z" and creates
# the annotated tag vX.Y.Z (not pushed: `git push origin vX.Y.Z` is yours).
#
# It refuses, with exit status 1 and a message, a dirty tree, a replace
# directive in go.mod, and a HEAD with nothing new since the last tag.
# With no vX.Y.Z tag at all, it releases the version in the code as the
# first release.
#
# Check (-check, run by CI): the version in the code equals the top
# released version of CHANGELOG.md; a vX.Y.Z tag on HEAD equals it; and an
# incompatible Go API change since the last tag is announced under
# "### Breaking changes" in "## Unreleased". What a clone without tags
# cannot check is printed as skipped.
#
# Environment: GO (default go), APIDIFF_DIR (see apidiff.sh),
# RELEASE_DATE (default: today, UTC; for reproducible tests).
set -euo pipefail

GO=${GO:-go}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools.sh
source "$root/scripts/tools.sh" # oasdiff_pkg
cd "$root"

version_file=internal/version/version.go
changelog=CHANGELOG.md
semver='^v([0-9]+)\.([0-9]+)\.([0-9]+)$'

die() {
	echo "release: $*" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/release.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export APIDIFF_DIR=${APIDIFF_DIR:-$tmp/bin}

# code_version prints the version in internal/version/version.go.
code_version() {
	local v
	v=$(sed -n 's/^const Version = "\([^"]*\)"$/\1/p' "$version_file" 2>/dev/null)
	[[ v$v =~ $semver ]] || die "$version_file: no line 'const Version = \"X.Y.Z\"'"
	echo "$v"
}

# changelog_version prints the version of CHANGELOG.md's top released
# section ("## vX.Y.Z (date)"), or nothing.
changelog_version() {
	[[ -f $changelog ]] || die "no $changelog"
	sed -n 's/^## v\([0-9]*\.[0-9]*\.[0-9]*\)\( .*\)\{0,1\}$/\1/p' "$changelog" | head -n1
}

# last_tag prints the highest vX.Y.Z tag reachable from HEAD, or nothing.
last_tag() {
	git tag --merged HEAD -l 'v*' | grep -E "$semver" | sort -V | tail -n1 || true
}

# unreleased prints the body of CHANGELOG.md's "## Unreleased" section:
# with $1 = breaking, only the items under its "### Breaking changes";
# with $1 = rest, all but that subsection.
unreleased() {
	awk -v want="$1" '
		/^## / { in_u = ($0 == "## Unreleased"); next }
		!in_u { next }
		/^### / { brk = ($0 == "### Breaking changes"); if (brk) next }
		(want == "breaking") == brk { print }' "$changelog" |
		sed -e '/./,$!d' | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}' # trim blank lines at both ends
}

# api_diff compares the exported Go API of $1 (a tree) with the working
# tree, into $tmp/apidiff.out; it prints apidiff.sh's exit status (0
# compatible, 3 incompatible) or dies.
api_diff() {
	local rc=0
	GO=$GO "$root/scripts/apidiff.sh" "$1" "$root" >"$tmp/apidiff.out" 2>&1 || rc=$?
	if ((rc != 0 && rc != 3)); then
		cat "$tmp/apidiff.out" >&2
		die "apidiff could not compare the Go API with $1 (see above)"
	fi
	echo "$rc"
}

# go_items prints apidiff's changes as CHANGELOG items: $1 = incompatible
# (breaking ones), compatible (additions, new interface methods included).
go_items() {
	awk -v want="$1" '
		/^--- \.\// { pkg = substr($2, 3); sub(/:$/, "", pkg); n = split(pkg, p, "/"); name = p[n]; next }
		/^Incompatible changes:$/ { sec = "inc"; next }
		/^Compatible changes:$/ { sec = "comp"; next }
		/^$/ { sec = ""; next }
		sec != "" && /^- / {
			msg = substr($0, 3)
			iface = (sec == "inc" && name == "gen" && msg ~ /^[^ ]+[.][^ .]+: added$/)
			cmp = (sec == "inc" && name == "gen" && msg ~ /^[^ ]+: old is comparable, new is not$/)
			if (msg ~ /^[^ :]+: /) { i = index(msg, ": "); item = "`" name "." substr(msg, 1, i - 1) "`: " substr(msg, i + 2) }
			else { item = "`" pkg "`: " msg }
			if (iface) item = item " (a method of a generated interface: only code that implements it, such as a mock, must add it)"
			if (cmp) item = item " (a new list or map field: compare model values with cmp.Equal or reflect.DeepEqual, not ==)"
			if ((want == "incompatible" && sec == "inc" && !iface && !cmp) || (want == "compatible" && (sec == "comp" || iface || cmp))) print "- " item
		}' "$tmp/apidiff.out"
}

# api_items prints oasdiff's changelog between the spec $1 and openapi.yaml
# as CHANGELOG items, property paths shortened to their names.
api_items() {
	"$GO" run "$oasdiff_pkg" changelog "$1" openapi.yaml -f singleline --color never >"$tmp/oasdiff.out" 2>"$tmp/oasdiff.err" || {
		cat "$tmp/oasdiff.err" >&2
		die "oasdiff changelog failed"
	}
	grep -E '^(info|warning|error)[ ,]' "$tmp/oasdiff.out" | grep -v '\[api-version-not-bumped\]' |
		sed -E -e 's/^(info|warning|error)( at [^,]*)?, in (API )?//' \
			-e 's/ \[[a-z0-9-]+\]\..*$//' \
			-e 's#/(oneOf|anyOf|allOf)\[[^]]*\]##g' \
			-e 's/^([A-Z]+ [^ ]+) /\1: /' -e 's/^/- /' || true
}

# requirement_changes prints the requirements of go.mod that are new or
# raised since the go.mod $1, and a raised go directive.
requirement_changes() {
	local reqs='
		/^go / { print "go", $2 }
		/^require \(/ { b = 1; next }
		b && /^\)/ { b = 0; next }
		b && NF >= 2 && $1 != "//" { print $1, $2 }
		/^require [^(]/ { print $2, $3 }'
	awk "$reqs" "$1" | sort >"$tmp/reqs.old"
	awk "$reqs" go.mod | sort >"$tmp/reqs.new"
	local path v old
	while read -r path v; do
		old=$(awk -v p="$path" '$1 == p { print $2 }' "$tmp/reqs.old")
		if [[ -z $old ]]; then
			echo "- \`$path\` $v added"
		elif [[ $old != "$v" && $(printf '%s\n%s\n' "$old" "$v" | sort -V | tail -n1) == "$v" ]]; then
			echo "- \`$path\` $old -> $v"
		fi
	done <"$tmp/reqs.new"
}

spec_version() {
	sed -n 's/^  version: *//p' "$1" | head -n1 | tr -d "'\""
}

check() {
	local v top tag head_tags rc skipped=()
	v=$(code_version)
	top=$(changelog_version)
	[[ -n $top ]] || die "$changelog has no released section (## vX.Y.Z)"
	[[ $v == "$top" ]] || die "$version_file says $v but the top release in $changelog is v$top: run 'make release', or fix the one that is wrong"
	echo "check-release: version $v in $version_file matches $changelog"
	grep -qx '## Unreleased' "$changelog" || die "$changelog has no '## Unreleased' section above v$top"

	head_tags=$(git tag --points-at HEAD -l 'v*' | grep -E "$semver" || true)
	for tag in $head_tags; do
		[[ $tag == "v$v" ]] || die "HEAD is tagged $tag but the code says $v"
	done
	tag=$(last_tag)
	if [[ -z $tag ]]; then
		skipped+=("the tag on HEAD and the Go API since the last tag: no vX.Y.Z tag in this clone ('git fetch --tags' to run them)")
	elif [[ -n $head_tags ]]; then
		echo "check-release: HEAD is $head_tags, the version in the code"
	else
		[[ $(printf '%s\n%s\n' "${tag#v}" "$v" | sort -V | tail -n1) == "$v" ]] ||
			die "the code says $v, older than the last tag $tag"
		mkdir -p "$tmp/old" && git archive "$tag" | tar -xf - -C "$tmp/old"
		rc=$(api_diff "$tmp/old")
		if [[ $rc == 3 ]]; then
			if [[ -z $(unreleased breaking | grep '^- ' || true) ]]; then
				go_items incompatible >&2
				die "the Go API has incompatible changes since $tag (above) that $changelog does not announce: add an entry under '### Breaking changes' in '## Unreleased' saying what users must change"
			fi
			echo "check-release: the Go API has incompatible changes since $tag, announced under Breaking changes in Unreleased"
		else
			echo "check-release: no incompatible Go API change since $tag"
		fi
	fi
	for s in "${skipped[@]}"; do echo "check-release: SKIPPED: $s"; done
	echo "check-release: ok"
}

release() {
	local tag v next major minor patch rc additions reqs section msg date breaking_entries rest api go_inc go_comp
	date=${RELEASE_DATE:-$(date -u +%F)}
	if [[ -n $(git status --porcelain) ]]; then
		git status --short >&2
		die "the working tree is not clean: commit or stash the changes above first"
	fi
	if grep -Eq '^[[:space:]]*replace([[:space:]]|\(|$)' go.mod; then
		die "go.mod has a replace directive, which users of a released module never see: remove it (release the replaced module first) and commit"
	fi
	v=$(code_version)
	tag=$(last_tag)
	breaking_entries=$(unreleased breaking)
	rest=$(unreleased rest)

	if [[ -z $tag ]]; then
		# The first release: the version the code already has.
		next=$v
		git rev-parse -q --verify "refs/tags/v$next" >/dev/null && die "tag v$next exists but is not an ancestor of HEAD"
		if [[ $(changelog_version) == "$next" ]]; then
			[[ -z $breaking_entries$rest ]] ||
				die "$changelog already has v$next and entries under Unreleased, but there is no v* tag here: run 'git fetch --tags' (if v$next was tagged elsewhere) and try again"
			section=$(awk -v h="## v$next" 'index($0, h) == 1 { p = 1 } p && /^## / && index($0, h) != 1 { exit } p' "$changelog")
			echo "release: no v* tag: tagging HEAD as v$next, the first release ($changelog has its section)"
			printf '%s\n' "$section" >"$tmp/tagmsg"
			git tag -a "v$next" --cleanup=verbatim -F "$tmp/tagmsg"
			echo "release: v$next tagged at $(git rev-parse --short HEAD); publish with: git push origin v$next"
			return
		fi
		section="## v$next ($date)"$'\n\n'"The first release."
		[[ -z $breaking_entries ]] || section+=$'\n\n### Breaking changes\n\n'$breaking_entries
		[[ -z $rest ]] || section+=$'\n\n'$rest
		write_release "$next" "$section" "first release"
		return
	fi

	[[ $(git rev-list --count "$tag..HEAD") != 0 ]] ||
		die "nothing new since $tag: HEAD is $tag"
	[[ $tag =~ $semver ]]
	major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]}
	[[ $v == "$major.$minor.$patch" ]] ||
		die "$version_file says $v but the last tag is $tag: fix $version_file (or the tag) first"

	echo "release: comparing HEAD with $tag"
	mkdir -p "$tmp/old" && git archive "$tag" | tar -xf - -C "$tmp/old"
	rc=$(api_diff "$tmp/old")
	additions=$(sed -n 's/^apidiff: additions: //p' "$tmp/apidiff.out")
	go_inc=$(go_items incompatible)
	go_comp=$(go_items compatible)
	api=$(api_items "$tmp/old/openapi.yaml")
	reqs=$(requirement_changes "$tmp/old/go.mod")

	local incompatible=0 why
	if [[ $rc == 3 ]]; then incompatible=1; fi
	if [[ -n $(grep '^- ' <<<"$breaking_entries" || true) ]]; then incompatible=1; fi
	if ((incompatible)); then
		why="incompatible changes"
	elif ((additions > 0)); then
		why="additions to the Go API"
	elif [[ -n $reqs ]]; then
		why="changed requirements"
	else
		why=""
	fi

	local mod oldmod
	mod=$(sed -n 's/^module //p' go.mod)
	oldmod=$(sed -n 's/^module //p' "$tmp/old/go.mod")
	if ((major == 0)); then
		if [[ -n $why ]]; then next=0.$((minor + 1)).0; else next=0.$minor.$((patch + 1)); fi
	elif ((incompatible)); then
		[[ $mod != "$oldmod" && $mod == */v$((major + 1)) ]] ||
			die "incompatible changes since $tag, at v$major: that needs a new major version, whose module path ends in /v$((major + 1)); undo the changes (see $tmp/apidiff.out's report above) or move the module path"
		next=$((major + 1)).0.0
	elif [[ -n $why ]]; then
		next=$major.$((minor + 1)).0
	else
		next=$major.$minor.$((patch + 1))
	fi
	echo "release: v$next (${why:-no addition, no incompatible change, no changed requirement: a patch})"

	section="## v$next ($date)"
	if ((incompatible)); then
		section+=$'\n\n### Breaking changes\n'
		[[ -z $breaking_entries ]] || section+=$'\n'$breaking_entries
		[[ -z $go_inc ]] || section+=$'\n'"$go_inc"
	fi
	if [[ -n $api ]]; then
		section+=$'\n\n'"### API (spec $(spec_version "$tmp/old/openapi.yaml") -> $(spec_version openapi.yaml))"$'\n\n'"$api"
	fi
	[[ -z $go_comp ]] || section+=$'\n\n### Go API additions\n\n'"$go_comp"
	[[ -z $reqs ]] || section+=$'\n\n### Requirements\n\n'"$reqs"
	if [[ -n $rest ]]; then
		[[ $rest == '### '* ]] || rest=$'### Changes\n\n'$rest
		section+=$'\n\n'$rest
	fi
	if [[ $section != *$'\n'* ]]; then
		section+=$'\n\n'"No change to the exported Go API, the spec's operations and properties, or go.mod's requirements: $(git rev-list --count "$tag..HEAD") commit(s) since $tag."
	fi
	write_release "$next" "$section" "$tag"
}

# write_release writes version $1 into the code and section $2 into
# CHANGELOG.md (emptying Unreleased), checks the build, commits and tags.
write_release() {
	local next=$1 section=$2 since=$3
	git rev-parse -q --verify "refs/tags/v$next" >/dev/null && die "tag v$next already exists"
	sed -i "s/^const Version = \"[^\"]*\"$/const Version = \"$next\"/" "$version_file"
	printf '%s\n' "$section" >"$tmp/section"
	awk -v sec="$tmp/section" '
		function emit() { print "## Unreleased\n"; while ((getline l < sec) > 0) print l; print ""; done = 1 }
		$0 == "## Unreleased" { skip = 1; next }
		/^## / && !done { emit(); skip = 0 }
		/^## / { skip = 0 }
		!skip { print }
		END { if (!done) { print ""; emit() } }' "$changelog" >"$tmp/changelog"
	cp "$tmp/changelog" "$changelog"
	[[ $(code_version) == "$next" && $(changelog_version) == "$next" ]] || die "could not write v$next into $version_file and $changelog"
	if ! "$GO" build ./...; then
		git checkout -- "$version_file" "$changelog"
		die "the module does not build (above); nothing released"
	fi
	git add "$version_file" "$changelog"
	git commit -q --cleanup=verbatim -m "Release v$next" -m "$section"
	git tag -a "v$next" --cleanup=verbatim -F "$tmp/section"
	echo "release: committed 'Release v$next' ($(git rev-parse --short HEAD)) and tagged v$next (since $since):"
	sed 's/^/  | /' "$tmp/section"
	echo "release: publish with: git push origin HEAD v$next   (a pushed tag is never moved: fix a bad release with the next patch and a retract directive)"
}

case ${1:-} in
"") release ;;
-check) check ;;
*)
	echo "usage: scripts/release.sh [-check]" >&2
	exit 2
	;;
esac
