#!/usr/bin/env bash
# Makes sure a headless Chromium can run, for the test that opens the sweep report in a real
# browser (test/report-browser.test.ts), then prints the browser's path on stdout (the only thing
# printed on stdout; messages go to stderr):
#
#   DISTMT_CHROMIUM="$(tools/chromium.sh)" npx vitest run test/report-browser.test.ts
#
# Idempotent: uses $DISTMT_CHROMIUM or the first of chromium, chromium-browser on the PATH;
# installs Debian's `chromium` package only when none is there (needs root and apt-get). When it
# cannot (not root, no apt, the install fails, the browser does not start) it prints one line
# saying why to stderr and exits 1. No browser is ever downloaded through npm.
set -uo pipefail

fail() { echo "tools/chromium.sh: $*" >&2; exit 1; }
say() { echo "tools/chromium.sh: $*" >&2; }

# A browser named by the caller is used as it is, or refused: never replaced by another.
if [ -n "${DISTMT_CHROMIUM:-}" ] && ! [ -x "$DISTMT_CHROMIUM" ]; then
  fail "DISTMT_CHROMIUM=$DISTMT_CHROMIUM is not an executable file"
fi

find_browser() {
  if [ -n "${DISTMT_CHROMIUM:-}" ]; then echo "$DISTMT_CHROMIUM"; return 0; fi
  for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

# 1. Installed? Otherwise install Debian's package (as tools/postgres.sh does for PostgreSQL).
if ! browser="$(find_browser)"; then
  [ "$(id -u)" -eq 0 ] || fail "no chromium on the PATH and I am not root: run 'sudo tools/chromium.sh' (or 'sudo apt-get install -y chromium')"
  command -v apt-get >/dev/null 2>&1 || fail "no chromium on the PATH and there is no apt-get: install Chromium yourself and set DISTMT_CHROMIUM to its path"
  say "installing Chromium (apt-get install -y chromium)…"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 \
    || fail "apt-get install chromium failed (no network or no package?); install Chromium yourself and set DISTMT_CHROMIUM"
  browser="$(find_browser)" || fail "apt installed chromium but it is not on the PATH"
fi

# 2. It starts headless (a missing library shows here, not in the middle of a test).
version="$(timeout 60 "$browser" --headless --no-sandbox --disable-gpu --version 2>/dev/null)" \
  || fail "$browser does not start (try '$browser --headless --no-sandbox --version' to see why)"
say "$version"
echo "$browser"
