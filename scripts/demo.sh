#!/usr/bin/env bash
# make demo: build bctrl, start its dev server on a free loopback port, and
# wait on the demo invocation that succeeds, so you can watch it progress.
# Needs no API key and no network. The server is always stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
ID=d3e00000-0000-4000-8000-000000000001 # cmd/bctrl: demoSucceedsID

"$GO" build -o bin/bctrl ./cmd/bctrl

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

bin/bctrl dev-server --addr 127.0.0.1:0 --ready-file "$tmp/url" >"$tmp/server.log" 2>&1 &
server=$!

for _ in $(seq 100); do
	[[ -s $tmp/url ]] && break
	if ! kill -0 "$server" 2>/dev/null; then
		echo "demo: the dev server exited:" >&2
		cat "$tmp/server.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ ! -s $tmp/url ]]; then
	echo "demo: the dev server did not start within 10s" >&2
	exit 1
fi
url=$(<"$tmp/url")

echo "dev server at $url"
echo "+ bctrl invocations wait $ID"
BCTRL_BASE_URL=$url BCTRL_API_KEY=demo-key bin/bctrl invocations wait "$ID" --poll-min 200ms --poll-max 500ms
