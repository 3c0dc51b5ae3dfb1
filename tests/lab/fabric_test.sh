#!/usr/bin/env bash
# brindle-lab's data-centre fabrics (seed S5), one topology per run, each its own lab:
#   fabric_test.sh BUILD mesh|rr|as-per-rack|as-per-rack-core|as-per-server|downward-default|ecmp-fabric|kill9
# 2 racks x 4 nodes come up, a workload per node, cross-rack traffic works, `routes --json`
# equals the planner's prediction on every device, and `down` leaves nothing. Downward Default:
# nodes hold their local routes and a default only, and a probe to an unused pool address dies at
# the core. ECMP: 4 next hops per remote block; with the plane a TCP stream uses down (on every
# node), the stream survives, the route keeps 3 next hops and new connections work. `kill9`: down
# after kill -9 of up --topology. The lab is removed on exit, also on failure.
set -uo pipefail
build=$1
mode=$2
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
bin="$build/apps/brindle-lab/brindle-lab"
name="ct-$(echo "$mode" | tr -d -- - | cut -c1-10)-$$"
lab() { "$bin" --lab "$name" "$@"; }
trap 'lab down >/dev/null 2>&1; rm -f "/tmp/$name.iperf"' EXIT
fail() { echo "FAIL: $*"; lab routes; exit 1; }

ours() { ip netns list | awk '{print $1}' | grep -- "^bl-$name-"; }
# After down: no namespace, no state dir, no process in any of the lab's namespaces (their
# identities, `inodes`, taken before).
nothing_left() {
  [ -z "$(ours)" ] || fail "namespaces left: $(ours)"
  [ ! -e "/var/run/brindle-lab/$name" ] || fail "state dir left"
  left=$(stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null | grep -Fwf <(echo "$inodes"))
  [ -z "$left" ] || fail "processes left in the lab's namespaces: $left"
}

if [ "$mode" = kill9 ]; then
  # up killed with SIGKILL once every router's BIRD and the last node's agent run: down still
  # removes it all.
  "$bin" --lab "$name" up --topology downward-default --racks 2 --nodes-per-rack 4 \
    >/dev/null 2>&1 &
  up=$!
  # By command name: up's own `ip -n` calls show up in a namespace for a moment too.
  runs() { ip netns pids "bl-$name-$1" 2>/dev/null | xargs -r ps -o comm= -p 2>/dev/null | grep -qx "$2"; }
  for _ in $(seq 600); do
    runs r2n4 brindle-agent && break
    sleep 0.05
  done
  runs r2n4 brindle-agent || fail "the last node's agent is not running"
  runs core bird || fail "the core's BIRD is not running"
  kill -9 "$up"
  wait "$up" 2>/dev/null
  inodes=$(for f in /var/run/netns/bl-"$name"-*; do stat -L -c %i "$f"; done)
  echo "killed brindle-lab up with $(echo "$inodes" | wc -l) namespaces made"
  lab down || fail "down exited $?"
  nothing_left
  echo PASS
  exit 0
fi

case $mode in
  as-per-rack-core) args=(--topology as-per-rack --core) ;;
  rr) args=(--topology rr --rrs 2) ;;
  *) args=(--topology "$mode") ;;
esac
out=$(lab up "${args[@]}" --racks 2 --nodes-per-rack 4) || fail "up exited $?: $out"
echo "$out"
for r in 1 2; do for i in 1 2 3 4; do
  lab workload add "r${r}n$i" "w$r$i" >/dev/null || fail "workload add w$r$i"
done; done

# Every device as predicted, once BGP has carried the new blocks: the same in two polls in a row
# (BIRD replaces a route when a further path arrives, e.g. ECMP's fourth next hop). Bounded.
matched=0
for _ in $(seq 100); do
  json=$(lab routes --json) || json=""
  diff=$(echo "$json" | jq -c '.[] | select(.sessions != .predicted_sessions or .routes != .predicted_routes)')
  if [ -n "$json" ] && [ -z "$diff" ]; then matched=$((matched + 1)); else matched=0; fi
  [ "$matched" -ge 2 ] && break
  sleep 0.2
