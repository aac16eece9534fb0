#!/usr/bin/env bash
# Checks the JUnit converter against Octane's XSD and the official converter.
#
# Usage: .ci/junit-checks.sh [CORPUS_DIR] [BINARY]
#   CORPUS_DIR  folder with junit/*.xml (default: $OCTANE_REPORT_CORPUS; without
#               one, the checks run on the fixtures in tests/fixtures/junit)
#   BINARY      octane-report binary (default: $OCTANE_REPORT_BIN, else
#               target/release/octane-report, built if missing)
# Needs apt-get (for xmllint), node and npm. Set NPM_CACHE_DIR to reuse the
# npm install between runs (default: a temporary folder).
#
# Steps:
# 1. every corpus JUnit file converts; the output validates with
#    `xmllint --schema` against the XSD shipped in the npm package;
# 2. the official converter runs on the same files and its test names and
#    statuses are compared with ours. Its durations are not compared: it
#    writes whole seconds (Math.round of `time`) where Octane expects
#    milliseconds. Files it cannot convert, and files where it differs for
#    a reason listed in KNOWN_DIFFERENCES, are reported but do not fail.
#    On the fixtures, which reproduce traps on purpose, differences are
#    reported and only the XSD validation can fail.
# 3. the 1 GB bounded-memory test runs in release mode (set
#    JUNIT_CHECKS_SKIP_LARGE=1 to skip it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${1:-${OCTANE_REPORT_CORPUS:-}}"
binary="${2:-${OCTANE_REPORT_BIN:-$root/target/release/octane-report}}"
if [[ -n "$corpus" && -d "$corpus/junit" ]]; then
  inputs=("$corpus"/junit/*.xml)
  strict=1
elif [[ -n "$corpus" ]]; then
  echo "junit-checks: corpus folder $corpus has no junit/ folder; pass the corpus root" >&2
  exit 1
else
  echo "junit-checks: no corpus given (OCTANE_REPORT_CORPUS); checking tests/fixtures/junit instead"
  inputs=("$root"/tests/fixtures/junit/*.xml)
  strict=0
fi
if [[ ! -x "$binary" ]]; then
  (cd "$root" && cargo build --release --quiet)
fi

if ! command -v xmllint >/dev/null; then
  apt-get update
  apt-get install -y libxml2-utils
fi

npm_dir="${NPM_CACHE_DIR:-$(mktemp -d)}"
package="@microfocus/alm-octane-test-result-convertion"
if [[ ! -d "$npm_dir/node_modules/$package" ]]; then
  (cd "$npm_dir" && npm install --no-audit --no-fund "$package" >/dev/null)
fi
package_dir="$npm_dir/node_modules/$package"
xsd="$package_dir/resources/octaneResultSchema.xsd"

# Files where the official converter (25.x) is known to disagree, and why.
declare -A KNOWN_DIFFERENCES=(
  [multiple-results-one-testcase.xml]="it checks <skipped> before <failure>/<error>, so skipped+failure gives Skipped"
  [phpunit-phpt-failure.xml]="it does not walk nested suites"
  [root-testsuite-nested-suites.xml]="it does not walk nested suites"
  [time-thousands-separator-nested.xml]="it does not walk nested suites"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
for input in "${inputs[@]}"; do
  name="$(basename "$input")"
  ours="$work/$name.ours.xml"
  if ! "$binary" convert --output "$ours" "$input" 2>"$work/$name.stderr"; then
    echo "skip     $name: not convertible ($(tail -1 "$work/$name.stderr"))"
    continue
  fi
  if ! xmllint --noout --schema "$xsd" "$ours" 2>"$work/$name.xmllint"; then
    echo "INVALID  $name"; cat "$work/$name.xmllint"; failures=$((failures + 1)); continue
  fi
  theirs="$work/$name.theirs.xml"
  if ! node "$root/scripts/octane-npm-convert.js" "$package_dir" "$input" "$theirs" 2>/dev/null; then
    echo "valid    $name (official converter failed on it)"
    continue
  fi
  xml_js="$npm_dir/node_modules/xml-js"
  # A read error of either output shows in the diff as missing runs.
  if diff <(node "$root/scripts/octane-runs.js" "$xml_js" "$ours" 2>"$work/$name.ours.err") \
          <(node "$root/scripts/octane-runs.js" "$xml_js" "$theirs" 2>"$work/$name.theirs.err") \
          >"$work/$name.diff"; then
    echo "valid    $name (names and statuses match the official converter)"
  elif [[ -n "${KNOWN_DIFFERENCES[$name]:-}" ]]; then
    echo "valid    $name (known difference: ${KNOWN_DIFFERENCES[$name]})"
  elif ((strict == 0)); then
    echo "valid    $name (differs from the official converter, not counted for a fixture)"
  else
    echo "DIFFERS  $name (< ours, > official)"; cat "$work/$name.diff"; failures=$((failures + 1))
  fi
done

if [[ "${JUNIT_CHECKS_SKIP_LARGE:-0}" != 1 ]]; then
  (cd "$root" && cargo test --release --quiet --test junit_hostile -- --ignored one_gigabyte)
fi

if ((failures > 0)); then
  echo "junit-checks: $failures problems" >&2
  exit 1
fi
echo "junit-checks: all checks passed"
