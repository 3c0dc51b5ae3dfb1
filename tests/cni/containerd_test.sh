#!/usr/bin/env bash
# brindle-cni under a real container runtime: Debian's containerd 1.6 + runc start two busybox
# containers with `ctr run --cni`, on a "node" network namespace; container 1 pings container 2
# and opens a TCP connection to it; stopping the containers makes ctr run CNI DEL, after which
# the store holds no WorkloadEndpoint and IPAM has nothing in use.
#
# Usage: containerd_test.sh BRINDLECTL BRINDLE_CNI_DIR   (root; exit 0 pass, 77 skip, else fail)
#
# Nothing on the host is touched outside a temp dir, one network namespace and one cgroup
# folder per hierarchy, all named after this run and removed at exit:
#  - containerd, its shims, ctr and the containers live in a new PID namespace (so they all die
#    with it, `unshare --kill-child`) and a PRIVATE mount namespace, entered from the node's
#    network namespace with `nsenter --net` (`ip netns exec` would remount /sys without cgroups);
#  - inside it, /etc, /var/lib and /run are overlays whose upper layers live on a tmpfs mounted
#    there too, so /etc/cni/net.d (ctr reads the first config there), /var/lib/cni (libcni's
#    cache) and /run/containerd (shim sockets, runc state) are created only in that namespace;
#    containerd's root and state are on that tmpfs; /usr/lib/cni (where Debian's ctr finds
#    plugins) is a bind mount of a folder holding brindle-cni;
#  - containers are in a containerd namespace unique to the run, so their cgroups are
#    /sys/fs/cgroup/*/<that name>/..., removed at the end.
set -uo pipefail

SKIP=77

if [ "${1:-}" = "--inner" ]; then
  # ---- Inside: PID 1 of a new PID namespace, private mount namespace, node's network namespace.
  T=$2 CTRNS=$3
  M=$T/mnt
  CTL="$BRINDLECTL --config $T/brindlectl.cfg"
  ADDR=$M/containerd.sock
  IMG=localhost/brindle/busybox:test
  say() { echo "[inner] $*" >&2; }
  die() { say "FAIL: $*"; exit 1; }
  ctr_() { timeout 30 ctr --address "$ADDR" -n "$CTRNS" "$@"; }

  ctrd_pid=""
  run_pids=()
  cleanup_inner() {
    local rc=$?
    trap - EXIT
    # Stop what is still running; the ctr run processes then run CNI DEL and remove the
    # containers. Whatever survives dies with this PID namespace when we exit.
    if [ -n "$ctrd_pid" ] && kill -0 "$ctrd_pid" 2>/dev/null; then
      c5() { timeout 5 ctr --address "$ADDR" -n "$CTRNS" "$@"; }
      for c in $(c5 task ls -q 2>/dev/null); do c5 task kill -s KILL "$c" >/dev/null 2>&1; done
      for p in "${run_pids[@]}"; do timeout 15 tail --pid="$p" -s 0.1 -f /dev/null; done
      for c in $(c5 container ls -q 2>/dev/null); do
        c5 task delete -f "$c" >/dev/null 2>&1
        c5 container rm "$c" >/dev/null 2>&1
      done
    fi
    if [ -n "$ctrd_pid" ]; then
      kill "$ctrd_pid" 2>/dev/null
      timeout 10 tail --pid="$ctrd_pid" -s 0.1 -f /dev/null || kill -KILL "$ctrd_pid" 2>/dev/null
      wait "$ctrd_pid" 2>/dev/null
    fi
    exit "$rc"
  }
  trap cleanup_inner EXIT

  # Everything writable lives on this tmpfs; mount points are made in it, or already exist.
  mount -t tmpfs -o mode=0755 brindle-ctr "$M" || die "tmpfs on $M"
  for d in etc varlib run; do mkdir -p "$M/ovl/$d/up" "$M/ovl/$d/work"; done
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$M/ovl/etc/up,workdir=$M/ovl/etc/work" /etc ||
    die "overlay on /etc"
  mount -t overlay overlay \
    -o "lowerdir=/var/lib,upperdir=$M/ovl/varlib/up,workdir=$M/ovl/varlib/work" /var/lib ||
    die "overlay on /var/lib"
  mount -t overlay overlay -o "lowerdir=/run,upperdir=$M/ovl/run/up,workdir=$M/ovl/run/work" /run ||
    die "overlay on /run"
  mount --bind "$T/cnibin" /usr/lib/cni || die "bind $T/cnibin on /usr/lib/cni"
  rm -rf /etc/cni /var/lib/cni /run/containerd  # only in the upper layers of this namespace
  mkdir -p /etc/cni/net.d /run/containerd "$M/tmp"
  cp "$T/10-brindle.conflist" /etc/cni/net.d/ || die "conflist"
  export TMPDIR=$M/tmp

  cat > "$M/config.toml" <<EOF
