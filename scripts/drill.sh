#!/usr/bin/env bash
# drill.sh rehearses spec bumps. For each testdata/spec-bumps/*.yaml (a whole
# modified copy of openapi.yaml), and for the current spec as a baseline, it
# copies the module to a scratch directory, swaps the bump in as
# openapi.yaml, runs
#
#   go generate ./gen && go build ./... && go vet ./... && go test $DRILL_TEST
#
# and compares the outcome with the expectation below. It prints one line
# per bump and exits non-zero if any outcome differs from its expectation.
# The real tree is never touched. Run it as `make drill`.
#
# The copy is the working tree as git sees it (tracked files plus untracked
# files that are not ignored), so uncommitted work is drilled too; in CI that
# is the commit. DRILL_REV=<commit> drills a commit instead (git archive),
# for when the working tree holds unfinished work.
#
# Environment:
#   GO          go command (default go)
#   DRILL_TEST  packages to test (default ./..., what `make test` tests;
#               ./client/... is quicker)
#   DRILL_REV   drill this commit instead of the working tree
#   DRILL_JOBS  bumps run at once after the baseline (default 1)
#   DRILL_KEEP  1 keeps the scratch directories and logs
set -euo pipefail

GO=${GO:-go}
DRILL_TEST=${DRILL_TEST:-./...}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bumps=$root/testdata/spec-bumps

# Expectations, one per bump file (without .yaml). "pass" means every step
# succeeds with no edit to the SDK. "fail <step> <Test>... -- <word>..."
# means <step> must fail, only the named top-level tests may fail, and each
# word must appear in the output. A bump file with no entry is an error, so
# a new bump cannot go unchecked.
declare -A expect=(
	[00-baseline]="pass"
	[01-new-optional-field]="pass"
	# A new status must be classified by hand (terminal? success?):
	# TestStatusEnumClassified fails and names it.
	[02-new-status]="fail test TestStatusEnumClassified -- paused"
	# The SDK keeps unknown step error codes as they are.
	[03-new-step-error-code]="pass"
	# A new operation adds a method to gen.ServerInterface; client/bctrltest
	# must keep compiling without an edit.
	[04-new-operation]="pass"
)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/drill.XXXXXX")
if [[ ${DRILL_KEEP:-} == 1 ]]; then
	echo "drill: keeping scratch directories in $scratch"
else
	trap 'rm -rf "$scratch"' EXIT
fi

# copy_module copies the module's working tree, or DRILL_REV, to $1.
copy_module() {
	mkdir -p "$1"
	if [[ -n ${DRILL_REV:-} ]]; then
		git -C "$root" archive "$DRILL_REV" | tar -xf - -C "$1"
		return
	fi
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do if [[ -e $f ]]; then printf '%s\0' "$f"; fi; done |
		tar --null -T - -cf -) | tar -xf - -C "$1"
}

# run_bump copies the module, applies the bump $2 (a spec file) under name $1
# and writes "<outcome>" to $scratch/$1.outcome, where outcome is "pass" or
# "fail <step>". The full output is in $scratch/$1.log.
run_bump() {
	local name=$1 spec=$2 dir=$scratch/$1 log=$scratch/$1.log step
	copy_module "$dir"
	cp "$spec" "$dir/openapi.yaml"
	: >"$log"
	for step in generate build vet test; do
		local cmd
		case $step in
		generate) cmd=("$GO" generate ./gen) ;;
		build) cmd=("$GO" build ./...) ;;
		vet) cmd=("$GO" vet ./...) ;;
		# shellcheck disable=SC2086 # DRILL_TEST may list several patterns
		test) cmd=("$GO" test -count=1 $DRILL_TEST) ;;
		esac
		echo "\$ ${cmd[*]}" >>"$log"
		if ! (cd "$dir" && "${cmd[@]}") >>"$log" 2>&1; then
			echo "fail $step" >"$scratch/$name.outcome"
			return
		fi
	done
	echo pass >"$scratch/$name.outcome"
}

