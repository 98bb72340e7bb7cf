#!/usr/bin/env bash
# Run the example in one command: build bctrl, start its dev server with
# --simulate on a free loopback port, and run the example's worker and
# workflow against it and a Temporal server (temporal server start-dev,
# localhost:7233 unless TEMPORAL_ADDRESS says otherwise). The dev server is
# always stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/devserver.sh"
GO=${GO:-go}

"$GO" build -C "$root" -o bin/bctrl ./cmd/bctrl

start_devserver example "$root/bin/bctrl" --simulate

BCTRL_BASE_URL=$devserver_url BCTRL_API_KEY=demo-key \
	"$GO" run -C "$root/temporal" ./example
