#!/usr/bin/env bash
# Fuzzes the YAML loader + manifest decoder (Fuzz/, a libFuzzer target) for a
# bounded time: scripts/fuzz.sh [SECONDS] (default 60). The committed seeds in
# Fuzz/corpus are read, never written; what libFuzzer learns goes to
# Fuzz/.build/corpus (kept between runs). Exits non-zero on a crash, a
# sanitizer report, a timeout (-timeout per input) or running out of memory;
# the input that did it is left in Fuzz/.build/artifacts/ — turn it into a
# test in Tests/ManifestTests/HostileInputTests.swift and fix the cause.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build -c debug --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
mkdir -p Fuzz/.build/corpus Fuzz/.build/artifacts
# -fork would survive a crash and go on; here the first crash fails the run.
exec Fuzz/.build/debug/ManifestFuzzer \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix=Fuzz/.build/artifacts/ \
  Fuzz/.build/corpus Fuzz/corpus
