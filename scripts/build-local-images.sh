#!/usr/bin/env bash
# Build the action and GitLab images with Podman from a static binary that is
# already built, without pulling any base image:
#   scripts/build-local-images.sh [BINARY]
# BINARY defaults to the x86_64 musl release build. The images are tagged
# localhost/octane-report:check (action, Drone and Woodpecker plugin) and
# localhost/octane-report:check-gitlab (GitLab job image on Debian's busybox).
# Podman reads its settings from $CONTAINERS_CONF. Unless the caller set it,
# this script writes target/podman/containers.conf and uses that, so export the
# same value before running containers from these images.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="${1:-$root/target/x86_64-unknown-linux-musl/release/octane-report}"
busybox="${BUSYBOX:-/bin/busybox}"
context="$root/target/image-context"

if [[ ! -x "$binary" ]]; then
    echo "error: binary $binary not found; build it with scripts/build-static.sh" >&2
    exit 1
fi
if ! file -L "$busybox" | grep -q 'statically linked'; then
    echo "error: $busybox is not a static busybox; install Debian's busybox-static" >&2
    exit 1
fi

# In a sandbox that forbids raising rlimits, crun fails on setrlimit while
# applying Podman's default ulimits. runc with no default ulimits runs there and
# on an ordinary host alike.
if [[ -z "${CONTAINERS_CONF:-}" ]]; then
    export CONTAINERS_CONF="$root/target/podman/containers.conf"
    mkdir -p "$(dirname "$CONTAINERS_CONF")"
    cat > "$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF
fi

rm -rf "$context"
mkdir -p "$context/dist/linux-amd64"
cp "$binary" "$context/dist/linux-amd64/octane-report"
ln -s octane-report "$context/dist/linux-amd64/octane-report-record-start"
cp "$busybox" "$context/dist/busybox"

build() {
    local target="$1" tag="$2"
    podman build --quiet --pull=never --file "$root/Dockerfile" \
        --build-arg TARGETARCH=amd64 --target "$target" --tag "$tag" "$context"
}
build action-prebuilt localhost/octane-report:check
build gitlab-local localhost/octane-report:check-gitlab
