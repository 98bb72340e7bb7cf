#!/usr/bin/env bash
# make demo: build bctrl, start its dev server on a free loopback port, and
# wait on the demo invocation that succeeds, so you can watch it progress.
# Needs no API key and no network. The server is always stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/devserver.sh

GO=${GO:-go}
ID=d3e00000-0000-4000-8000-000000000001 # cmd/bctrl: demoSucceedsID

"$GO" build -o bin/bctrl ./cmd/bctrl

start_devserver demo bin/bctrl
url=$devserver_url

echo "dev server at $url"
echo "+ bctrl invocations wait $ID"
BCTRL_BASE_URL=$url BCTRL_API_KEY=demo-key bin/bctrl invocations wait "$ID" --poll-min 200ms --poll-max 500ms
