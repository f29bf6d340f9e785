#!/usr/bin/env bash
# End-to-end test of examples/browser: builds the page and drives it in headless Chromium (Debian's package,
# through playwright-core) on webgl (SwiftShader), wasm and cpu. Called by .ci/run; runs alone too:
#   .ci/browser-e2e.sh
# Needs the Omniglot zips (OMNIGLOT_DIR, default ../shared/omniglot). Uses MANN_E2E_CHECKPOINT if set, else the
# trained model shipped in checkpoints/omniglot-mann, else writes a small untrained checkpoint first.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

if [ -z "${OMNIGLOT_DIR:-}" ] && [ -d ../shared/omniglot ]; then
  export OMNIGLOT_DIR="$(cd ../shared/omniglot && pwd)"
fi
if [ -z "${OMNIGLOT_DIR:-}" ] || [ ! -f "$OMNIGLOT_DIR/images_evaluation.zip" ]; then
  echo "browser-e2e: no images_evaluation.zip in OMNIGLOT_DIR=${OMNIGLOT_DIR:-unset}; set OMNIGLOT_DIR to the folder with the authors' Omniglot zips." >&2
  exit 1
fi

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ] && [ "$CHROMIUM" = /usr/bin/chromium ]; then
  echo "browser-e2e: $CHROMIUM is missing; installing Debian's chromium package"
  if command -v apt-get >/dev/null 2>&1; then
    as_root=""
    if [ "$(id -u)" != 0 ]; then as_root="sudo -n"; fi
    { $as_root apt-get update && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y --no-install-recommends chromium; } || true
  fi
fi
if [ ! -x "$CHROMIUM" ]; then
  echo ""
  echo "##########################################################################################"
  echo "##  SKIPPED: the browser end-to-end test (examples/browser).                            ##"
  echo "##  Chromium is not at $CHROMIUM and could not be installed (no apt-get, no root,       ##"
  echo "##  or no package mirror). Install it (apt-get install -y chromium) or set CHROMIUM_PATH.##"
  echo "##########################################################################################"
  echo ""
  exit 0
fi
echo "browser-e2e: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"), OMNIGLOT_DIR=$OMNIGLOT_DIR"

# The @mann packages the page imports; the page itself is built with npm below (its turbo cache keys on
# OMNIGLOT_DIR and MANN_CHECKPOINT but cannot see the zips' or the checkpoint folder's contents).
npx turbo run build --filter='@mann/example-browser^...' --output-logs=errors-only

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
checkpoint="${MANN_E2E_CHECKPOINT:-}"
if [ -z "$checkpoint" ] && [ -f checkpoints/omniglot-mann/manifest.json ]; then
  checkpoint="$(pwd)/checkpoints/omniglot-mann"
fi
if [ -z "$checkpoint" ]; then
  checkpoint="$work/checkpoint"
  node examples/browser/scripts/make-checkpoint.mjs "$checkpoint"
fi
MANN_CHECKPOINT="$checkpoint" npm run build -w @mann/example-browser
npm run test:e2e -w @mann/example-browser
echo "browser-e2e: passed in $(( $(date +%s) - started )) s (screenshot: examples/browser/screenshot.png)"
