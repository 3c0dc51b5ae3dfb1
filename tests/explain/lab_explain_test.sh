#!/usr/bin/env bash
# explain against brindle-lab's seed (root, ctest label integration), one variant per run:
#   lab_explain_test.sh BUILD seed|profile|fixed
# For every probe of `brindle-lab seed --json` (real connections between the seed's workloads),
# `brindlectl explain --live` over the lab's store and the nodes' namespaces must give the
# measured verdict from the model and from the kernel walk, with no mismatch between them, and
# the seed's reason column must be explain's deciding rule. With BRINDLE_TEST_DATAPLANE=nftables
# the agents run the nftables dataplane: the model must still give the measured verdict and the
# reason, and --live (a walk of iptables) must refuse, naming nftables, never claim a mismatch.
# The lab is removed on exit, also on failure.
set -uo pipefail
build=$1
mode=$2
dataplane=${BRINDLE_TEST_DATAPLANE:-iptables}
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
labbin="$build/apps/brindle-lab/brindle-lab"
ctl="$build/apps/brindlectl/brindlectl"
name="cx-$mode-$$"
lab() { "$labbin" --lab "$name" "$@"; }
trap 'lab down >/dev/null 2>&1' EXIT
fail() { echo "FAIL: $*"; exit 1; }

variant=()
[ "$mode" = seed ] || variant=(--variant "$mode")
out=$(lab seed "${variant[@]}" --dataplane "$dataplane" --json) || fail "seed exited $?: $out"
n=$(echo "$out" | jq length)
[ "$n" -eq 18 ] || fail "expected 18 probes, got $n"
export DATASTORE_TYPE=local BRINDLE_STORE_PATH="/var/run/brindle-lab/$name/store.db"
netns=(--node-netns "slave1=bl-$name-slave1" --node-netns "slave2=bl-$name-slave2")
probes=$(echo "$out" | jq -r '.[] | "\(.from) \(.to) \(if .proto == "icmp" then "icmp" else "\(.proto)/\(.port)" end) \(.verdict) \(.reason)"')
while read -r from to target measured reason; do
  if [ "$dataplane" = nftables ]; then
    if res=$("$ctl" explain "$from" "$to" "$target" --live "${netns[@]}" -o json 2>&1); then
      fail "explain --live $from $to $target on nftables exited 0: $res"
    fi
    grep -q "runs the nftables dataplane" <<<"$res" || fail "explain --live on nftables: $res"
    grep -qi mismatch <<<"$res" && fail "explain --live on nftables claims a mismatch: $res"
    res=$("$ctl" explain "$from" "$to" "$target" -o json) ||
      fail "explain $from $to $target exited $?: $res"
  else
    res=$("$ctl" explain "$from" "$to" "$target" --live "${netns[@]}" -o json) ||
      fail "explain $from $to $target exited $?: $res"
  fi
  model=$(echo "$res" | jq -r .verdict)
  live=$(echo "$res" | jq -r '.live.verdict // "not walked"')
  mismatches=$(echo "$res" | jq -r '.live.mismatches // [] | length')
  why=$(echo "$res" | jq -r 'if .egress.decision.allowed then .ingress.decision.text else .egress.decision.text end')
  echo "$from -> $to $target $measured: model $model, live $live ($why)"
  [ "$model" = "$measured" ] || fail "$from -> $to $target: model says $model, traffic $measured"
  [ "$dataplane" = nftables ] || [ "$live" = "$measured" ] || fail "$from -> $to $target: kernel walk says $live, traffic $measured"
  # The lab's reason column is explain's deciding rule.
  [ "$reason" = "$why" ] || fail "$from -> $to $target: the lab's reason \"$reason\", explain's \"$why\""
  [ "$mismatches" -eq 0 ] || fail "$from -> $to $target: $(echo "$res" | jq -r '.live.mismatches[]')"
done <<<"$probes"
if [ "$dataplane" = nftables ]; then
  for node in slave1 slave2; do
    lab exec "$node" nft list chain inet calico filter-cali-FORWARD >/dev/null ||
      fail "$node: no nftables FORWARD chain of ours"
    [ -z "$(lab exec "$node" iptables-save | grep -- '-A cali-')" ] || fail "$node: iptables rules on nftables"
    [ -z "$(lab exec "$node" ipset list -n | grep '^cali')" ] || fail "$node: ipsets on nftables"
  done
  echo "all $n probes: model and traffic agree; --live refused on nftables"
  exit 0
fi
echo "all $n probes: model, kernel walk and traffic agree"
