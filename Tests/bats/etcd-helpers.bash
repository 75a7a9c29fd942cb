# Helpers for the suites on Debian's etcd (etcd.bats, etcd-membership.bats):
# a member's client URL and etcdctl aimed at one member.

url() { echo "http://$(readlink "$FIXTURE/$1"):2379"; }

# etcdctl_at MEMBER ARGS…: etcdctl against that member alone, with short
# timeouts (ETCD_COMMAND_TIMEOUT, default 2s, for each command).
etcdctl_at() {
  local n=$1
  shift
  etcdctl --endpoints "$(url "$n")" --dial-timeout 1s --command-timeout "${ETCD_COMMAND_TIMEOUT:-2s}" "$@"
}
