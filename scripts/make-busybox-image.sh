#!/bin/sh
# Build a small OCI image layout offline from the host's static busybox
# (Debian: busybox-static). Needs only tar, gzip, sha256sum and python3 (for JSON).
#   layer 1: /bin/busybox + one symlink per applet, /etc/passwd, /etc/group, /tmp,
#            /etc/remove-me
#   layer 2: adds /etc/motd and whites out /etc/remove-me (exercises OCI whiteouts)
# Output is reproducible (sorted entries, fixed mtimes and owners, gzip -n).
# usage: make-busybox-image.sh OUTDIR [TAG]
set -eu

out=${1:?usage: make-busybox-image.sh OUTDIR [TAG]}
tag=${2:-latest}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-busybox-image.sh: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
    echo "make-busybox-image.sh: $busybox is dynamically linked; need busybox-static" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

mkdir -p "$work/l1/bin" "$work/l1/etc" "$work/l1/tmp" "$work/l1/root" "$work/l2/etc"
cp "$busybox" "$work/l1/bin/busybox"
chmod 0755 "$work/l1/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$work/l1/bin/$applet"
done
chmod 1777 "$work/l1/tmp"
chmod 0700 "$work/l1/root"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nbrick:x:1000:1000:brick user:/tmp:/bin/sh\n' > "$work/l1/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nbrick:x:1000:\nwheel:x:10:brick\n' > "$work/l1/etc/group"
echo "this file is removed by layer 2" > "$work/l1/etc/remove-me"
echo "built by brick's make-busybox-image.sh" > "$work/l2/etc/motd"
: > "$work/l2/etc/.wh.remove-me"

mkdir -p "$out/blobs/sha256"
pack() { # dir -> prints "diffid digest size"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=pax \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -C "$1" -cf "$work/layer.tar" .
    diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    gzip -n -9 -c "$work/layer.tar" > "$work/layer.tar.gz"
    digest=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
    size=$(wc -c < "$work/layer.tar.gz")
    mv "$work/layer.tar.gz" "$out/blobs/sha256/$digest"
    echo "$diff_id $digest $size"
}
l1=$(pack "$work/l1")
l2=$(pack "$work/l2")

python3 - "$out" "$tag" "$l1" "$l2" <<'PY'
import hashlib, json, os, platform, sys
out, tag, l1, l2 = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
        "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}.get(platform.machine(), platform.machine())

def blob(obj):
    data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}

config = {
    "created": "1970-01-01T00:00:00Z",
    "architecture": arch, "os": "linux",
    "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "WorkingDir": "/"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + l1[0], "sha256:" + l2[0]]},
    "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "make-busybox-image.sh: busybox"},
                {"created": "1970-01-01T00:00:00Z", "created_by": "make-busybox-image.sh: motd, whiteout"}],
}
c = blob(config)
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **c},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": "sha256:" + l[1], "size": int(l[2])} for l in (l1, l2)],
}
m = blob(manifest)
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **m,
                        "platform": {"architecture": arch, "os": "linux"},
                        "annotations": {"org.opencontainers.image.ref.name": tag}}]}
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
print(m["digest"])
PY
