#!/bin/sh
# Makes (once) and caches a full-size ViCLIP-B/16 bundle with random weights through the project's
# own export, for benchmarks: ~600 MB, about a minute and 5 GB of RAM. Never committed.
# Usage: bench/make-full-bundle.sh [DIR] [--int8]   (DIR default: $MSTA_FULL_BUNDLE or /work/cache/full-bundle)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${MSTA_FULL_BUNDLE:-/work/cache/full-bundle}}
[ $# -gt 0 ] && shift
mkdir -p "$(dirname "$out")"
cd "$here/training"
exec nice -n 10 /usr/bin/python3 -m msta.random_bundle --out "$out" "$@"
