#!/usr/bin/env bash
# Load figures for `citewatch serve`: builds a store of 100,000 captures and runs
# wrk (64 connections, 10 s) against /archive/{random id} and /api/report, in
# release. Loopback only. Installs Debian's wrk when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo bench --locked --bench serve "$@"