version = 2
root = "$M/root"
state = "$M/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$ADDR"
[ttrpc]
  address = "$ADDR.ttrpc"
[debug]
  address = ""
EOF
  containerd --config "$M/config.toml" > "$T/containerd.log" 2>&1 &
  ctrd_pid=$!
  for _ in $(seq 100); do
    ctr --address "$ADDR" version > /dev/null 2>&1 && break
    kill -0 "$ctrd_pid" 2>/dev/null || die "containerd exited: $(tail -5 "$T/containerd.log")"
    sleep 0.1
  done
  ctr --address "$ADDR" version > /dev/null 2>&1 || die "containerd does not answer on $ADDR"
  say "containerd $(containerd --version | awk '{print $3}') up (pid $ctrd_pid)"

  ctr_ images import "$T/busybox-oci.tar" > /dev/null || die "image import"
  ctr_ images ls -q | grep -qx "$IMG" || die "image $IMG not imported: $(ctr_ images ls -q)"

  # Can this machine run a container at all (cgroups, namespaces, runc)? If not, skip.
  if ! out=$(ctr_ run --rm --null-io "$IMG" probe true 2>&1); then
    say "SKIP: this machine cannot run containers with containerd + runc: $out"
    ctr_ container rm probe > /dev/null 2>&1
    exit $SKIP
  fi

  # Two containers, networked by brindle-cni through ctr's CNI support (gocni/libcni). Not
  # detached: ctr runs CNI DEL itself when the task exits (`--rm`), as it does not for -d.
  for c in c1 c2; do
    timeout 90 ctr --address "$ADDR" -n "$CTRNS" run --rm --cni --null-io "$IMG" "$c" sleep 300 \
      > "$T/run-$c.log" 2>&1 &
    run_pids+=($!)
  done
  wep_ip() {  # the IPv4 address of container $1's WorkloadEndpoint
    $CTL get workloadEndpoint --workload "$CTRNS-$1" -o wide 2>/dev/null |
      grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}/32' | head -1 | cut -d/ -f1
  }
  for c in c1 c2; do
    for _ in $(seq 100); do
      [ "$(ctr_ task ls 2>/dev/null | awk -v c="$c" '$1 == c {print $3}')" = RUNNING ] &&
        [ -n "$(wep_ip "$c")" ] && break
      sleep 0.1
    done
    [ -n "$(wep_ip "$c")" ] || die "no WorkloadEndpoint for $c: $(cat "$T/run-$c.log")"
  done
  ip1=$(wep_ip c1) ip2=$(wep_ip c2)
  say "c1 = $ip1, c2 = $ip2 (from their WorkloadEndpoints)"
  $CTL get workloadEndpoint -o wide >&2

  # Output of `ctr task exec`: ctr can exit before the shim has relayed all of a short-lived
  # process's stdout, so read it again until it says what we wait for (or give up).
  exec_until() {  # exec_until CONTAINER PATTERN CMD...: prints the last output; 0 if it matched
    local c=$1 pat=$2 out="" i
    shift 2
    for i in $(seq 20); do
      out=$(ctr_ task exec --exec-id "x$RANDOM$i" "$c" "$@" 2>&1)
      echo "$out" | grep -q -- "$pat" && { echo "$out"; return 0; }
      sleep 0.1
    done
    echo "$out"
    return 1
  }

  # The address CNI configured is the one inside the container.
  got=$(exec_until c2 "inet $ip2/32" ip -4 addr show dev eth0) ||
    die "c2's eth0 does not carry $ip2/32: $got"

  # ICMP and TCP between the two containers, through the node.
  ctr_ task exec --exec-id ping c1 ping -c 3 -i 0.2 -W 2 "$ip2" >&2 || die "c1 cannot ping c2"
  # The listener writes what it receives to a file in c2's rootfs. It hands the connection to
  # `cat` (-e): nc -l with its own stdin at EOF may close the connection before the data arrives.
  ctr_ task exec --exec-id listen c2 nc -l -p 5000 -e sh -c 'cat > /tmp/tcp.out' > /dev/null 2>&1 &
  listen_pid=$!
  ok=""
  for i in $(seq 30); do
    if ctr_ task exec --exec-id "conn$i" c1 sh -c "echo hello-over-tcp | nc -w 2 $ip2 5000" \
      > /dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 0.1
  done
  timeout 10 tail --pid="$listen_pid" -s 0.1 -f /dev/null
  [ -n "$ok" ] || die "c1 cannot open TCP to $ip2:5000"
  got=$(exec_until c2 '^hello-over-tcp$' cat /tmp/tcp.out) || die "c2 received '$got'"
  say "ping and TCP c1 -> c2 ok"

  # Stop both: ctr run (--rm) runs CNI DEL, then removes the container.
  for c in c1 c2; do ctr_ task kill -s KILL "$c" || die "task kill $c"; done
  for p in "${run_pids[@]}"; do
    timeout 30 tail --pid="$p" -s 0.1 -f /dev/null || die "ctr run $p did not finish"
  done
  run_pids=()
  left=$(ctr_ container ls -q)
  [ -z "$left" ] || die "containers left: $left"
  left=$(ip -o link show | grep cali || true)
  [ -z "$left" ] || die "cali links left on the node: $left"
  exit 0
