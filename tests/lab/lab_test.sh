#!/usr/bin/env bash
# brindle-lab end to end, one scenario per run (each its own lab, so they run side by side):
#   lab_test.sh BUILD seed|profile|fixed|etcd|up8|subnets|kill9
# Checks the traffic matrix the seed and its variants imply, the 8-node mesh with a workload per
# node, 4 nodes on two routed subnets, and that `down` after `kill -9` of a running `brindle-lab up` leaves the host as found.
# The lab is removed on exit, also on failure.
set -uo pipefail
# (A `grep -q` reads a here-string, never a pipe: under pipefail a writer that gets SIGPIPE after
# grep -q exits on its first match fails the pipeline, which flaked lab_up8.)
build=$1
mode=$2
# A "-nft" suffix runs the same scenario with every agent on the nftables dataplane.
dataplane=iptables
if [[ $mode == *-nft ]]; then
  mode=${mode%-nft}
  dataplane=nftables
fi
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
bin="$build/apps/brindle-lab/brindle-lab"
name="ct-$mode-$$"
lab() { "$bin" --lab "$name" "$@"; }
trap 'lab down >/dev/null 2>&1' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The seed's matrix: every line "FROM -> TO PROTO verdict (reason)"; want() gives the expected
# verdict.
check_matrix() {  # output
  local lines n=0
  lines=$(echo "$1" | grep ' -> ')
  [ "$(echo "$lines" | wc -l)" -eq 18 ] || fail "expected 18 probes"
  while read -r from _ to what verdict reason; do
    [[ $reason == "("*")" ]] || fail "$from -> $to $what: no reason after the verdict"
    local expected
    expected=$(want "$from" "$to" "$what")
    [ "$verdict" = "$expected" ] || fail "$from -> $to $what: $verdict, expected $expected"
    n=$((n + 1))
  done <<<"$lines"
  echo "all $n verdicts as expected"
}

