#!/bin/bash
# End-to-end SELinux test of brick in a real SELinux guest (not part of tests/run-all: slow).
#   tests/selinux-vm/run.sh [enforcing=1|enforcing=0]
# Packs the built brick, a busybox rootfs, two configs from `brick spec` and payload/ into a
# payload directory and boots the guest with $SELINUX_VM/run-vm.sh --payload. Exit status is
# run-vm.sh's: 0 iff the guest's self-test and the payload pass. With enforcing=0 it must fail.
# Env: BRICK (default build-selinux/brick), SELINUX_VM (default /work/shared/tools/selinux-vm),
#      SELINUX_VM_DIR (the image, see the VM's README), KEEP=1 keeps the payload directory.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BRICK=${BRICK:-$TOP/build-selinux/brick}
SELINUX_VM=${SELINUX_VM:-/work/shared/tools/selinux-vm}
MODE=${1:-enforcing=1}
case $MODE in enforcing=0|enforcing=1) ;; *) echo "usage: $0 [enforcing=1|enforcing=0]" >&2; exit 2;; esac
die() { echo "$0: $*" >&2; exit 2; }
[ -x "$BRICK" ] || die "no brick binary at $BRICK (meson setup build-selinux && ninja -C build-selinux)"
[ -x "$SELINUX_VM/run-vm.sh" ] || die "no run-vm.sh in $SELINUX_VM"
BB=$(command -v busybox || true)
[ -n "$BB" ] && ! ldd "$BB" >/dev/null 2>&1 || die "need a static busybox (Debian package busybox-static)"
PY=/usr/bin/python3
[ -x $PY ] || die "need $PY to edit config.json"

WORK=$(mktemp -d /tmp/brick-selinux-vm.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
P=$WORK/payload
mkdir -p "$P/lib" "$P/rootfs/bin"
cp "$HERE/payload/run" "$HERE/payload/check.sh" "$P/"
cp "$BRICK" "$P/brick"
# `brick check` runs in brick-tools, found next to brick.
TOOLS=$(dirname "$BRICK")/brick-tools
[ -x "$TOOLS" ] || die "no $TOOLS (ninja -C $(dirname "$BRICK") brick-tools)"
cp "$TOOLS" "$P/brick-tools"
# The guest image carries the libraries of a typical C runtime; ship the ones it may lack
# (an image built from the unmodified build-image.sh has no libyaml).
for lib in libyaml-0.so.2; do
  path=$(ldd "$BRICK" "$TOOLS" | awk -v l="$lib" '$1 == l {print $3; exit}')
  [ -n "$path" ] && cp -L "$path" "$P/lib/"
done

R=$P/rootfs
for d in proc dev sys tmp etc root; do mkdir -p "$R/$d"; done
cp "$BB" "$R/bin/busybox"
for t in sh cat touch tr echo mv ls; do ln -s busybox "$R/bin/$t"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"

# brick spec defaults, then only what the test needs: the command, a writable root, the
# other container's rootfs (read-only) and the host's /etc (read-write, idmapped).
"$BRICK" spec --bundle "$WORK"
for n in a b; do
  other=$([ $n = a ] && echo b || echo a)
  files=/other/data
  [ $n = a ] && files="/other/data /other/out/written-b"
  $PY - "$WORK/config.json" "$P/config-$n.json" "$n" "$other" $files <<'PYEOF'
import json, sys
src, dst, me, other, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
cfg = json.load(open(src))
cfg["process"]["args"] = ["/bin/sh", "/check.sh", me] + files
cfg["root"]["readonly"] = False
cfg["mounts"] += [
    {"destination": "/other", "type": "bind", "source": f"/var/tmp/brick-selinux/{other}/rootfs",
     "options": ["bind", "ro", "nosuid", "nodev"]},
    {"destination": "/hostetc", "type": "bind", "source": "/etc",
     "options": ["bind", "rw", "idmap", "nosuid", "nodev"]},
]
json.dump(cfg, open(dst, "w"), indent=2)
PYEOF
done

"$SELINUX_VM/run-vm.sh" --payload "$P" "$MODE"
