#!/usr/bin/env bash
# drill.sh rehearses spec bumps. For each testdata/spec-bumps/*.yaml (a whole
# modified copy of openapi.yaml), and for the current spec as a baseline, it
# copies the module to a scratch directory, swaps the bump in as
# openapi.yaml, runs
#
#   go generate ./gen && go build ./... && go vet ./... && go test $DRILL_TEST
#
# (with the bump's own <bump>_test.go, if any, copied into client/ first)
# then compares the exported Go API of ./client and ./gen with the
# baseline's (scripts/apidiff.sh), and checks both outcomes against the
# expectations below. It prints one line per bump, plus apidiff's counts,
# and exits non-zero if any outcome differs from its expectation. The real
# tree is never touched. Run it as `make drill`.
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
#
# The apidiff report of each bump is in $scratch/<bump>.apidiff.
set -euo pipefail

GO=${GO:-go}
DRILL_TEST=${DRILL_TEST:-./...}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bumps=$root/testdata/spec-bumps

# Expectations, one per bump file (without .yaml). "pass" means every step
# succeeds with no edit to the SDK. "fail <step> <Test>... -- <word>..."
# means <step> must fail, only the named top-level tests may fail, and each
# word must appear in the output. Either may be followed by
# "; client API compatible": apidiff must run and find no change that can
# break code using ./client (scripts/apidiff.sh says which changes count),
# or "; client API incompatible": it must find one. Without either,
# apidiff's counts are printed but not judged. A bump file with no entry
# is an error, so a new bump cannot go unchecked.
declare -A expect=(
	[00-baseline]="pass"
	# New properties on the invocation and on Progress are new fields.
	[01-new-optional-field]="pass; client API compatible"
	# A new status must be classified by hand (terminal? success?):
	# TestStatusEnumClassified fails and names it.
	[02-new-status]="fail test TestStatusEnumClassified -- paused"
	# The SDK keeps unknown step error codes as they are.
	[03-new-step-error-code]="pass; client API compatible"
	# A new operation (cancel, answering with Fern's own copy of the
	# invocation schema) is a typed method returning *client.Invocation
	# (04-new-operation_test.go calls it against bctrltest); bctrltest
	# answers it 501 until HandleOperation serves it.
	[04-new-operation]="pass; client API compatible"
	# New properties on both step variants and on the step error reach the
	# types Get returns (client/spec_test.go checks each one).
	[05-new-step-variant-fields]="pass; client API compatible"
	# A removed property compiles here but breaks users who read it: apidiff
	# must say so. This keeps the apidiff check itself honest.
	[06-removed-property]="pass; client API incompatible"
	# A new number is a float64 and a new optional boolean a *bool, with no
	# edit (TestNumbersAreFloat64, TestOptionalNumbersKeepPresence), and
	# the random body generator covers them.
	[07-new-number-and-boolean]="pass; client API compatible"
	# A list operation (status, limit, cursor; a page {data, nextCursor}
	# with x-fern-pagination) is List and ListAll, its items
	# client.Invocation.
	[08-new-list-operation]="pass; client API compatible"
	# A create operation with a JSON body is Create(ctx, body).
	[09-new-create-operation]="pass; client API compatible"
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
# "fail <step>". The full output is in $scratch/$1.log. Once generation has
# succeeded, it compares the API with the baseline's (see api_diff).
run_bump() {
	local name=$1 spec=$2 dir=$scratch/$1 log=$scratch/$1.log step
	copy_module "$dir"
	cp "$spec" "$dir/openapi.yaml"
	# A bump's own test (<bump>_test.go beside it) calls what it adds,
	# against bctrltest, in the copy's client package.
	if [[ -f ${spec%.yaml}_test.go ]]; then
		cp "${spec%.yaml}_test.go" "$dir/client/zz_drill_test.go"
	fi
	: >"$log"
	for step in generate build vet test; do
		local cmd
		case $step in
		generate) cmd=("$GO" generate ./gen) ;;
		build) cmd=("$GO" build ./...) ;;
		vet) cmd=("$GO" vet ./...) ;;
		test)
			local -a pkgs # DRILL_TEST may list several patterns
			read -ra pkgs <<<"$DRILL_TEST"
			cmd=("$GO" test -count=1 "${pkgs[@]}")
			;;
		esac
		echo "\$ ${cmd[*]}" >>"$log"
		if ! (cd "$dir" && "${cmd[@]}") >>"$log" 2>&1; then
			echo "fail $step" >"$scratch/$name.outcome"
			break
		fi
	done
	[[ -f $scratch/$name.outcome ]] || echo pass >"$scratch/$name.outcome"
	if [[ $name != "${names[0]}" && $(cat "$scratch/$name.outcome") != "fail generate" ]]; then
		api_diff "$name"
	fi
}

# api_diff compares the API of bump $1's copy with the baseline's, saved by
# save_baseline_api. It writes apidiff.sh's report to $scratch/$1.apidiff
# and its exit status to $scratch/$1.apidiff.rc: 0 compatible, 3 not, any
# other: apidiff could not run.
api_diff() {
	local name=$1 rc=0
	if [[ ! -f $scratch/baseline.api.ok ]]; then
		{
			echo "apidiff: the baseline's API could not be saved:"
			cat "$scratch/baseline.apidiff"
		} >"$scratch/$name.apidiff"
		echo 1 >"$scratch/$name.apidiff.rc"
		return
	fi
	GO=$GO APIDIFF_DIR=$scratch/bin "$root/scripts/apidiff.sh" "$scratch/baseline.api" "$scratch/$name" \
		>"$scratch/$name.apidiff" 2>&1 || rc=$?
	echo "$rc" >"$scratch/$name.apidiff.rc"
}

