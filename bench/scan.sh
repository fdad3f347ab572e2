#!/bin/bash
# Scan benchmarks: OSV import of >= 50,000 synthetic records, a warm scan of a Debian
# rootfs (target <= 50 ms) and `--all` over 100 images in a private store and over 100
# containers (target <= 1 s). Every scan figure is the median of RUNS runs (default
# 10), wall time and CPU time (user + system) of the brick process, measured by a
# Python driver that starts brick with posix_spawn (so no shell or interpreter start-up
# is counted). The machine is shared: compare CPU medians when wall times are noisy.
# usage: bench/scan.sh [BRICK]   (default build/brick; N, RUNS, IMAGES from the environment;
# RUNS_FLEET, default RUNS, for the --all/--package runs: an old build takes many seconds each)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BRICK=${1:-${BRICK:-$here/build/brick}}
N=${N:-50000}
RUNS=${RUNS:-10}
RUNS_FLEET=${RUNS_FLEET:-$RUNS}
IMAGES=${IMAGES:-100}
[ -x "$BRICK" ] || { echo "bench: $BRICK not built" >&2; exit 1; }
work=$(mktemp -d /tmp/brick-bench-scan.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$N" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
# real source names from this host so the scan has something to find
names = []
for line in open("/var/lib/dpkg/status"):
    if line.startswith("Package: "):
        names.append(line.split()[1])
ecos = ["Debian:12", "Debian:11", "Ubuntu:22.04:LTS", "Alpine:v3.19", "AlmaLinux:9", "Rocky Linux:9"]
vec = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:{}/I:{}/A:{}"
with open(f"{work}/osv.jsonl", "w") as f:
    for i in range(n):
        eco = rng.choice(ecos)
        affected = []
        for _ in range(rng.randint(1, 3)):
            ev = [{"introduced": "0"}]
            if rng.random() < 0.8:
                ev.append({"fixed": f"{rng.randint(0,9)}.{rng.randint(0,30)}-{rng.randint(1,9)}"})
            affected.append({"package": {"ecosystem": eco, "name": rng.choice(names)},
                             "ranges": [{"type": "ECOSYSTEM", "events": ev}],
                             "ecosystem_specific": {"urgency": rng.choice(["low", "medium", "high"])}})
        rec = {"id": f"CVE-2099-{i:06d}", "modified": "2024-05-01T12:00:00Z",
               "published": "2024-04-01T00:00:00Z", "aliases": [f"GHSA-{i:04x}"],
               "summary": "synthetic vulnerability " + str(i),
               "details": "x" * rng.randint(50, 400), "affected": affected,
               "references": [{"type": "ADVISORY", "url": f"https://example.invalid/{i}"}]}
        if rng.random() < 0.6:
            rec["severity"] = [{"type": "CVSS_V3", "score": vec.format(*(rng.choice("HLN") for _ in range(3)))}]
        f.write(json.dumps(rec) + "\n")
PY

# measure LABEL CMD...: RUNS runs, stdout to /dev/null, exit status 0 or 1 accepted
cat > "$work/measure.py" <<'PY'
import os, statistics, sys, time
runs, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
walls, cpus = [], []
null = os.open("/dev/null", os.O_WRONLY)
for _ in range(runs):
    t = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
    _, status, ru = os.wait4(pid, 0)
    walls.append((time.perf_counter() - t) * 1000)
    cpus.append((ru.ru_utime + ru.ru_stime) * 1000)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"bench: {label}: {' '.join(cmd)} failed")
print(f"{label}: median {statistics.median(walls):.0f} ms wall, {statistics.median(cpus):.0f} ms CPU"
      f" (min {min(walls):.0f} / {min(cpus):.0f}; {runs} runs)")
PY
measure() { python3 "$work/measure.py" "$RUNS" "$@"; }
measure_fleet() { python3 "$work/measure.py" "$RUNS_FLEET" "$@"; }
ms_since() { python3 -c 'import sys,time; print(round((time.time()-float(sys.argv[1]))*1000))' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }

db="$work/v.sqlite"
t=$(now); "$BRICK" db import --no-progress --db "$db" "$work/osv.jsonl" >/dev/null
echo "import of $N OSV records: $(ms_since "$t") ms"

