#!/usr/bin/env bash
# Run the example in one command: build bctrl, start its dev server with
# --simulate on a free loopback port, and run the example's worker and
# workflow against it and a Temporal server (temporal server start-dev,
# localhost:7233 unless TEMPORAL_ADDRESS says otherwise). The dev server is
# always stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
GO=${GO:-go}

"$GO" build -C "$root" -o bin/bctrl ./cmd/bctrl

tmp=$(mktemp -d)
server=
cleanup() {
	if [[ -n $server ]]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/bin/bctrl" dev-server --simulate --addr 127.0.0.1:0 --ready-file "$tmp/url" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
	[[ -s $tmp/url ]] && break
	if ! kill -0 "$server" 2>/dev/null; then
		echo "example: the dev server exited:" >&2
		cat "$tmp/server.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ ! -s $tmp/url ]]; then
	echo "example: the dev server did not start within 10s" >&2
	exit 1
fi

BCTRL_BASE_URL=$(head -n1 "$tmp/url") BCTRL_API_KEY=demo-key \
	"$GO" run -C "$root/temporal" ./example