# verdict prints "ok <reason>" or "mismatch <reason>" for bump $1.
verdict() {
	local name=$1 want=${expect[$1]} got log=$scratch/$1.log
	got=$(cat "$scratch/$name.outcome" 2>/dev/null || echo "fail copy")
	if [[ $want == pass ]]; then
		if [[ $got == pass ]]; then
			echo "ok generate, build, vet and test pass untouched"
		else
			echo "mismatch want pass, got: ${got#fail } failed: $(first_error "$log")"
		fi
		return
	fi
	# want: fail <step> <tests>... -- <words>...
	local -a w=($want)
	local wstep=${w[1]} tests=() words=() seen=0 i
	for ((i = 2; i < ${#w[@]}; i++)); do
		if [[ ${w[i]} == -- ]]; then seen=1; elif ((seen)); then words+=("${w[i]}"); else tests+=("${w[i]}"); fi
	done
	if [[ $got != "fail $wstep" ]]; then
		echo "mismatch want $wstep to fail, got: $got"
		return
	fi
	local failed extra=() t
	failed=$(grep -oE '^--- FAIL: [A-Za-z0-9_]+' "$log" | awk '{print $3}' | sort -u)
	for t in $failed; do
		[[ " ${tests[*]} " == *" $t "* ]] || extra+=("$t")
	done
	if ((${#extra[@]})); then
		echo "mismatch unexpected failing tests: ${extra[*]}"
		return
	fi
	for t in "${tests[@]}"; do
		if ! grep -qx -- "--- FAIL: $t.*" "$log"; then
			echo "mismatch $wstep failed, but not in $t: $(first_error "$log")"
			return
		fi
	done
	for t in "${words[@]}"; do
		if ! grep -qw -- "$t" "$log"; then
			echo "mismatch $wstep failed, but the output does not name \"$t\""
			return
		fi
	done
	echo "ok $wstep fails as expected in ${tests[*]}, naming ${words[*]}: $(first_error "$log")"
}

# first_error prints the first line of the log that looks like a failure.
first_error() {
	grep -m1 -E '(_test\.go:[0-9]+:|\.go:[0-9]+:[0-9]+:|^FAIL|error|panic)' "$1" | sed 's/^[[:space:]]*//' | cut -c1-200
}

start=$SECONDS
names=(00-baseline)
specs=("$root/openapi.yaml")
for f in "$bumps"/*.yaml; do
	names+=("$(basename "$f" .yaml)")
	specs+=("$f")
done
for name in "${names[@]}"; do
	if [[ -z ${expect[$name]+x} ]]; then
		echo "drill: no expectation for $name: add it to the expect table in scripts/drill.sh" >&2
		exit 2
	fi
done

# The bumps share the module and build caches. The baseline runs first and
# warms the cache; then up to DRILL_JOBS bumps run at a time (default 1:
# the client tests use real timeouts, which a loaded machine can miss).
maxjobs=${DRILL_JOBS:-1}
run_bump "${names[0]}" "${specs[0]}"
for i in "${!names[@]}"; do
	((i == 0)) && continue
	while (($(jobs -rp | wc -l) >= maxjobs)); do wait -n || true; done
	run_bump "${names[i]}" "${specs[i]}" &
done
wait

status=0
for name in "${names[@]}"; do
	v=$(verdict "$name")
	if [[ $v == ok* ]]; then
		printf 'PASS %-24s %s\n' "$name" "${v#ok }"
	else
		printf 'FAIL %-24s %s\n' "$name" "${v#mismatch }"
		status=1
		if [[ ${DRILL_KEEP:-} == 1 ]]; then
			echo "     log: $scratch/$name.log"
		else
			sed 's/^/     | /' "$scratch/$name.log" | tail -n 25
		fi
	fi
done
echo "drill: ${#names[@]} specs in $((SECONDS - start))s"
exit $status
