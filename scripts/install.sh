#!/usr/bin/env bash
# Installs cthulhu as a tool: a release binary with the Swift standard
# library and Foundation linked into it (--static-swift-stdlib), so it runs
# on a machine without the Swift toolchain (a CI runner, a container), with
# its shell completions and its man page.
#
# Usage: scripts/install.sh [PREFIX]          (default /usr/local)
#
#   PREFIX/bin/cthulhu
#   PREFIX/share/man/man1/cthulhu.1           (every command, `man cthulhu`)
#   PREFIX/share/bash-completion/completions/cthulhu
#   PREFIX/share/zsh/site-functions/_cthulhu
#   PREFIX/share/fish/vendor_completions.d/cthulhu.fish
#
# At run time the binary needs glibc, libstdc++, zlib, libcrypto, libyaml,
# libfuse3 and libnetfilter_queue with its libnfnetlink and libmnl (Debian:
# libyaml-0-2 libfuse3-3 libnetfilter-queue1; the others, libssl3 among them,
# are on every Debian system),
# which it prints at the end (`ldd`). Files are installed over earlier
# copies of the same names; nothing else under PREFIX is touched.
# CTHULHU_BUILD_PATH: the build folder (default .build).
set -euo pipefail
prefix=${1:-/usr/local}
case $prefix in
  /*) ;;
  *) echo "install.sh: PREFIX must be an absolute path (got '$prefix')" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
scratch=${CTHULHU_BUILD_PATH:-.build}

build=(swift build -c release --static-swift-stdlib --scratch-path "$scratch")
echo "install.sh: building cthulhu (release, Swift libraries linked statically)…" >&2
"${build[@]}" --product cthulhu >&2
# The man page generator of swift-argument-parser (its GenerateManual plugin's tool).
"${build[@]}" --product generate-manual >&2
bin=$("${build[@]}" --show-bin-path)
binary=$bin/cthulhu

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
mkdir "$work/man"
"$bin/generate-manual" "$binary" --output-directory "$work/man" >&2
"$binary" --generate-completion-script bash >"$work/cthulhu.bash"
"$binary" --generate-completion-script zsh >"$work/_cthulhu"
"$binary" --generate-completion-script fish >"$work/cthulhu.fish"

install -d "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
  "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
install -m 0755 "$binary" "$prefix/bin/cthulhu"
install -m 0644 "$work/man/cthulhu.1" "$prefix/share/man/man1/cthulhu.1"
install -m 0644 "$work/cthulhu.bash" "$prefix/share/bash-completion/completions/cthulhu"
install -m 0644 "$work/_cthulhu" "$prefix/share/zsh/site-functions/_cthulhu"
install -m 0644 "$work/cthulhu.fish" "$prefix/share/fish/vendor_completions.d/cthulhu.fish"

echo "install.sh: installed $("$prefix/bin/cthulhu" --version) to $prefix/bin/cthulhu; it needs:" >&2
ldd "$prefix/bin/cthulhu" | sed 's/ (0x[0-9a-f]*)$//; s/^/  /' >&2