# save_baseline_api saves the baseline copy's API in $scratch/baseline.api
# for api_diff, and builds apidiff once into $scratch/bin for all bumps.
save_baseline_api() {
	GO=$GO APIDIFF_DIR=$scratch/bin "$root/scripts/apidiff.sh" -w "$scratch/baseline.api" "$scratch/${names[0]}" \
		>"$scratch/baseline.apidiff" 2>&1 && touch "$scratch/baseline.api.ok"
}

# verdict prints "ok <reason>" or "mismatch <reason>" for bump $1, or
# "apimismatch <reason>" when only apidiff's outcome differs.
verdict() {
	local v a
	v=$(step_verdict "$1" "$(want_steps "$1")")
	if [[ $v != ok* ]]; then
		echo "$v"
		return
	fi
	a=$(api_verdict "$1" "$(want_api "$1")")
	if [[ $a != ok* ]]; then
		echo "$a"
		return
	fi
	a=${a#ok}
	echo "$v$a"
}

# want_steps and want_api print the two parts of bump $1's expectation:
# "pass" or "fail ...", and "compatible", "incompatible" or "".
want_steps() {
	echo "${expect[$1]%%;*}"
}
want_api() {
	local e=${expect[$1]}
	[[ $e == *";"* ]] || return 0
	e=${e#*;}
	e=${e# client API }
	echo "$e"
}

# api_verdict prints "ok[, <what>]" or "apimismatch <reason>" for bump $1
# whose apidiff must report a change that breaks users of ./client
# ($2 = incompatible), must not ($2 = compatible), or is not judged ($2 = "").
api_verdict() {
	local name=$1 want=$2 rc
	rc=$(cat "$scratch/$name.apidiff.rc" 2>/dev/null || echo none)
	case $want:$rc in
	:*) echo ok ;;
	compatible:0) echo "ok, client API compatible" ;;
	incompatible:3) echo "ok, client API incompatible as expected" ;;
	compatible:3) echo "apimismatch want no incompatible change to client/, apidiff found one" ;;
	incompatible:0) echo "apimismatch want apidiff to find an incompatible change to client/, it found none" ;;
	*:none) echo "apimismatch apidiff did not run" ;;
	*) echo "apimismatch apidiff could not run: $(tail -n1 "$scratch/$name.apidiff" | cut -c1-200)" ;;
	esac
}

# step_verdict prints "ok <reason>" or "mismatch <reason>" for bump $1
# whose steps must end as $2 ("pass" or "fail <step> ...").
step_verdict() {
	local name=$1 want=$2 got log=$scratch/$1.log
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
	local -a w
	read -ra w <<<"$want"
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
	if [[ ! $(want_steps "$name") =~ ^(pass|fail\ [a-z]+\ .*)\ *$ || ! $(want_api "$name") =~ ^(|compatible|incompatible)$ ]]; then
		echo "drill: bad expectation for $name: ${expect[$name]}" >&2
		exit 2
	fi
done

# The bumps share the module and build caches. The baseline runs first and
# warms the cache; then up to DRILL_JOBS bumps run at a time (default 1:
# the client tests use real timeouts, which a loaded machine can miss).
maxjobs=${DRILL_JOBS:-1}
run_bump "${names[0]}" "${specs[0]}"
save_baseline_api
for i in "${!names[@]}"; do
	((i == 0)) && continue
	while (($(jobs -rp | wc -l) >= maxjobs)); do wait -n || true; done
	run_bump "${names[i]}" "${specs[i]}" &
done
wait

# api_summary prints apidiff's counts for bump $1, or why there are none.
api_summary() {
	local name=$1 r=$scratch/$1.apidiff
	if [[ $name == "${names[0]}" ]]; then
		if [[ -f $scratch/baseline.api.ok ]]; then
			echo "apidiff: API of every importable package saved for comparison"
		else
			echo "apidiff: NOT RUN: cannot save the baseline's API: $(tail -n1 "$scratch/baseline.apidiff" | cut -c1-200)"
		fi
	elif [[ ! -f $r ]]; then
		echo "apidiff: not run (generation failed)"
	elif grep -q '^apidiff: \./client' "$r"; then
		grep '^apidiff: \./client' "$r"
	else
		echo "apidiff: COULD NOT RUN: $(tail -n1 "$r" | cut -c1-200)"
	fi
}

status=0
for name in "${names[@]}"; do
	v=$(verdict "$name")
	case $v in
	ok*) printf 'PASS %-26s %s\n' "$name" "${v#ok }" ;;
	*)
		printf 'FAIL %-26s %s\n' "$name" "${v#*mismatch }"
		status=1
		;;
	esac
	echo "     $(api_summary "$name")"
	case $v in
	ok*) ;;
	apimismatch*) sed 's/^/     | /' "$scratch/$name.apidiff" 2>/dev/null || true ;;
	*)
		if [[ ${DRILL_KEEP:-} == 1 ]]; then
			echo "     log: $scratch/$name.log"
		else
			sed 's/^/     | /' "$scratch/$name.log" | tail -n 25
		fi
		;;
	esac
done
echo "drill: ${#names[@]} specs in $((SECONDS - start))s"
exit $status
