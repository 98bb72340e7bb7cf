# Sourced by scripts/demo.sh and temporal/example/run.sh, not run.
#
# start_devserver NAME BCTRL [FLAGS...] runs `BCTRL dev-server FLAGS` on a
# free loopback port, waits up to 10 s for it to be ready, and sets
# devserver_url to its address. The server is always stopped on exit. NAME
# prefixes the error messages.
devserver_tmp=
devserver_pid=
devserver_url=

devserver_cleanup() {
	if [[ -n $devserver_pid ]]; then
		kill "$devserver_pid" 2>/dev/null || true
		wait "$devserver_pid" 2>/dev/null || true
	fi
	if [[ -n $devserver_tmp ]]; then
		rm -rf "$devserver_tmp"
	fi
}

start_devserver() {
	local name=$1 bin=$2
	shift 2
	devserver_tmp=$(mktemp -d)
	trap devserver_cleanup EXIT
	trap 'exit 130' INT TERM

	"$bin" dev-server "$@" --addr 127.0.0.1:0 --ready-file "$devserver_tmp/url" >"$devserver_tmp/server.log" 2>&1 &
	devserver_pid=$!
	for _ in $(seq 100); do
		[[ -s $devserver_tmp/url ]] && break
		if ! kill -0 "$devserver_pid" 2>/dev/null; then
			echo "$name: the dev server exited:" >&2
			cat "$devserver_tmp/server.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	if [[ ! -s $devserver_tmp/url ]]; then
		echo "$name: the dev server did not start within 10s" >&2
		exit 1
	fi
	devserver_url=$(head -n1 "$devserver_tmp/url")
}
