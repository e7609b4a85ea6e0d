# shellcheck shell=bash
# Detached-signature check the way AWS documents it for the SSM agent ("Verify the signature of SSM Agent"):
# import the published public key, check it is the key whose fingerprint the repository pins, then
# `gpg --verify FILE.sig FILE`. Sourced after lib/common.sh (log, warn, die); never run.

# verify_signature KEY_FILE PINNED_FINGERPRINT SIG_FILE FILE
# Succeeds only for a good signature by the pinned primary key (or its subkey). A signature made while the key
# was valid still counts after the key expires (gpg reports EXPKEYSIG); one made after expiry does not.
verify_signature() {
  local key="$1" pin="$2" sig="$3" file="$4"
  pin="$(printf '%s' "$pin" | tr -d ' ' | tr '[:lower:]' '[:upper:]')"
  [[ "$pin" =~ ^[0-9A-F]{40}$ ]] || die "pinned key fingerprint is not 40 hex digits: '$2'" "fix: set it in pins.env from AWS's page"
  [ -f "$key" ] || die "public key file not found: $key"
  [ -f "$sig" ] || die "signature file not found: $sig"
  [ -f "$file" ] || die "file to verify not found: $file"
  local home status primary expires
  home="$(mktemp -d)"
  # The fingerprint of the key in the file, before trusting anything in it.
  primary="$(gpg --homedir "$home" --batch --with-colons --import-options show-only --import "$key" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')"
  if [ "$primary" != "$pin" ]; then
    rm -rf "$home"
    die "$key is not the pinned key" "its fingerprint: ${primary:-none}" "pinned:          $pin" \
      "fix: replace the key file with the one on AWS's \"Verify the signature of SSM Agent\" page (the fingerprint stays the same when AWS extends its expiry)"
  fi
  gpg --homedir "$home" --batch --quiet --import "$key" 2>/dev/null || { rm -rf "$home"; die "gpg could not import $key"; }
  expires="$(gpg --homedir "$home" --batch --with-colons --list-keys "$pin" 2>/dev/null | awk -F: '$1 == "pub" { print $7; exit }')"
  status="$(gpg --homedir "$home" --batch --status-fd 1 --verify "$sig" "$file" 2>/dev/null || true)"
  rm -rf "$home"
  # VALIDSIG <signing key fpr> <date> <sig timestamp> <expire> <version> <reserved> <pk algo> <hash algo> <class> <primary key fpr>
  local valid signed_at
  valid="$(printf '%s\n' "$status" | awk -v pin="$pin" '$2 == "VALIDSIG" && ($3 == pin || $NF == pin) { print $5; exit }')"
  if printf '%s\n' "$status" | grep -q '^\[GNUPG:\] BADSIG'; then
    die "BAD signature: $file does not match $sig" "the download was altered or damaged; nothing was installed"
  fi
  [ -n "$valid" ] || die "no good signature by the pinned key on $file" "gpg said: $(printf '%s' "$status" | grep -o 'ERRSIG.*\|NO_PUBKEY.*\|NODATA.*' | head -1)"
  signed_at="$valid"
  if printf '%s\n' "$status" | grep -q '^\[GNUPG:\] EXPKEYSIG'; then
    if [ -n "$expires" ] && [ "$signed_at" -gt "$expires" ]; then
      die "$file was signed after the pinned key expired" "fix: replace $key with the current key from AWS's \"Verify the signature of SSM Agent\" page"
    fi
    warn "the pinned key has expired since it signed $file (signed $(date -u -d "@$signed_at" +%F), key expired $(date -u -d "@$expires" +%F)); the signature is still good"
  fi
  log "good signature on $(basename "$file") by the pinned key $pin"
}