fi

# ---- Outside: skip checks, node namespace, store, plugin folder, image; then the inside.
BRINDLECTL=${1:?usage: $0 BRINDLECTL BRINDLE_CNI_DIR}
CNIDIR=${2:?usage: $0 BRINDLECTL BRINDLE_CNI_DIR}
skip() { echo "SKIP: $*"; exit $SKIP; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, containers)"
for b in containerd ctr runc busybox nsenter unshare setsid setpriv ip tar sha256sum; do
  command -v "$b" > /dev/null || skip "$b not installed (scripts/install-deps: containerd runc busybox-static)"
done
[ -d /usr/lib/cni ] || skip "/usr/lib/cni missing (containernetworking-plugins)"
grep -q ' - cgroup2\? ' /proc/self/mountinfo || skip "no cgroup filesystem mounted: runc cannot run containers"
[ -x "$BRINDLECTL" ] || fail "no brindlectl at $BRINDLECTL"
[ -x "$CNIDIR/brindle-cni" ] || fail "no brindle-cni in $CNIDIR"

# Leftovers of an earlier run of this test that was killed outright (SIGKILL leaves no chance
# to clean up; its processes died with its PID namespace): only names this test makes, and only
# when the run that made them (the PID in the name) is no longer a containerd_test.sh.
alive() { { tr '\0' ' ' < "/proc/$1/cmdline"; } 2>/dev/null | grep -q containerd_test; }
for n in $(ip netns list | awk '{print $1}' | grep -E '^bctr[0-9]+-node$'); do
  p=${n#bctr}; p=${p%-node}
  alive "$p" || { echo "removing stale netns $n"; ip netns del "$n"; }
done
for cg in /sys/fs/cgroup/*/brindle-bctr[0-9]* /sys/fs/cgroup/brindle-bctr[0-9]*; do
  [ -d "$cg" ] || continue
  p=${cg##*/brindle-bctr}
  [[ $p =~ ^[0-9]+$ ]] && ! alive "$p" && { echo "removing stale cgroup $cg"; find "$cg" -depth -type d -exec rmdir {} +; }
