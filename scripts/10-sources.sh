#!/usr/bin/env bash
# Fetch every pinned source and verify it (commit or sha256) before anything is compiled.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/pins.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/pins.sh"

load_pins
require_manifest
mkdir -p "$SIPBAKE_WORK/src"

fetch_pin KAMAILIO "$SIPBAKE_WORK/src/kamailio"
if uses_rtpproxy; then
  fetch_pin RTPPROXY "$SIPBAKE_WORK/src/rtpproxy"
else
  log "image does not use RTPProxy; not fetching it"
fi
log "all sources verified"
