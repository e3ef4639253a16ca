#!/usr/bin/env bash
# Install Debian's Chromium for the dashboard's browser tests (tests/browser/), which drive
# /usr/bin/chromium through Playwright; Playwright never downloads a browser of its own.
# Idempotent. Needs root (or sudo) with apt-get; elsewhere it says what to install and
# exits 0, and the browser tests are skipped with that reason.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "note: install chromium (at /usr/bin/chromium) for the dashboard's browser tests" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "note: chromium is not installed and there is no sudo; run: apt-get install chromium" >&2
    exit 0
  fi
  sudo="sudo"
fi
echo "installing chromium for the dashboard's browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
# Other jobs may hold the dpkg lock on a shared machine: wait for it rather than fail.
$sudo apt-get update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  chromium fonts-dejavu-core >/dev/null