done
for d in /tmp/brindle-ctr-[0-9]*.*; do
  [ -d "$d" ] || continue
  p=${d#/tmp/brindle-ctr-}; p=${p%%.*}
  [[ $p =~ ^[0-9]+$ ]] && ! alive "$p" && { echo "removing stale $d"; rm -rf "$d"; }
done

RUN=bctr$$
NODE=$RUN-node
CTRNS=brindle-$RUN
T=$(mktemp -d "/tmp/brindle-ctr-$$.XXXXXX")
inner_pid=""
started=$(date +%s)

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$inner_pid" ] && kill -0 "$inner_pid" 2>/dev/null; then
    # unshare ignores TERM; KILL it and --kill-child ends its PID namespace: containerd, shims,
    # ctr and the containers (whose network namespaces, and so veths, go with them).
    kill -KILL "$inner_pid" 2>/dev/null
    wait "$inner_pid" 2>/dev/null
  fi
  # Our containerd namespace's cgroups (runc removes the containers' own; the parent stays).
  local cg
  for cg in /sys/fs/cgroup/*/"$CTRNS" /sys/fs/cgroup/"$CTRNS"; do
    [ -d "$cg" ] || continue
    for _ in $(seq 100); do
      find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$cg" ] || break
      sleep 0.1
    done
    [ -d "$cg" ] && { echo "cleanup: could not remove $cg"; rc=1; }
  done
  ip netns del "$NODE" 2>/dev/null
  rm -rf "$T"
  echo "containerd_test: $( [ $rc = 0 ] && echo PASS || { [ $rc = $SKIP ] && echo SKIP || echo FAIL; })" \
    "in $(($(date +%s) - started)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The node: lo carries its address, forwarding on (cali veths are routed, not bridged).
ip netns add "$NODE" || fail "ip netns add $NODE"
ip netns exec "$NODE" sh -c 'ip link set lo up && ip addr add 10.99.0.1/32 dev lo &&
  sysctl -qw net.ipv4.ip_forward=1' || fail "node setup"

# The store with a pool, written by the real brindlectl.
cat > "$T/brindlectl.cfg" <<EOF
apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata:
spec:
  datastoreType: local
  storePath: $T/store.db
EOF
export BRINDLECTL
CTL="$BRINDLECTL --config $T/brindlectl.cfg"
cat > "$T/pool.yaml" <<EOF
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: ctr-pool
spec:
  cidr: 10.78.0.0/16
EOF
$CTL apply -f "$T/pool.yaml" || fail "brindlectl apply pool"

# The plugin folder mounted on /usr/lib/cni inside, and the conflist ctr reads.
mkdir -p "$T/cnibin" "$T/mnt"
ln -s "$(realpath "$CNIDIR/brindle-cni")" "$T/cnibin/brindle-cni"
ln -s "$(realpath "$CNIDIR/brindle-cni")" "$T/cnibin/brindle-ipam"
cat > "$T/10-brindle.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "brindle-ctr",
  "plugins": [
    {"type": "brindle-cni", "nodename": "node1", "mtu": 1450, "log_level": "info",
     "datastore_type": "local", "store_path": "$T/store.db",
     "ipam": {"type": "brindle-ipam"}}
  ]
}
EOF

# A busybox image as a hand-built OCI archive (no registry).
build_image() {
  local d=$T/img r=$T/img/rootfs b
  mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/etc" "$d/oci/blobs/sha256"
  cp "$(command -v busybox)" "$r/bin/busybox"
  for b in sh sleep ping nc cat echo ip ifconfig true; do ln -s busybox "$r/bin/$b"; done
  echo 'root:x:0:0:root:/:/bin/sh' > "$r/etc/passwd"
  echo 'root:x:0:' > "$r/etc/group"
  chmod 1777 "$r/tmp"
  tar --sort=name --owner=0 --group=0 --numeric-owner -C "$r" -cf "$d/layer.tar" . || return 1
  local lsha lsize csha csize msha msize arch
  lsha=$(sha256sum < "$d/layer.tar" | cut -d' ' -f1)
  lsize=$(stat -c %s "$d/layer.tar")
  mv "$d/layer.tar" "$d/oci/blobs/sha256/$lsha"
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$lsha" > "$d/config.json"
  csha=$(sha256sum < "$d/config.json" | cut -d' ' -f1)
  csize=$(stat -c %s "$d/config.json")
  mv "$d/config.json" "$d/oci/blobs/sha256/$csha"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$csha" "$csize" "$lsha" "$lsize" > "$d/manifest.json"
  msha=$(sha256sum < "$d/manifest.json" | cut -d' ' -f1)
  msize=$(stat -c %s "$d/manifest.json")
  mv "$d/manifest.json" "$d/oci/blobs/sha256/$msha"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"localhost/brindle/busybox:test","org.opencontainers.image.ref.name":"test"}}]}' \
    "$msha" "$msize" > "$d/oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$d/oci/oci-layout"
  tar --owner=0 --group=0 --numeric-owner -C "$d/oci" -cf "$T/busybox-oci.tar" oci-layout index.json blobs &&
    rm -rf "$d"
}
build_image || fail "building the busybox OCI image"

# The inside: node's network namespace, new PID + private mount namespace.
# setsid: signals meant for the test's process group reach only this script, whose trap then
# ends the inside; setpriv --pdeathsig: if this script is killed outright, so is unshare, and
# --kill-child takes the whole PID namespace with it. All of these exec: $! is unshare.
setsid setpriv --pdeathsig KILL nsenter --net="/var/run/netns/$NODE" \
  unshare --mount --propagation private --pid --fork --kill-child --mount-proc \
  bash "$(realpath "$0")" --inner "$T" "$CTRNS" &
inner_pid=$!
deadline=$(($(date +%s) + 90))
while kill -0 "$inner_pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
if kill -0 "$inner_pid" 2>/dev/null; then
  echo "--- containerd log (tail)"; tail -20 "$T/containerd.log" 2>/dev/null
  fail "the containers' part did not finish within 90 s"
fi
wait "$inner_pid"
inner_rc=$?
inner_pid=""
if [ $inner_rc = $SKIP ]; then exit $SKIP; fi
if [ $inner_rc != 0 ]; then
  echo "--- containerd log (tail)"; tail -20 "$T/containerd.log" 2>/dev/null
  fail "containers (exit $inner_rc)"
fi

# After CNI DEL: no WorkloadEndpoint, nothing allocated, no veth left on the node.
weps=$($CTL get workloadEndpoint -A -o yaml) || fail "brindlectl get workloadEndpoint"
echo "$weps" | grep -qx 'items: \[\]' || fail "WorkloadEndpoints left after CNI DEL: $weps"
show=$($CTL ipam show) || fail "brindlectl ipam show"
echo "$show"
inuse=$(echo "$show" | awk -F'|' '/IP Pool/ {gsub(/ /, "", $5); print $5}')
[ "$inuse" = "0(0%)" ] || fail "IPAM still has addresses in use after CNI DEL: '$inuse'"
left=$(ip netns exec "$NODE" ip -o link show | grep cali || true)
[ -z "$left" ] || fail "cali links left on the node: $left"
exit 0
