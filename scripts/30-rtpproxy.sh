#!/usr/bin/env bash
# Build and install RTPProxy (when the image uses it), create its user and install its unit.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_manifest
if ! uses_rtpproxy; then
  log "image does not use RTPProxy; nothing to do"
  exit 0
fi
src="$SIPBAKE_WORK/src/rtpproxy"
[ -f "$src/configure" ] || die "RTPProxy source not found in $src (no configure script)" "fix: run 10-sources.sh first"

bin="$SIPBAKE_PREFIX/bin/rtpproxy"
key="$(source_id "$src" RTPPROXY) $SIPBAKE_PREFIX"
if stamp_matches rtpproxy-install "$key" && [ -x "$bin" ]; then
  log "RTPProxy already built and installed for this source and prefix"
else
  log "configure --prefix=$SIPBAKE_PREFIX"
  (cd "$src" && ./configure --prefix="$SIPBAKE_PREFIX")
  log "make (-j$SIPBAKE_JOBS)"
  make -C "$src" -j"$SIPBAKE_JOBS"
  log "make install"
  make -C "$src" install
  stamp_write rtpproxy-install "$key"
fi
[ -x "$bin" ] || die "make install did not produce $bin"
log "installed $bin"

ensure_system_user rtpproxy

for f in etc/systemd/system/rtpproxy.service etc/sipbake/rtpproxy.env; do
  [ -f "$SIPBAKE_TREE/$f" ] || die "rendered tree has no $f" "fix: re-render the image"
  install -D -m 0644 "$SIPBAKE_TREE/$f" "$SIPBAKE_ROOT/$f"
done
log "installed rtpproxy.service with the rendered options"