done
lab routes
[ "$matched" -ge 2 ] || fail "devices differ from the plan: ${diff:-routes failed}"
[ "$(lab routes --json | jq length)" -ge 8 ] || fail "fewer devices than expected"

# Cross-rack traffic (and one in-rack pair), both ways.
probes=$( (lab probe w11 w24 icmp & lab probe w24 w11 icmp & lab probe w12 w21 tcp/8080 &
  lab probe w21 w13 tcp/8080 & lab probe w11 w13 icmp & wait) )
echo "$probes"
[ "$(echo "$probes" | grep -c ' allowed$')" -eq 5 ] || fail "cross-rack traffic"

case $mode in
  downward-default)
    # A node's BGP routes: the default and its own block's blackhole; nothing of the others.
    for node in r1n1 r2n3; do
      got=$(lab exec "$node" ip -4 route show proto bird | awk '{print $1, $2}' | sort)
      echo "$node: $got"
      [ "$(echo "$got" | grep -c '^default')" -eq 1 ] || fail "$node: no default"
      [ "$(echo "$got" | grep -vc '^default\|^blackhole')" -eq 0 ] || fail "$node: more than a default"
    done
    # An unused pool address: up to the core, which drops it.
    out=$(lab probe w11 10.244.255.254) || fail "probe to an unused address exited $?"
    echo "$out"
    grep -q 'died at core' <<<"$out" || fail "did not die at the core"
    ;;
  ecmp-fabric)
    block=$(lab exec r2n4 ip -4 route show proto bird type blackhole | awk '{print $2}')
    hops() { lab exec r1n1 ip -j route show "$block" | jq '.[0].nexthops | length'; }
    wait_hops() { for _ in $(seq 50); do [ "$(hops)" = "$1" ] && break; sleep 0.2; done; }
    wait_hops 4
    lab exec r1n1 ip route show "$block"
    [ "$(hops)" = 4 ] || fail "r1n1 has $(hops) next hops to $block"
    w24=$(lab status | awk '$1 == "w24" {print $3}')
    read -r w11 cali11 < <(lab status | awk '$1 == "w11" {print $3, $4}')
    # The plane r1n1 sends this stream on (the kernel hashes the flow's addresses): that one
    # goes down, on every node.
    plane=$(lab exec r1n1 ip -j route get "$w24" from "$w11" iif "$cali11" | jq -r '.[0].dev')
    echo "the stream leaves r1n1 on $plane"
    [[ $plane == eth[0-3] ]] || fail "no plane for the stream: $plane"
    lab exec w24 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
    for _ in $(seq 50); do grep -q ':5201 ' <<<"$(lab exec w24 ss -ltn)" && break; sleep 0.1; done
    lab exec w11 iperf3 -c "$w24" -p 5201 -t 5 -P 4 -J >"/tmp/$name.iperf" 2>&1 &
    stream=$!
    # Once the stream's 4 data connections (and the control one) carry data, its plane goes
    # down on every node.
    for _ in $(seq 50); do
      [ "$(lab exec w11 ss -Htn state established "( dport = :5201 )" | wc -l)" -ge 5 ] && break
      sleep 0.1
    done
    for r in 1 2; do for i in 1 2 3 4; do lab exec "r${r}n$i" ip link set "$plane" down; done; done
    wait "$stream"; rc=$?
    sent=$(jq '.end.sum_received.bytes // 0' "/tmp/$name.iperf")
    jq -r '.error // empty' "/tmp/$name.iperf"
    rm -f "/tmp/$name.iperf"
    echo "stream through the plane failure: exit $rc, $sent bytes received"
    [ "$rc" -eq 0 ] && [ "$sent" -gt 0 ] || fail "the TCP stream did not survive"
    lab exec r1n1 ip route show "$block"
    wait_hops 3
    [ "$(hops)" = 3 ] || fail "r1n1 has $(hops) next hops to $block, not 3"
    new=$(lab probe w11 w24 tcp/8080; lab probe w13 w22 tcp/8080)
    echo "$new"
    [ "$(echo "$new" | grep -c ' allowed$')" -eq 2 ] || fail "new connections after the plane failure"
    ;;
esac

inodes=$(for f in /var/run/netns/bl-"$name"-*; do stat -L -c %i "$f"; done)
lab down || fail "down exited $?"
nothing_left
echo PASS
