#!/usr/bin/env bash
# Builds the local test image cthulhu-test:latest (no registry needed): a
# rootfs of Debian's static busybox, imported with `docker import`.
# In it busybox's wget segfaults; nc and httpd work.
set -euo pipefail
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
image=${CTHULHU_TEST_IMAGE:-cthulhu-test:latest}
if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
if [ ! -x /bin/busybox ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,proc,sys,dev,opt/app/etc,opt/app/var}
cp /bin/busybox "$rootfs/bin/busybox"
chroot "$rootfs" /bin/busybox --install -s 2>/dev/null || for applet in $(/bin/busybox --list); do ln -sf /bin/busybox "$rootfs/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
chmod 1777 "$rootfs/tmp"
tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "built $image"
