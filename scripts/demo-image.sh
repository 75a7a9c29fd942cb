#!/usr/bin/env bash
# Builds the local image cthulhu-demo:latest (CTHULHU_DEMO_IMAGE overrides the
# name) with no registry: the release cthulhu-demo binary (Swift stdlib linked
# statically), the shared libraries ldd lists and the dynamic loader at their
# paths, and Debian's static busybox for a shell and nc, imported with
# `docker import`. Quick when nothing changed: the image carries the hash of
# its inputs as a label and is only rebuilt when that hash differs.
# Usage: scripts/demo-image.sh [--force]
set -euo pipefail
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
image=${CTHULHU_DEMO_IMAGE:-cthulhu-demo:latest}
label=io.cthulhu.demo.inputs
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$script")/.."

if ! docker info >/dev/null 2>&1; then scripts/dockerd-start.sh; fi
if [ ! -x /bin/busybox ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi

build=(swift build -c release --static-swift-stdlib --product cthulhu-demo)
log=$(mktemp)
if ! "${build[@]}" >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; exit 1; fi
rm -f "$log"
binary=$("${build[@]}" --show-bin-path)/cthulhu-demo
[ -x "$binary" ] || { echo "demo-image.sh: no binary at $binary" >&2; exit 1; }

# Everything the image is made of: the binary, busybox, the libraries, this script.
# With libfaketime's own (libm), so that `clock_skew: true` (which binds the
# library in) can start the demo; the binary needs most of them anyway.
faketime=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1 || true)
libraries=$({ ldd "$binary"; if [ -n "$faketime" ]; then ldd "$faketime"; fi; } | grep -o '/[^ ]*' | sort -u)
inputs=$(sha256sum "$binary" /bin/busybox "$script" $libraries | sha256sum | cut -c1-64)
current=$(docker image inspect -f "{{ index .Config.Labels \"$label\" }}" "$image" 2>/dev/null || true)
previous=$(docker image inspect -f '{{ .Id }}' "$image" 2>/dev/null || true)
if [ "${1:-}" != "--force" ] && [ "$current" = "$inputs" ]; then
  echo "$image is up to date"
  exit 0
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,tmp,etc,proc,sys,dev,opt/app/etc,opt/app/var}
cp /bin/busybox "$rootfs/bin/busybox"
chroot "$rootfs" /bin/busybox --install -s 2>/dev/null ||
  for applet in $(/bin/busybox --list); do ln -sf /bin/busybox "$rootfs/bin/$applet"; done
cp "$binary" "$rootfs/usr/local/bin/cthulhu-demo"
if command -v strip >/dev/null; then strip "$rootfs/usr/local/bin/cthulhu-demo"; fi  # 128 MB -> 72 MB
for library in $libraries; do cp -L --parents "$library" "$rootfs"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp"

tar -C "$rootfs" -c . | docker import \
  --change "LABEL $label=$inputs" \
  --change 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["cthulhu-demo", "--config", "/opt/app/etc/config.json"]' \
  - "$image" >/dev/null
# The image this replaces would linger untagged; drop it unless a container still uses it.
if [ -n "$previous" ]; then docker image rm "$previous" >/dev/null 2>&1 || true; fi
echo "built $image ($(du -sh "$rootfs" | cut -f1))"
