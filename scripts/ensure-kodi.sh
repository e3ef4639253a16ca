#!/usr/bin/env bash
# Install what the real-Kodi integration tests run (tests/kodi.py): Debian's kodi package
# (kodi.bin and the metadata.local scraper), Xvfb (Kodi cannot start without an X server),
# xauth, sqlite3 (the fixture sets the source's scraper in Kodi's video database) and
# ffmpeg (a tiny real video Kodi can play). Idempotent: installs only what is missing.
# Needs root (or sudo) on Debian/Ubuntu when something is missing.
set -euo pipefail

missing=()
[ -x /usr/lib/x86_64-linux-gnu/kodi/kodi.bin ] || compgen -G "/usr/lib/*/kodi/kodi.bin" >/dev/null \
  || missing+=(kodi)
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xauth >/dev/null || missing+=(xauth)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "error: the Kodi tests need ${missing[*]}; install them with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing for the Kodi tests: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
