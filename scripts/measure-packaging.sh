#!/usr/bin/env bash
# Measure the figures of docs/benchmarks.md, section "Binary and image":
#   scripts/measure-packaging.sh [SDK_DIR]
# Needs the static binary and the Podman images (scripts/build-static.sh,
# scripts/build-local-images.sh), hyperfine and GNU time (/usr/bin/time).
# SDK_DIR is a folder where `npm install @microfocus/alm-octane-js-rest-sdk`
# was run; without it the Node.js figures are skipped. The containers run with
# --network none, so nothing leaves the machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sdk_dir="${1:-}"
binary="$root/target/x86_64-unknown-linux-musl/release/octane-report"
env_file="$root/examples/github.env"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/target/podman/containers.conf}"
cd "$root"

echo "## sizes"
echo "binary: $(stat --format=%s "$binary") bytes"
for tag in check check-gitlab; do
    echo "image localhost/octane-report:$tag: $(podman image inspect --format '{{.Size}}' "localhost/octane-report:$tag") bytes"
done

peak_memory() {
    /usr/bin/time --verbose "$@" 2>&1 > /dev/null | grep 'Maximum resident set size'
}

echo "## peak memory (GNU time)"
echo "--version: $(peak_memory "$binary" --version)"
echo "dry run: $(env -i "$binary" --dry-run --env-file "$env_file" 2>/dev/null > /dev/null; peak_memory env -i "$binary" --dry-run --env-file "$env_file")"
if [[ -n "$sdk_dir" ]]; then
    echo "node require SDK: $(cd "$sdk_dir" && peak_memory node -e "require('@microfocus/alm-octane-js-rest-sdk')")"
    echo "node empty: $(peak_memory node -e '')"
fi

echo "## wall time (hyperfine)"
hyperfine --warmup 3 --runs 30 --shell=none --style basic \
    "$binary --version" \
    "env -i $binary --dry-run --env-file $env_file"
hyperfine --warmup 2 --runs 15 --shell=none --style basic \
    "podman run --rm --network none localhost/octane-report:check --version" \
    "podman run --rm --network none --env-file $env_file localhost/octane-report:check --dry-run"
if [[ -n "$sdk_dir" ]]; then
    (cd "$sdk_dir" && hyperfine --warmup 2 --runs 15 --shell=none --style basic \
        "node -e ''" \
        "node -e \"require('@microfocus/alm-octane-js-rest-sdk')\"")
fi
