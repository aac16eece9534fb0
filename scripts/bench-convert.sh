#!/usr/bin/env bash
# Benchmarks `octane-report convert` against the official npm converter.
#
# Usage: scripts/bench-convert.sh [WORK_DIR]
# Builds the release binary, generates a JUnit report of 500,000 test cases
# (about 90 MB) and one of 5,000,000 (about 900 MB), converts both with
# octane-report and the 90 MB one with @microfocus/alm-octane-test-result-convertion,
# and prints wall time, throughput and peak RSS (GNU time) for each run, then
# the median of each series and how many times faster octane-report was.
# RUNS sets the number of runs of each converter on the 90 MB report (default 5;
# the official converter runs at most 3 times, as it takes about 20 s a run).
# Needs node and npm; installs GNU time from Debian when /usr/bin/time is missing.
# Set NPM_CACHE_DIR to reuse an existing npm install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
if [[ ! -x /usr/bin/time ]]; then
  apt-get update
  apt-get install -y time
fi
(cd "$root" && cargo build --release --quiet)
binary="$root/target/release/octane-report"

npm_dir="${NPM_CACHE_DIR:-$work/npm}"
package="@microfocus/alm-octane-test-result-convertion"
if [[ ! -d "$npm_dir/node_modules/$package" ]]; then
  mkdir -p "$npm_dir"
  (cd "$npm_dir" && npm install --no-audit --no-fund "$package" >/dev/null)
fi

# Writes a report with CASES test cases in suites of 100; every tenth case
# fails with a message and a short stack trace, the others print one line
# to system-out. About 180 bytes per case.
generate() {
  local cases="$1" output="$2"
  awk -v cases="$cases" 'BEGIN {
    print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    print "<testsuites name=\"bench\">"
    for (i = 0; i < cases; i++) {
      if (i % 100 == 0) {
        if (i > 0) print "</testsuite>"
        printf "<testsuite name=\"com.example.bench.Suite%d\" timestamp=\"2024-01-01T00:00:00Z\">\n", i / 100
      }
      class = sprintf("com.example.bench.Suite%d", i / 100)
      if (i % 10 == 0) {
        printf "<testcase name=\"test_case_%d\" classname=\"%s\" time=\"0.%03d\"><failure type=\"java.lang.AssertionError\" message=\"expected &lt;%d&gt; but was &lt;0&gt;\">java.lang.AssertionError\n\tat %s.test_case_%d(Suite.java:%d)\n\tat org.junit.Assert.fail(Assert.java:89)</failure></testcase>\n", i, class, i % 1000, i, class, i, i % 500
      } else {
        printf "<testcase name=\"test_case_%d\" classname=\"%s\" time=\"0.%03d\"><system-out>ok %d: checked 12 assertions, 30 ms</system-out></testcase>\n", i, class, i % 1000, i
      }
    }
    print "</testsuite>"
    print "</testsuites>"
  }' > "$output"
}

# Runs a command under GNU time, prints one result line and appends the wall
# time in seconds to the file named by $series.
measure() {
  local label="$1" input="$2"
  shift 2
  local log="$work/time.log"
  /usr/bin/time -v "$@" 2>"$log" >/dev/null || { echo "$label: failed"; tail -5 "$log"; return 1; }
  local wall rss size
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")"
  rss="$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$log")"
  size="$(stat -c %s "$input")"
  awk -v label="$label" -v wall="$wall" -v rss="$rss" -v size="$size" 'BEGIN {
    printf "%-34s %8.1f MB  %8.2f s  %8.1f MB/s  peak RSS %8.1f MB\n", label, size / 1e6, wall, size / 1e6 / wall, rss
  }'
  echo "$wall" >>"$series"
}

# Prints the median of the numbers in a file, one per line.
median() {
  sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

small="$work/junit-500k.xml"
large="$work/junit-5m.xml"
[[ -f "$small" ]] || generate 500000 "$small"
[[ -f "$large" ]] || generate 5000000 "$large"
runs="${RUNS:-5}"
ours_series="$work/ours.times"
npm_series="$work/npm.times"
: >"$ours_series"
: >"$npm_series"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); node $(node --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((run = 1; run <= runs; run++)); do
  series="$ours_series" measure "octane-report convert (500k)" "$small" \
    "$binary" convert --output "$work/out-small.xml" "$small"
done
series=/dev/null measure "octane-report convert (5M)" "$large" \
  "$binary" convert --output "$work/out-large.xml" "$large"
for ((run = 1; run <= runs && run <= 3; run++)); do
  series="$npm_series" measure "official npm converter (500k)" "$small" \
    node --max-old-space-size=16384 "$root/scripts/octane-npm-convert.js" \
    "$npm_dir/node_modules/$package" "$small" "$work/out-npm.xml"
done
ours="$(median "$ours_series")"
theirs="$(median "$npm_series")"
awk -v ours="$ours" -v theirs="$theirs" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
  printf "median on the 90 MB report: octane-report %.2f s, official converter %.2f s: %.1f times as fast (load %s)\n", ours, theirs, theirs / ours, load
}'
