#!/bin/sh
# `cmake --install` into a throw-away DESTDIR (never onto this machine): the binaries on the
# PATH, brindle-cni and brindle-ipam (one file, two names) in /opt/cni/bin, the systemd unit
# where systemd finds it for the prefix, naming brindlectl by its installed path.
# Usage: install_test.sh BUILD_DIR
set -eu
build=$1
dest=$(mktemp -d /tmp/brindle-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

for prefix in /usr/local /usr; do
  root=$dest/$(echo "$prefix" | tr / _)
  DESTDIR=$root cmake --install "$build" --prefix "$prefix" >"$root.log" 2>&1 ||
    { cat "$root.log" >&2; fail "cmake --install --prefix $prefix"; }
  for f in "$prefix/bin/brindlectl" "$prefix/bin/brindle-agent" /opt/cni/bin/brindle-cni \
           /opt/cni/bin/brindle-ipam "$prefix/lib/systemd/system/brindle-agent.service" \
           "$prefix/share/brindle/examples/agent.env"; do
    [ -f "$root$f" ] || fail "$prefix: $f not installed; installed: $(cd "$root" && find . -type f)"
  done
  if [ -f "$build/apps/brindle-lab/brindle-lab" ] && [ ! -x "$root$prefix/bin/brindle-lab" ]; then
    fail "$prefix: brindle-lab built but not installed"
  fi
  for f in "$prefix/bin/brindlectl" "$prefix/bin/brindle-agent" /opt/cni/bin/brindle-cni; do
    [ -x "$root$f" ] || fail "$f is not executable"
  done
  [ "$root/opt/cni/bin/brindle-ipam" -ef "$root/opt/cni/bin/brindle-cni" ] ||
    cmp -s "$root/opt/cni/bin/brindle-ipam" "$root/opt/cni/bin/brindle-cni" ||
    fail "brindle-ipam is not brindle-cni"
  unit=$root$prefix/lib/systemd/system/brindle-agent.service
  grep -qx "ExecStart=$prefix/bin/brindlectl node run --init-system \$BRINDLE_NODE_RUN_ARGS" "$unit" ||
    fail "$prefix: ExecStart: $(grep ExecStart "$unit")"
  grep -qx "ExecStop=$prefix/bin/brindlectl node stop" "$unit" ||
    fail "$prefix: ExecStop: $(grep ExecStop "$unit")"
  # Nothing outside the prefix but the CNI directory.
  extra=$(cd "$root" && find . -type f | grep -v "^\.$prefix/" | grep -v '^\./opt/cni/bin/' || true)
  [ -z "$extra" ] || fail "$prefix: installed outside the prefix: $extra"
  # The installed brindlectl runs.
  "$root$prefix/bin/brindlectl" version >/dev/null 2>&1 || "$root$prefix/bin/brindlectl" --help >/dev/null ||
    fail "installed brindlectl does not run"
done

# systemd's own reading of the unit, where this machine has systemd-analyze: a copy naming the
# brindlectl we installed (verify checks that the Exec programs exist).
if command -v systemd-analyze >/dev/null 2>&1; then
  root=$dest/_usr
  sed "s|^\(Exec[A-Za-z]*\)=/usr/bin/|\1=$root/usr/bin/|" \
    "$root/usr/lib/systemd/system/brindle-agent.service" >"$dest/brindle-agent.service"
  # It exits 0 on unknown keys, so anything it says about our unit is a failure too.
  if ! out=$(systemd-analyze verify --man=no "$dest/brindle-agent.service" 2>&1) ||
     echo "$out" | grep -q brindle-agent.service; then
    echo "$out" >&2
    fail "systemd-analyze verify"
  fi
fi
echo "install: ok"
