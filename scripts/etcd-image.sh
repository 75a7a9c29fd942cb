#!/usr/bin/env bash
# Builds cthulhu-etcd:latest locally (no registry): Debian's static busybox
# plus the host's own etcd and etcdctl (apt install etcd-server
# etcd-client) and the libraries they load, imported with `docker import`,
# so Tests/bats/etcd.bats runs the same binary on containers as on host
# processes. Rebuilds only when the etcd binary changed (a label holds its hash),
# or with --force.
set -euo pipefail
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
image=${CTHULHU_ETCD_IMAGE:-cthulhu-etcd:latest}
for p in /bin/busybox /usr/bin/etcd /usr/bin/etcdctl; do
  [ -x "$p" ] || { echo "etcd-image.sh: $p is missing (apt install busybox-static etcd-server etcd-client)" >&2; exit 1; }
done
inputs=$(cat /usr/bin/etcd /usr/bin/etcdctl /bin/busybox "$0" | sha256sum | cut -c1-16)
if [ "${1:-}" != "--force" ] &&
  [ "$(docker image inspect -f '{{ index .Config.Labels "io.cthulhu.etcd.inputs" }}' "$image" 2>/dev/null)" = "$inputs" ]; then
  exit 0
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,usr/bin,tmp,etc,proc,sys,dev,opt/app/etc,opt/app/var}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh cat ls; do ln -s busybox "$rootfs/bin/$applet"; done
cp /usr/bin/etcd /usr/bin/etcdctl "$rootfs/usr/bin/"
for lib in $(ldd /usr/bin/etcd /usr/bin/etcdctl | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
chmod 1777 "$rootfs/tmp"
tar -C "$rootfs" -c . | docker import --change 'ENV PATH=/usr/bin:/bin' --change 'CMD ["/usr/bin/etcd"]' \
  --change "LABEL io.cthulhu.etcd.inputs=$inputs" - "$image" >/dev/null
echo "built $image"
