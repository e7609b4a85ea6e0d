#!/usr/bin/env bash
# Install the rendered tree, enable the units, and check the baked config with the built kamailio
# (placeholder boot values; the real include is written at boot). A config kamailio rejects fails the bake.
# SIPBAKE_BOOT_PLACEHOLDER: the placeholder include, rendered by sipbake with the same function the boot
# agent uses (uploaded by Packer beside the tree).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_manifest
for f in etc/kamailio/sipbake-boot.cfg etc/sipbake/rtpproxy-boot.env; do
  [ ! -e "$SIPBAKE_TREE/$f" ] || die "the rendered tree contains $f, which is per-instance and must not be baked" \
    "fix: render without --local (sipbake render IMAGE --out DIR)"
done

log "installing the rendered tree from $SIPBAKE_TREE into ${SIPBAKE_ROOT:-/}"
mkdir -p "$SIPBAKE_ROOT/"
cp -R --no-preserve=ownership,timestamps -T "$SIPBAKE_TREE" "$SIPBAKE_ROOT/"
chmod 0644 "$SIPBAKE_ROOT"/etc/systemd/system/*.service
if on_instance; then
  chown -R root:kamailio /etc/kamailio
  chmod 0750 /etc/kamailio
fi

units=()
for u in "$SIPBAKE_TREE"/etc/systemd/system/*.service; do units+=("$(basename "$u")"); done
log "enabling ${units[*]}"
if on_instance; then
  systemctl daemon-reload
  systemctl enable "${units[@]}"
else
  systemctl --root="$SIPBAKE_ROOT" enable "${units[@]}"
fi

bin="$SIPBAKE_PREFIX/sbin/kamailio"
[ -x "$bin" ] || die "$bin not found" "fix: run 20-kamailio.sh first"
cfg="$SIPBAKE_ROOT/etc/kamailio/kamailio.cfg"
include="$SIPBAKE_ROOT/etc/kamailio/sipbake-boot.cfg"
placeholder="${SIPBAKE_BOOT_PLACEHOLDER:-$(dirname "$SIPBAKE_TREE")/boot-placeholder.cfg}"
[ -f "$placeholder" ] || die "placeholder boot include not found: $placeholder" "fix: sipbake build uploads it; in a rehearsal set SIPBAKE_BOOT_PLACEHOLDER"
trap 'rm -f "$include"' EXIT
install -m 0640 "$placeholder" "$include"
log "checking $cfg with $bin -c (placeholder boot values from $placeholder)"
if ! out="$("$bin" -c -f "$cfg" 2>&1)"; then
  printf '%s\n' "$out" | tail -n 20 >&2
  die "kamailio rejects the baked config $cfg" "fix: run 'sipbake render IMAGE --local' and 'kamailio -c' locally to see the error"
fi
rm -f "$include"
trap - EXIT
log "kamailio accepts the baked config"
