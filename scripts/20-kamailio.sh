#!/usr/bin/env bash
# Build Kamailio with exactly the modules the image loads (etc/sipbake/image.json), install it under one
# prefix, create the kamailio user and install the unit.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_manifest
src="$SIPBAKE_WORK/src/kamailio"
[ -f "$src/Makefile" ] || die "Kamailio source not found in $src" "fix: run 10-sources.sh first"

read -r -a modules <<<"$(manifest_get modules)"
[ "${#modules[@]}" -gt 0 ] || die "image.json lists no modules" "fix: re-render the image"
backend="$(manifest_get dispatcher.backend.type)"
tls="$(manifest_get tls.enabled)"
if has_module db_postgres && [ "$backend" != postgres ]; then die "image.json loads db_postgres without the postgres backend" "fix: re-render the image"; fi
if has_module tls && [ "$tls" != true ]; then die "image.json loads tls but tls.enabled is not true" "fix: re-render the image"; fi

bin="$SIPBAKE_PREFIX/sbin/kamailio"
moddir="$SIPBAKE_PREFIX/lib64/kamailio/modules"
key="$(source_id "$src" KAMAILIO) ${SIPBAKE_PREFIX} ${modules[*]}"
if stamp_matches kamailio-install "$key" && [ -x "$bin" ]; then
  log "Kamailio already built and installed for this source, prefix and module set"
else
  log "make cfg prefix=$SIPBAKE_PREFIX, group_include=sipbake (empty group), include_modules=${modules[*]}"
  # group_include switches Kamailio's module selection from 'all but the excluded' to 'exactly the listed';
  # module_group_sipbake is an empty group of our own, so include_modules is the whole set.
  make -C "$src" cfg prefix="$SIPBAKE_PREFIX" group_include=sipbake module_group_sipbake= include_modules="${modules[*]}"
  log "make all (-j$SIPBAKE_JOBS)"
  make -C "$src" -j"$SIPBAKE_JOBS" all
  log "make install"
  make -C "$src" install
  # Kamailio's sample configs and docs are not used (the baked config is /etc/kamailio/kamailio.cfg).
  rm -rf "$SIPBAKE_PREFIX/etc/kamailio" "$SIPBAKE_PREFIX/share/doc/kamailio"
  stamp_write kamailio-install "$key"
fi

[ -x "$bin" ] || die "make install did not produce $bin"
missing=()
for m in "${modules[@]}"; do [ -f "$moddir/$m.so" ] || missing+=("$m"); done
[ "${#missing[@]}" -eq 0 ] || die "modules missing after the build: ${missing[*]}" "look in $moddir; fix the module list in the image definition"
extra=()
for f in "$moddir"/*.so; do
  m="$(basename "$f" .so)"
  has_module "$m" || extra+=("$m")
done
[ "${#extra[@]}" -eq 0 ] || die "modules built that the image does not load: ${extra[*]}" "remove $moddir and re-run"
log "kamailio $("$bin" -v | head -n1 | cut -d' ' -f3) with ${#modules[@]} modules in $moddir"

ensure_system_user kamailio

unit="$SIPBAKE_TREE/etc/systemd/system/kamailio.service"
[ -f "$unit" ] || die "rendered tree has no kamailio.service" "fix: re-render the image"
install -D -m 0644 "$unit" "$SIPBAKE_ROOT/etc/systemd/system/kamailio.service"
log "installed kamailio.service"
