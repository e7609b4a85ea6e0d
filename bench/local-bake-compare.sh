#!/usr/bin/env bash
# Compare two baked roots file by file: path, type, mode, owner, and the sha256 of each regular file / the target of
# each link. Used to show that a root fitted from a shared compile (src/bake/local/share.ts) is the root the image's
# own compile makes: run it on the two and read the differences it prints (ignores /proc, /dev, /sys, /run, /tmp).
# Usage: bash bench/local-bake-compare.sh ROOT_A ROOT_B
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 ROOT_A ROOT_B" >&2; exit 2; }
list() {
  local prune=(\( -path ./proc -o -path ./dev -o -path ./sys -o -path ./run -o -path ./tmp \) -prune -o)
  (
    cd "$1"
    find . -xdev "${prune[@]}" -type f -print0 | xargs -0 -r sha256sum | awk '{ print $2, "sha256", substr($1, 1, 16) }'
    find . -xdev "${prune[@]}" -printf '%p %y %m %u %g %l\n'
  ) | sort
}
diff <(list "$1") <(list "$2") && echo "no differences"
