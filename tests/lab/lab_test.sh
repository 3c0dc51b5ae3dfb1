#!/usr/bin/env bash
# Runs scripts/lab (the main job's live part) and checks every traffic verdict it prints against
# what the seed's policy and profile mean (the nodes route to each other over BGP); also that it
# leaves no namespace and no BIRD behind.
set -uo pipefail
root=$1
build=$2
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
before=$(ip netns list | awk '{print $1}' | grep -c '^blab' || true)
birds() { pgrep -f 'bird -f -c /tmp/brindle-lab-' | wc -l; }  # the lab's BIRDs (docs/bgp.md)
birds_before=$(birds)
out=$(BRINDLE_SKIP_BUILD=1 BRINDLE_BUILD_DIR="$build" "$root/scripts/lab" 2>&1)
status=$?
echo "$out"
[ $status -eq 0 ] || { echo "FAIL: scripts/lab exited $status"; exit 1; }
got=$(echo "$out" | grep -E '^  frontend[12] +-> database' | sed 's/  */ /g')
want=" frontend1 -> database:3306 allowed
 frontend2 -> database:3306 allowed
 frontend1 -> database:5432 allowed
 frontend1 -> database:3306 DENIED
 frontend2 -> database:3306 DENIED
 frontend1 -> database:5432 DENIED
 frontend1 -> database:3306 allowed
 frontend2 -> database:3306 allowed
 frontend1 -> database:5432 DENIED"
if [ "$got" != "$want" ]; then
  echo "FAIL: verdicts differ"; diff <(echo "$want") <(echo "$got"); exit 1
fi
after=$(ip netns list | awk '{print $1}' | grep -c '^blab' || true)
[ "$after" -le "$before" ] || { echo "FAIL: namespaces left behind"; exit 1; }
sleep 0.5
[ "$(birds)" -le "$birds_before" ] || { echo "FAIL: BIRD left running"; exit 1; }
echo "PASS"
