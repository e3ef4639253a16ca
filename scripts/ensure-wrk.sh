#!/usr/bin/env bash
# Install wrk, the HTTP load generator of the webhook benchmark's highest-rate phase
# (benchmarks/wrk.py), from the distribution. Idempotent. Needs root (or sudo) on
# Debian/Ubuntu; elsewhere it says what to install and exits 0: the benchmark then falls
# back to its Python client and says so.
set -euo pipefail

if command -v wrk >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "note: install wrk with your package manager for the webhook benchmark's highest rate" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "note: wrk is not installed and there is no sudo; run: apt-get install wrk" >&2
    exit 0
  fi
  sudo="sudo"
fi
echo "installing wrk for the webhook benchmark" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null; }; then
  echo "note: could not install wrk; the webhook benchmark will use its Python client" >&2
fi
