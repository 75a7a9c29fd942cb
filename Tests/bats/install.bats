#!/usr/bin/env bats
# scripts/install.sh PREFIX (issue 17): the installed binary needs no Swift
# toolchain. Each test runs it in a mount namespace of its own where the
# toolchain's folder is covered by an empty tmpfs, so a library found there
# would fail the run (root, for the mount namespace). The prefix is a
# temporary folder; nothing is installed elsewhere.

setup_file() {
  REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  export REPO
  export PREFIX="$BATS_FILE_TMPDIR/prefix"
  # /opt/swift/usr/bin/swift → /opt/swift: what the tests hide.
  TOOLCHAIN=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
  export TOOLCHAIN
  "$REPO/scripts/install.sh" "$PREFIX" 2>"$BATS_FILE_TMPDIR/install.log" || {
    cat "$BATS_FILE_TMPDIR/install.log" >&3
    return 1
  }
}

# without_toolchain COMMAND…: COMMAND with the toolchain's folder empty.
without_toolchain() {
  unshare -m --propagation private -- sh -c 'mount -t tmpfs none "$0" && exec "$@"' "$TOOLCHAIN" env -i PATH=/usr/bin:/bin "$@"
}

@test "the toolchain is out of reach in the tests' namespace" {
  [ -d "$TOOLCHAIN/usr/lib" ]
  run without_toolchain ls -A "$TOOLCHAIN"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  # The debug build, linked to the toolchain's libraries, cannot start there.
  run without_toolchain "$REPO/.build/debug/cthulhu" --version
  [ "$status" -ne 0 ]
}

@test "the installed binary links no Swift library and names its version" {
  run ldd "$PREFIX/bin/cthulhu"
  [ "$status" -eq 0 ]
  [[ "$output" != *libswift* ]]
  [[ "$output" != *libFoundation* ]]
  [[ "$output" != *"$TOOLCHAIN"* ]]
  [[ "$output" != *"not found"* ]]
  run without_toolchain "$PREFIX/bin/cthulhu" --version
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "without the toolchain it validates, applies, reports and destroys a fixture" {
  work="$BATS_TEST_TMPDIR/work"
  mkdir -p "$work"
  cat >"$work/cthulhu.yaml" <<EOF
fixture: install-$RANDOM
driver: process
groups:
  node:
    count: 3
    command: ["/bin/busybox", "sleep", "3600"]
EOF
  cd "$work"
  run without_toolchain "$PREFIX/bin/cthulhu" validate
  [ "$status" -eq 0 ]
  run without_toolchain "$PREFIX/bin/cthulhu" apply
  [ "$status" -eq 0 ]
  [[ "$output" == *"Apply complete"*"3 added"* ]]
  [ "$(readlink "$work/cthulhu-fixture/i002")" != "" ]
  run without_toolchain "$PREFIX/bin/cthulhu" status
  [ "$status" -eq 0 ]
  [[ "$output" == *i003*running* ]]
  run without_toolchain "$PREFIX/bin/cthulhu" destroy
  [ "$status" -eq 0 ]
  [ ! -e "$work/cthulhu-fixture" ]
}

@test "completions for bash, zsh and fish, and a man page with every command" {
  run bash -c 'source "$0"; complete -p cthulhu' "$PREFIX/share/bash-completion/completions/cthulhu"
  [ "$status" -eq 0 ]
  [[ "$output" == *cthulhu* ]]
  grep -q '^#compdef cthulhu' "$PREFIX/share/zsh/site-functions/_cthulhu"
  grep -q 'complete -c cthulhu' "$PREFIX/share/fish/vendor_completions.d/cthulhu.fish"
  page="$PREFIX/share/man/man1/cthulhu.1"
  grep -q '^\.Dt CTHULHU 1' "$page"
  for command in apply destroy partition heal check; do grep -q "$command" "$page"; done
}
