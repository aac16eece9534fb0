#!/usr/bin/env bash
# Reliability checks that need extra tools: delivery through a real HTTP proxy (tinyproxy on
# 127.0.0.1, with basic authentication and a no_proxy bypass). Installs tinyproxy when it is
# missing. Fuzzing is not run here; see docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tinyproxy >/dev/null 2>&1; then
  echo "== installing tinyproxy"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo -n"
  fi
  $sudo apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends tinyproxy </dev/null
fi
# The Debian package may start a system-wide tinyproxy; the test runs its own on a free port.
tinyproxy -v </dev/null

echo "== proxy tests"
OCTANE_REPORT_PROXY_TEST=1 cargo test --test proxy -- --test-threads=1 </dev/null