# Every ordered pair of the workloads w1..wN by ICMP, all at once.
# The routes to new workloads travel over BGP, so a few rounds are allowed.
all_pairs_reachable() {  # nodes
  local n=$1 pairs=$(($1 * ($1 - 1))) round dir allowed
  for round in 1 2 3 4 5; do
    dir=$(mktemp -d)
    for i in $(seq "$n"); do for j in $(seq "$n"); do
      [ "$i" = "$j" ] || lab probe "w$i" "w$j" icmp >"$dir/$i-$j" &
    done; done
    wait
    allowed=$(cat "$dir"/* | grep -c ' allowed$')
    rm -rf "$dir"
    echo "round $round: $allowed of $pairs pairs reachable"
    [ "$allowed" -eq "$pairs" ] && return 0
    sleep 0.5
  done
  fail "not every pair reachable"
}

to_db() { [ "$2" = slave2-database ]; }
case $mode in
  seed | etcd) want() { echo allowed; } ;;
  profile)  # the database's profile decides, its first rule a bare deny
    want() { if to_db "$@"; then echo denied; else echo allowed; fi } ;;
  fixed)  # the profile without the deny: only tcp/3306 from the frontends
    want() {
      if to_db "$@" && [ "$3" != tcp/3306 ]; then echo denied; else echo allowed; fi
    } ;;
esac

# The nftables chain of a workload's ingress: its group's (the interface's device group, see
# src/rules/endpoints.h), "" when the interface carries no group.
group_chain() {
  local group
  group=$(lab exec "$1" ip -j link show dev "$2" | jq -r '.[0].group')
  [[ $group =~ ^[0-9]+$ ]] && printf 'filter-cali-tw-g%08x' "$group"
}

case $mode in
  seed | profile | fixed)
    variant=()
    [ "$mode" = seed ] || variant=(--variant "$mode")
    start=$(date +%s.%N)
    out=$(lab seed "${variant[@]}" --dataplane "$dataplane") || fail "seed exited $?: $out"
    echo "$out"
    printf 'seed took %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
    check_matrix "$out"
    [ "$(echo "$out" | grep -c 'Brindle process is running')" -eq 2 ] || fail "node status missing"
    if [ "$dataplane" = nftables ]; then
      chain=$(group_chain slave2 cali0ef24b3) || fail "slave2's cali0ef24b3 carries no group"
      grep -q "chain $chain {" <<<"$out" || fail "slave2's nftables chains missing ($chain)"
      for n in slave1 slave2; do
        [ -z "$(lab exec "$n" iptables-save | grep -- '-A cali-')" ] || fail "$n: iptables rules on nftables"
        [ -z "$(lab exec "$n" ipset list -n | grep '^cali')" ] || fail "$n: ipsets on nftables"
      done
    else
      grep -q '^-A cali-tw-cali0ef24b3 ' <<<"$out" || fail "slave2's cali- chains missing"
    fi
    grep -q "lab up: run 'brindle-lab --lab $name down' to remove it" <<<"$out" ||
      fail "no word on how to remove the lab"
    ;;
  etcd)
    out=$(lab seed --etcd --json) || fail "seed --etcd exited $?"
    echo "$out"
    check_matrix "$(echo "$out" | jq -r '.[] | "\(.from) -> \(.to) \(if .proto == "icmp" then "icmp" else "\(.proto)/\(.port)" end) \(.verdict) (\(.reason))"')"
    grep -q 'datastore etcd http://192.168.40.10:2379' <<<"$(lab status)" || fail "status: not on etcd"
    ;;
  up8)
    out=$(lab up --nodes 8 --dataplane "$dataplane") || fail "up exited $?: $out"
    echo "$out"
    status=$(lab status)
    echo "$status" | head -12
    for i in $(seq 8); do
      grep -Eq "^node$i +10\.99\.1\.$((10 + i))/24 +7$" <<<"$status" || fail "node$i: not 7 sessions"
      lab workload add "node$i" "w$i" || fail "workload add w$i"
    done
    all_pairs_reachable 8
    if [ "$dataplane" = nftables ]; then
      for i in $(seq 8); do
        chain=$(group_chain "node$i" "$(lab status | awk -v w="w$i" '$1 == w {print $4}')") ||
          fail "node$i: w$i's interface carries no group"
        lab exec "node$i" nft list chain inet calico "$chain" >/dev/null ||
          fail "node$i: w$i's nftables chain $chain missing"
        [ -z "$(lab exec "node$i" iptables-save | grep -- '-A cali-')" ] || fail "node$i: iptables rules on nftables"
      done
    fi
    ;;
  subnets)  # two subnets joined by the fabric's router, which peers with every node
    out=$(lab up --nodes 4 --subnets 2) || fail "up exited $?: $out"
    echo "$out"
    grep -q '4 BGP sessions Established each' <<<"$out" || fail "not mesh + router sessions"
    # Added all at once: each add waits for the one before (the lab's lock), none is lost.
    pids=()
    for i in 1 2 3 4; do lab workload add "node$i" "w$i" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || fail "a parallel workload add failed"; done
    status=$(lab status)
    for i in 1 2 3 4; do grep -q "^w$i " <<<"$status" || fail "w$i missing from the state"; done
    lab exec fabric ip route
    all_pairs_reachable 4
    ;;
  failed)
    # up fails half way (fabric and node namespaces made, then node run refuses an IPIP pool on a
    # kernel without ipip): it removes what it made by itself.
    grep -qw ipip /proc/modules /lib/modules/"$(uname -r)"/modules.* 2>/dev/null &&
      { echo "this kernel has ipip: up would not fail"; exit 77; }
    ours() { ip netns list | awk '{print $1}' | grep -- "^bl-$name-" | sort; }
    out=$(lab up --nodes 2 --ipip always 2>&1) && fail "up succeeded without ipip: $out"
    echo "$out"
    grep -q 'removing what was made' <<<"$out" || fail "no word of the removal"
    [ -z "$(ours)" ] || fail "namespaces left: $(ours)"
    [ ! -e "/var/run/brindle-lab/$name" ] || fail "state dir left"
    ;;
  kill9)
    # (Only this lab's namespaces: other tests may make and remove theirs meanwhile.)
    ours() { ip netns list | awk '{print $1}' | grep -- "^bl-$name-" | sort; }
    netns_before=$(ours)
    routes_before=$(ip route; ip -6 route)
    run_before=$(ls -a /var/run/brindle 2>/dev/null)
    # brindle-lab itself in the background (not through the function lab, whose subshell would
    # be what $! names and kill -9 kills, leaving brindle-lab running and removing its lab
    # concurrently with our down).
    "$bin" --lab "$name" up --nodes 3 --etcd >/dev/null 2>&1 &
    up=$!
    # Killed while it starts nodes: once an agent runs in node3's namespace (by command name:
    # up's own `ip -n` calls show up in a namespace for a moment too).
    agent_runs() {
      ip netns pids "bl-$name-node3" 2>/dev/null | xargs -r ps -o comm= -p 2>/dev/null |
        grep -qx brindle-agent
    }
    for _ in $(seq 600); do
      agent_runs && break
      sleep 0.05
    done
    agent_runs || fail "node3's agent is not running"
    kill -9 "$up"
    wait "$up" 2>/dev/null
    # The namespaces' identities, to find any process left in one after down.
    inodes=$(for f in /var/run/netns/bl-"$name"-*; do stat -L -c %i "$f"; done)
    [ -n "$inodes" ] || fail "the lab made no namespace before it was killed"
    echo "killed brindle-lab up with $(echo "$inodes" | wc -l) namespaces made"
    lab down || fail "down exited $?"
    lab down >/dev/null || fail "a second down failed"
    [ "$(ours)" = "$netns_before" ] || fail "ip netns differs: $(ours)"
    [ "$(ip route; ip -6 route)" = "$routes_before" ] || fail "host routes differ"
    [ "$(ls -a /var/run/brindle 2>/dev/null)" = "$run_before" ] || fail "/var/run/brindle differs"
    [ ! -e "/var/run/brindle-lab/$name" ] || fail "state dir left"
    grep -q -- "$name" <<<"$(ls -a /tmp)" && fail "temp files left"
    for p in /proc/[0-9]*; do
      ino=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
      grep -qx "$ino" <<<"$inodes" && fail "process ${p#/proc/} left in a lab namespace"
    done
    ;;
  *) fail "unknown mode $mode" ;;
esac
echo PASS
