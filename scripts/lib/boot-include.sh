# shellcheck shell=bash
# Writes a boot include in the shape src/render/boot-include.ts renders (design.md "The boot include").
# Used only for `kamailio -c` during the bake, with placeholder addresses; removed straight after.
# test/bake/boot-include-contract.test.ts compares this output with renderBootInclude's.

# write_boot_include FILE PRIVATE_IP PUBLIC_IP ROOT [DB_URL]
write_boot_include() {
  local file="$1" private_ip="$2" public_ip="$3" root="${4%/}" db_url="${5:-}" run
  run="$root/run/kamailio"
  {
    printf '%s\n' '# Written at boot by sipbake-boot (never baked into the image).'
    printf '#!substdef "!SIPBAKE_PRIVATE_IP!%s!g"\n' "$private_ip"
    printf '#!substdef "!SIPBAKE_PUBLIC_IP!%s!g"\n' "$public_ip"
    printf '#!define SIPBAKE_RUN_DIR "%s"\n' "$run"
    printf '#!define SIPBAKE_CTL_SOCK "unix:%s/kamailio_ctl"\n' "$run"
    printf '#!define SIPBAKE_JSONRPC_FIFO "%s/kamailio_rpc.fifo"\n' "$run"
    printf '#!define SIPBAKE_DS_LIST "%s/etc/kamailio/dispatcher.list"\n' "$root"
    printf '#!define SIPBAKE_TLS_CFG "%s/etc/kamailio/tls.cfg"\n' "$root"
    if [ -n "$db_url" ]; then printf '#!define SIPBAKE_DB_URL "%s"\n' "$db_url"; fi
  } >"$file"
}