root="$work/rootfs"
mkdir -p "$root/var/lib/dpkg" "$root/etc"
cp /var/lib/dpkg/status "$root/var/lib/dpkg/status"
printf 'ID=debian\nVERSION_ID="12"\n' > "$root/etc/os-release"
pkgs=$(grep -c '^Package:' "$root/var/lib/dpkg/status")
findings=$("$BRICK" scan --db "$db" --format json "$root" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"][0]["findings"]))')
echo "rootfs: $pkgs packages, $findings findings"
measure "warm scan of the rootfs, table" "$BRICK" scan --db "$db" --no-color "$root"
measure "warm scan of the rootfs, json " "$BRICK" scan --db "$db" --format json "$root"
measure "process start (scan --help)  " "$BRICK" scan --help

# IMAGES distinct images in a private store: one layer each with os-release and a dpkg
# status derived from this host's (image i drops ~10% of the packages and rebuilds ~5%
# at a new version), imported with `brick image import` like any OCI layout.
store="$work/store"
python3 - "$work/layouts" "$IMAGES" "$root/var/lib/dpkg/status" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile, zlib
out, count, status_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
paras = open(status_path).read().strip("\n").split("\n\n")
def blob(d, data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(d, "blobs", "sha256", h), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
for i in range(count):
    keep = []
    for p in paras:
        name = p.split("\n", 1)[0]
        r = zlib.crc32(f"{i}:{name}".encode()) % 100
        if r < 10:
            continue
        if r < 15:
            p = "\n".join(l + f"+bench{i}" if l.startswith("Version: ") else l for l in p.split("\n"))
        keep.append(p)
    files = {"etc/os-release": b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
             "var/lib/dpkg/status": ("\n\n".join(keep) + "\n").encode()}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("etc", "var", "var/lib", "var/lib/dpkg"):
            ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; tf.addfile(ti)
        for path, data in files.items():
            ti = tarfile.TarInfo(path); ti.size = len(data); ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    layer = raw.getvalue()
    d = os.path.join(out, f"img{i}")
    os.makedirs(os.path.join(d, "blobs", "sha256"))
    gz = gzip.compress(layer, compresslevel=1, mtime=0)
    lb = blob(d, gz)
    config = {"architecture": "amd64", "os": "linux", "config": {},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}
    cb = blob(d, json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cb},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **lb}]}
    mb = blob(d, json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **mb,
             "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
PY
echo '{"default": [{"type": "insecureAcceptAnything"}]}' > "$work/policy.json"
policy=()   # builds from before the trust policy was wired into import have no --policy
"$BRICK" image import --help 2>&1 | grep -q -- --policy && policy=(--policy "$work/policy.json")
t=$(now)
for i in $(seq 0 $((IMAGES - 1))); do
  BRICK_STORE="$store" "$BRICK" image import --quiet "${policy[@]}" \
    --name "bench/img$i:latest" "oci:$work/layouts/img$i" >/dev/null
done
echo "import of $IMAGES images: $(ms_since "$t") ms"
empty="$work/no-containers"; mkdir -p "$empty"
t=$(now); BRICK_STORE="$store" "$BRICK" --root "$empty" scan --db "$db" --all --no-color >/dev/null || true
echo "--all over $IMAGES images, first run (inventories from the layers): $(ms_since "$t") ms"
export BRICK_STORE="$store"
measure_fleet "--all over $IMAGES images, table" "$BRICK" --root "$empty" scan --db "$db" --all --no-color
measure_fleet "--all over $IMAGES images, json " "$BRICK" --root "$empty" scan --db "$db" --all --format json
measure_fleet "--package zlib1g over $IMAGES images" "$BRICK" --root "$empty" scan --package zlib1g

# 100 containers in a private state dir, each its own rootfs copy (no images)
export BRICK_STORE="$work/no-store"
state="$work/state"
for i in $(seq 1 100); do
  r="$work/c/$i"; mkdir -p "$r/var/lib/dpkg" "$r/etc" "$state/c$i"
  cp "$root/var/lib/dpkg/status" "$r/var/lib/dpkg/status"; cp "$root/etc/os-release" "$r/etc/"
  printf '{"id":"c%s","rootfs":"%s"}' "$i" "$r" > "$state/c$i/state.json"
done
measure_fleet "--all over 100 containers, table" "$BRICK" --root "$state" scan --db "$db" --all --no-color
measure_fleet "--all over 100 containers, json " "$BRICK" --root "$state" scan --db "$db" --all --format json
