#!/usr/bin/env bash
# apidiff.sh reports how the exported Go API of the module changed between
# two trees of it, with golang.org/x/exp/cmd/apidiff. The API is that of
# every package a user can import: all but main and internal packages
# (./client, ./client/bctrltest, ./gen, ./apitype today; a package added or
# removed between the trees is reported as such):
#
#   scripts/apidiff.sh OLD NEW          compare; print the changes
#   scripts/apidiff.sh -w OUT DIR       save DIR's API (export data) in OUT
#
# OLD and NEW are module directories, or directories written by -w (which
# lets a caller save the API before it changes a tree in place, as
# spec-bump.sh does). For each package it prints the incompatible changes
# (those that can break code using the package), then the compatible ones,
# and it ends with two lines for callers to read:
#
#   apidiff: ./client 0 incompatible, 1 compatible; ./gen 2 incompatible (2 new interface methods), 7 compatible
#   apidiff: additions: 10
#   apidiff: no incompatible change for users of ./client
#
# ./client comes first, then the others by name. "additions" counts the
# compatible changes plus the listed ones below (scripts/release.sh reads
# it: an addition makes a minor release).
#
# What users of ./client can be broken by is judged from every package.
# client/ aliases the generated model types (client.Progress = gen.Progress),
# and apidiff reports a change to an alias's type only in the package that
# declares it, gen: a removed gen.Diagnostic.Driver is a removed
# client.Diagnostic.Driver. So every incompatible change to any package
# counts, except a method added to one of gen's interfaces
# (ClientInterface, ServerInterface...; apidiff's "T.M: added"): each new
# operation adds one, which breaks only code that implements them (mocks,
# client/bctrltest, which the build catches). Nor does a generated type
# that stops being comparable ("T: old is comparable, new is not"), which a
# new list or map property does to its struct: the model's types are not
# promised to be comparable with == (README, Versions), or every new array
# property would be a breaking change. Those are listed, not judged.
#
# Exit status: 0 when no change breaks users of ./client, 3 when one does, 1
# when apidiff could not run (a package does not compile, the tool cannot
# be built), 2 on a usage error.
#
# apidiff is pinned in scripts/tools.sh and built with `go install pkg@version`, which
# does not touch go.mod, into APIDIFF_DIR (default: a temporary directory);
# callers that run this script many times set APIDIFF_DIR to build it once.
#
# Environment: GO (default go), APIDIFF_DIR.
set -euo pipefail

GO=${GO:-go}
# shellcheck source=tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh" # apidiff_pkg

usage() {
	echo "usage: scripts/apidiff.sh OLD NEW | scripts/apidiff.sh -w OUT DIR" >&2
	exit 2
}
fail() {
	echo "apidiff: $*" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/apidiff.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# tool prints the path of the pinned apidiff binary, building it if needed.
tool() {
	local dir=${APIDIFF_DIR:-$tmp/bin}
	if [[ ! -x $dir/apidiff ]]; then
		mkdir -p "$dir"
		GOBIN=$(cd "$dir" && pwd) "$GO" install "$apidiff_pkg" >&2 ||
			fail "cannot build $apidiff_pkg"
	fi
	echo "$dir/apidiff"
}

# list_pkgs prints the importable packages of module directory $1, one per
# line, relative to the module root: client first, then by name.
list_pkgs() {
	local mod
	mod=$(cd "$1" && "$GO" list -m) || fail "$1: cannot read the module path"
	(cd "$1" && "$GO" list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./...) |
		sed -n "s|^$mod/||p" | grep -vE '(^|/)internal(/|$)' |
		awk '{ print ($0 == "client" ? 0 : 1), $0 }' | sort | cut -d' ' -f2-
}

# export_api writes the export data of each package of module directory $2
# to $1/<pkg with / as _>.api, and the list of packages to $1/packages.
export_api() {
	local out=$1 dir=$2 bin p
	[[ -f $dir/go.mod ]] || fail "$dir: not a module directory (no go.mod)"
	bin=$(tool)
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	list_pkgs "$dir" >"$out/packages" || fail "cannot list the packages of $dir (does it compile?)"
	while read -r p; do
		# Run in the module's directory, so that ./$p is that tree's package
		# and not one from the module cache.
		(cd "$dir" && "$bin" -w "$out/${p//\//_}.api" "./$p") ||
			fail "cannot export the API of ./$p in $dir (does it compile?)"
	done <"$out/packages"
}

# api_dir prints a directory holding <pkg>.api files for $1, a module
# directory (exported now, into $tmp/$2) or a directory written by -w.
api_dir() {
	if [[ -f $1/go.mod ]]; then
		export_api "$tmp/$2" "$1"
		echo "$tmp/$2"
	else
		echo "$1"
	fi
}

# count prints how many "- message" lines of apidiff report $1 are in its
# section $2 ("Incompatible" or "Compatible") and, if $3 is given, match
# the extended regexp $3.
count() {
	awk -v want="$2 changes:" -v re="${3:-}" '
		/^(Inc|C)ompatible changes:$/ { s = ($0 == want); next }
		s && /^- / && (re == "" || $0 ~ re) { n++ }
		END { print n + 0 }' <<<"$1"
}

compare() {
	local old new bin p f report ninc ncomp nadd ncmp breaking=0 additions=0 summary=""
	old=$(api_dir "$1" old)
	new=$(api_dir "$2" new)
	bin=$(tool)
	[[ -f $old/packages && -f $new/packages ]] || fail "no package list in $old or $new"
	echo "apidiff ${apidiff_pkg#*@}: $1 -> $2"
	# Packages in either tree, in the new tree's order, then removed ones.
	for p in $(cat "$new/packages" "$old/packages" | awk '!seen[$0]++'); do
		f=${p//\//_}.api
		if [[ ! -f $old/$f ]]; then
			report=$'Compatible changes:\n- package added'
		elif [[ ! -f $new/$f ]]; then
			report=$'Incompatible changes:\n- package removed'
		else
			report=$("$bin" "$old/$f" "$new/$f") || fail "cannot compare ./$p"
		fi
		ninc=$(count "$report" Incompatible)
		ncomp=$(count "$report" Compatible)
		nadd=0 ncmp=0
		if [[ $p == gen ]]; then
			nadd=$(count "$report" Incompatible '^- [^ ]+[.][^ .]+: added$')
			ncmp=$(count "$report" Incompatible '^- [^ ]+: old is comparable, new is not$')
		fi
		printf '\n--- ./%s: %d incompatible, %d compatible\n' "$p" "$ninc" "$ncomp"
		if [[ -n $report ]]; then echo "$report"; fi
		summary+="; ./$p $ninc incompatible"
		if ((nadd)); then summary+=" ($nadd new interface methods)"; fi
		if ((ncmp)); then summary+=" ($ncmp no longer comparable)"; fi
		summary+=", $ncomp compatible"
		breaking=$((breaking + ninc - nadd - ncmp))
		additions=$((additions + ncomp + nadd + ncmp))
	done
	echo
	echo "apidiff: ${summary#; }"
	echo "apidiff: additions: $additions"
	if ((breaking)); then
		echo "apidiff: INCOMPATIBLE: $breaking change(s) above can break code that uses ./client"
		return 3
	fi
	echo "apidiff: no incompatible change for users of ./client"
}

case ${1:-} in
-w)
	[[ $# == 3 ]] || usage
	export_api "$2" "$3"
	;;
-*) usage ;;
*)
	[[ $# == 2 ]] || usage
	compare "$1" "$2"
	;;
esac
