#!/usr/bin/env bash
# Install the database servers the tests run for real (throwaway instances on loopback,
# started by tests/servers.py). Idempotent: installs only what is missing. Needs root (or
# sudo) on Debian/Ubuntu when something is missing; prints what to install otherwise.
set -euo pipefail

missing=()

# PostgreSQL: tests/servers.py runs initdb/pg_ctl from /usr/lib/postgresql/<version>/bin.
if ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  missing+=(postgresql)
fi

# Redis: tests/servers.py runs redis-server from the PATH.
if ! command -v redis-server >/dev/null; then
  missing+=(redis-server)
fi
# openssl: the certificates of the TLS (rediss://) test server.
if ! command -v openssl >/dev/null; then
  missing+=(openssl)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "error: the tests need ${missing[*]}; install it with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing test servers: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
