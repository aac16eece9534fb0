#!/usr/bin/env bash
# Build the static release binary and check it:
#   scripts/build-static.sh [TARGET]
# TARGET defaults to x86_64-unknown-linux-musl. The script fails when the binary
# has a dynamic loader or shared-library dependencies, or is larger than
# MAX_BINARY_BYTES (default 4 MiB). It prints the binary's path on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-x86_64-unknown-linux-musl}"
max_bytes="${MAX_BINARY_BYTES:-4194304}"

cd "$root"
cargo build --release --locked --target "$target" >&2
binary="$root/target/$target/release/octane-report"

# glibc's ldd prints "not a dynamic executable" for a static non-PIE binary,
# which .cargo/config.toml requests for the musl targets, and "statically
# linked" for a static PIE. Only the first is accepted, so a change to the
# linking is noticed. The ELF checks below test the same without running it.
ldd_output="$(ldd "$binary" 2>&1 || true)"
case "$ldd_output" in
    *"not a dynamic executable"*) ;;
    *)
        echo "error: $binary is not static; ldd printed:" >&2
        echo "$ldd_output" >&2
        exit 1
        ;;
esac
if readelf --program-headers --wide "$binary" | grep -q 'INTERP'; then
    echo "error: $binary asks for a dynamic loader (PT_INTERP)" >&2
    exit 1
fi
if readelf --dynamic --wide "$binary" | grep -q '(NEEDED)'; then
    echo "error: $binary needs shared libraries:" >&2
    readelf --dynamic --wide "$binary" | grep '(NEEDED)' >&2
    exit 1
fi

size="$(stat --format=%s "$binary")"
if (( size > max_bytes )); then
    echo "error: $binary is $size bytes, over the budget of $max_bytes bytes" >&2
    exit 1
fi
echo "static binary $binary: $size bytes, ldd: $ldd_output" >&2
echo "$binary"
