# shellcheck shell=bash
# Fetch and verify a pinned source. Nothing is built from a source that fails verification.
#
# A pin is either git (NAME_GIT_URL, NAME_GIT_TAG, NAME_GIT_COMMIT) or a tarball (NAME_TARBALL_URL,
# NAME_TARBALL_SHA256), chosen by NAME_SOURCE=git|tarball in pins.env.

pin_var() { local v="${1}_${2}"; printf '%s' "${!v:-}"; }

# fetch_pin NAME DEST: leaves the verified source tree in DEST.
fetch_pin() {
  local name="$1" dest="$2" kind
  kind="$(pin_var "$name" SOURCE)"
  case "$kind" in
    git) fetch_git_pin "$name" "$dest" ;;
    tarball) fetch_tarball_pin "$name" "$dest" ;;
    *) die "pins.env: ${name}_SOURCE must be git or tarball (got '${kind}')" "fix: edit $SIPBAKE_PINS" ;;
  esac
}

fetch_git_pin() {
  local name="$1" dest="$2" url tag commit actual
  url="$(pin_var "$name" GIT_URL)"
  tag="$(pin_var "$name" GIT_TAG)"
  commit="$(pin_var "$name" GIT_COMMIT)"
  if [ -z "$url" ] || [ -z "$tag" ]; then die "pins.env: ${name}_GIT_URL and ${name}_GIT_TAG must be set" "fix: edit $SIPBAKE_PINS"; fi
  [[ "$commit" =~ ^[0-9a-f]{40}$ ]] || die "pins.env: ${name}_GIT_COMMIT must be a full 40-character commit (got '${commit}')" \
    "fix: npx sipbake pin $(printf '%s' "$name" | tr '[:upper:]' '[:lower:]') $tag"
  if [ -d "$dest/.git" ]; then
    log "$name: reusing $dest"
  else
    log "$name: cloning $url at tag $tag"
    rm -rf "$dest"
    git -c advice.detachedHead=false clone --quiet --depth 1 --branch "$tag" "$url" "$dest" \
      || die "$name: could not clone tag $tag from $url" "fix: check the URL and tag in $SIPBAKE_PINS, and that the build instance can reach it"
  fi
  actual="$(git -C "$dest" rev-parse 'HEAD^{commit}')"
  if [ "$actual" != "$commit" ]; then
    rm -rf "$dest"
    die "$name: tag $tag does not point at the pinned commit; refusing to build it" \
      "expected commit: $commit" "actual commit:   $actual" "url:             $url" \
      "fix: if the tag was moved on purpose, review the change and re-pin with npx sipbake pin"
  fi
  log "$name: verified commit $actual (tag $tag)"
}

fetch_tarball_pin() {
  local name="$1" dest="$2" url sha file actual
  url="$(pin_var "$name" TARBALL_URL)"
  sha="$(pin_var "$name" TARBALL_SHA256)"
  [ -n "$url" ] || die "pins.env: ${name}_TARBALL_URL must be set" "fix: edit $SIPBAKE_PINS"
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "pins.env: ${name}_TARBALL_SHA256 is not a sha256 (got '${sha}')" \
    "fix: npx sipbake pin $(printf '%s' "$name" | tr '[:upper:]' '[:lower:]') VERSION --tarball (downloads it and records the sha256)"
  mkdir -p "$SIPBAKE_WORK/downloads"
  file="$SIPBAKE_WORK/downloads/$(basename "${url%%\?*}")"
  if [ ! -f "$file" ]; then
    log "$name: downloading $url"
    curl -fsSL --retry 3 -o "$file.part" "$url" || { rm -f "$file.part"; die "$name: could not download $url" "fix: check the URL in $SIPBAKE_PINS"; }
    mv "$file.part" "$file"
  fi
  actual="$(sha256sum "$file" | cut -d' ' -f1)"
  if [ "$actual" != "$sha" ]; then
    rm -f "$file"
    die "$name: sha256 of the downloaded tarball does not match the pin; refusing to build it" \
      "expected sha256: $sha" "actual sha256:   $actual" "url:             $url" \
      "fix: if upstream re-published the tarball on purpose, review it and re-pin with npx sipbake pin ... --tarball"
  fi
  log "$name: verified sha256 $actual"
  if stamp_matches "extract-$name" "$actual" && [ -d "$dest" ]; then
    log "$name: reusing extracted $dest"
    return 0
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xf "$file" -C "$dest" --strip-components=1 --no-same-owner
  stamp_write "extract-$name" "$actual"
}
