#!/bin/sh
# Unpack speed: brick image import (verify digests + unpack + commit) against
# `umoci unpack` (verify + unpack) and plain `tar -xzf` of the same gzip layers.
# The image is built here, offline, from host directories (3 layers of many small
# files plus the busybox image's layers). Prints wall times and ratios.
# usage: bench/unpack.sh [BRICK]   (default: build/brick; needs umoci, python3)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BRICK=${1:-${BRICK:-$here/build/brick}}
command -v umoci >/dev/null || { echo "bench: umoci not installed" >&2; exit 1; }
[ -x "$BRICK" ] || { echo "bench: $BRICK not built" >&2; exit 1; }

work=$(mktemp -d /tmp/brick-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
layout=$work/layout
"$here/scripts/make-busybox-image.sh" "$layout" >/dev/null

# extra layers from host trees, packed like an image builder would
n=0
for src in /usr/share/doc /usr/include /usr/lib/python3; do
    [ -d "$src" ] || continue
    n=$((n + 1))
    tar --sort=name -C / -cf "$work/l$n.tar" "${src#/}" 2>/dev/null || true
    gzip -n -1 "$work/l$n.tar"
done

python3 - "$layout" "$work" "$n" <<'PY'
import gzip, hashlib, json, os, sys
layout, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
blobs = os.path.join(layout, "blobs", "sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, d), "wb").write(data)
    return "sha256:" + d
index = json.load(open(os.path.join(layout, "index.json")))
mdesc = index["manifests"][0]
man = json.load(open(os.path.join(blobs, mdesc["digest"][7:])))
cfg = json.load(open(os.path.join(blobs, man["config"]["digest"][7:])))
for i in range(1, n + 1):
    data = open(os.path.join(work, f"l{i}.tar.gz"), "rb").read()
    h = hashlib.sha256()
    with gzip.open(os.path.join(work, f"l{i}.tar.gz")) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                          "digest": put(data), "size": len(data)})
    cfg["rootfs"]["diff_ids"].append("sha256:" + h.hexdigest())
c = json.dumps(cfg).encode()
man["config"]["digest"], man["config"]["size"] = put(c), len(c)
m = json.dumps(man).encode()
mdesc["digest"], mdesc["size"] = put(m), len(m)
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
PY

layers=$(python3 -c "
import json,sys; l='$layout'; i=json.load(open(l+'/index.json'))
m=json.load(open(l+'/blobs/sha256/'+i['manifests'][0]['digest'][7:]))
print(' '.join(l+'/blobs/sha256/'+x['digest'][7:] for x in m['layers']))")
count=$(echo $layers | wc -w)
bytes=$(cat $layers | wc -c)

now() { date +%s.%N; }
t() { # label command...
    label=$1; shift
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    s=$(now)
    "$@" >/dev/null 2>"$work/err" || { echo "bench: $label failed: $(cat "$work/err")" >&2; exit 1; }
    e=$(now)
    echo "$e - $s" | bc -l
}

brick_t=$(t "brick import" env BRICK_STORE="$work/store" "$BRICK" image import "oci:$layout")
umoci_t=$(t umoci umoci unpack --image "$layout:latest" "$work/umoci-bundle")
tar_x() { mkdir -p "$work/tar-root"; for l in $layers; do tar -xzf "$l" -C "$work/tar-root"; done; }
tar_t=$(t "tar -x" tar_x)
# tar leaves each .wh.X marker and the X it hides: two entries brick does not have
wh=$(find "$work/tar-root" -name '.wh.*' | wc -l)
files=$(( $(find "$work/tar-root" | wc -l) - 2 * wh ))
bfiles=$(find "$work"/store/rootfs/* | wc -l)
[ "$files" -le "$bfiles" ] || { echo "bench: brick's rootfs has $bfiles entries, tar's $files" >&2; exit 1; }

printf 'image: %d gzip layers, %s bytes compressed\n' "$count" "$bytes"
printf '%-28s %8.3f s\n' "brick image import" "$brick_t" "umoci unpack" "$umoci_t" "tar -xzf (per layer)" "$tar_t"
printf 'ratio brick/umoci: %.2f   brick/tar: %.2f\n' \
    "$(echo "$brick_t / $umoci_t" | bc -l)" "$(echo "$brick_t / $tar_t" | bc -l)"
