"""Trust where images enter and where containers start: `brick image import` enforces
containers-policy.json with the source's transport and signatures, keeps the signatures
that verified with the image, `brick run/create IMAGE` re-checks the current policy
against the stored manifest and those signatures, and the scan gate refuses images with
unfixed findings. docs/trust.md's walkthrough is run verbatim.

Each test has its own store, policy, trust config and vulnerability index (env), and its
containers a private --root (the conftest `brick` fixture)."""
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MAKE_BUSYBOX = REPO / "scripts" / "make-busybox-image.sh"
BRICK = os.environ.get("BRICK", str(REPO / "build" / "brick"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="image trust tests run as root")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    if not os.path.exists("/bin/busybox"):
        pytest.skip("busybox-static not installed")
    out = tmp_path_factory.mktemp("bbtrust") / "layout"
    subprocess.run([str(MAKE_BUSYBOX), str(out), "1"], check=True, capture_output=True)
    return out


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def manifest_path(layout: Path) -> Path:
    index = json.loads((layout / "index.json").read_text())
    return layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]


def layout_with_files(src: Path, dst: Path, files: dict, tag="1") -> Path:
    """A copy of the OCI layout src with one more layer holding files {path: bytes}."""
    shutil.copytree(src, dst)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        dirs = sorted({str(Path(p).parent) for p in files} - {"."})
        for d in dirs:
            parts = Path(d).parts
            for i in range(1, len(parts) + 1):
                name = "/".join(parts[:i])
                if name in [m.name for m in tar.getmembers()]:
                    continue
                ti = tarfile.TarInfo(name)
                ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
                tar.addfile(ti)
        for p, data in sorted(files.items()):
            ti = tarfile.TarInfo(p)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            tar.addfile(ti, io.BytesIO(data))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    blobs = dst / "blobs/sha256"
    old = json.loads(manifest_path(src).read_bytes())
    config = json.loads((blobs / old["config"]["digest"][7:]).read_bytes())
    config["rootfs"]["diff_ids"].append("sha256:" + sha256(raw.getvalue()))
    cfg = json.dumps(config).encode()
    for b in (layer, cfg):
        (blobs / sha256(b)).write_bytes(b)
    old["config"] = dict(old["config"], digest="sha256:" + sha256(cfg), size=len(cfg))
    old["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                          "digest": "sha256:" + sha256(layer), "size": len(layer)})
    man = json.dumps(old).encode()
    (blobs / sha256(man)).write_bytes(man)
    (dst / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + sha256(man), "size": len(man),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return dst


def traversable_dir(prefix):
    """A 0711 directory whose ancestors the container's root (an unprivileged id on the
    host) can search: the runtime reaches the bundle's overlay directories by path, and
    pytest's tmp_path lives under a 0700 directory."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    d.chmod(0o711)
    return d


class Env:
    """brick with this test's store, policy, trust config and vulnerability index."""

    def __init__(self, brick, tmp: Path, store: Path):
        self.b, self.tmp = brick, tmp
        self.store = store
        self.policy = tmp / "policy.json"
        self.trust = tmp / "trust.json"  # absent: the scan gate is off
        self.env = dict(os.environ, BRICK_STORE=str(self.store), BRICK_POLICY=str(self.policy),
                        BRICK_TRUST_CONFIG=str(self.trust),
                        BRICK_VULNDB=str(tmp / "vulndb.sqlite"))
        self.env.pop("BRICK_KEY_PASSWORD", None)
        self.set_policy({"default": [{"type": "insecureAcceptAnything"}]})

    def set_policy(self, doc):
        self.policy.write_text(json.dumps(doc))

    def __call__(self, *args, check=True, timeout=60):
        return self.b(*args, check=check, env=self.env, timeout=timeout)

    def run(self, image, *cmd, check=False):
        return self(*["run", "--rm", "--name", self.b.new_id("it"), image, *cmd], check=check)


@pytest.fixture
def env(brick, tmp_path):
    top = traversable_dir("brick-trust-")
    try:
        yield Env(brick, tmp_path, top / "store")
    finally:
        brick.cleanup()
        shutil.rmtree(top, ignore_errors=True)


def strict_sigstore(scope_dir, pub, identity):
    return {"default": [{"type": "reject"}],
            "transports": {"oci": {str(scope_dir): [{
                "type": "sigstoreSigned", "keyPath": str(pub),
                "signedIdentity": {"type": "exactReference", "dockerReference": identity}}]}}}


def runs(r):
    return r.returncode == 0 and "make-busybox-image.sh" in r.stdout


def test_key_signed_import_and_run(env, layout, tmp_path):
    env("key", "generate", "--output-prefix", str(tmp_path / "k"))
    sig = tmp_path / "sig"
    env("sign", "--key", str(tmp_path / "k.key"), "--identity", "localhost/bb:1",
        "--output", str(sig), str(manifest_path(layout)))
    env.set_policy(strict_sigstore(layout.parent, tmp_path / "k.pub", "localhost/bb:1"))
    # unsigned: refused at the door, naming the entry and the reason; nothing stored
    r = env("image", "import", "--name", "localhost/bb:1", f"oci:{layout}:1", check=False)
    assert r.returncode == 1
    assert f'transports["oci"]["{layout.parent}"] requirement 1 (sigstoreSigned)' in r.stderr
    assert "a sigstore signature is required, but the image has none" in r.stderr
    assert json.loads(env("image", "ls", "--format", "json").stdout) == []
    # a signature by another key does not help
    env("key", "generate", "--output-prefix", str(tmp_path / "other"))
    bad = tmp_path / "badsig"
    env("sign", "--key", str(tmp_path / "other.key"), "--identity", "localhost/bb:1",
        "--output", str(bad), str(manifest_path(layout)))
    r = env("image", "import", "--signature", str(bad), f"oci:{layout}:1", check=False)
    assert r.returncode == 1 and "no signature was accepted" in r.stderr
    # signed: accepted, and only the signature that verified is kept with the image
    image_id = env("image", "import", "--name", "localhost/bb:1", "--signature", str(bad),
                   "--signature", str(sig), f"oci:{layout}:1").stdout.strip()
    kept = env.store / "signatures" / image_id
    assert sorted(os.listdir(kept)) == ["signature-1"]
    assert (kept / "signature-1").read_bytes() == sig.read_bytes()
    show = json.loads(env("policy", "show", "localhost/bb:1").stdout)
    assert show["transport"] == "oci" and show["reference"] == f"{layout}:1"
    assert show["image"]["signatures"] == 1
    assert runs(env.run("localhost/bb:1", "cat", "/etc/motd"))
    env("verify", "--key", str(tmp_path / "k.pub"), "localhost/bb:1")
    # the kept signature is what start-time enforcement uses: without it, refused
    (kept / "signature-1").rename(tmp_path / "moved")
    r = env.run("localhost/bb:1", "true")
    assert r.returncode == 1 and "not started" in r.stderr and "has none" in r.stderr
    (tmp_path / "moved").rename(kept / "signature-1")
    assert runs(env.run("localhost/bb:1", "cat", "/etc/motd"))


def test_policy_tightened_after_import(env, layout, tmp_path):
    # let in under an insecure policy, unsigned
    env("image", "import", "--name", "localhost/bb:1", f"oci:{layout}:1")
    assert runs(env.run("localhost/bb:1", "cat", "/etc/motd"))
    env("key", "generate", "--output-prefix", str(tmp_path / "k"))
    env.set_policy(strict_sigstore(layout.parent, tmp_path / "k.pub", "localhost/bb:1"))
    for verb in ("run", "create"):
        cid = env.b.new_id("tight")
        r = env(verb, "--name", cid, "localhost/bb:1", "true", check=False)
        assert r.returncode == 1, r.stdout
        assert "image localhost/bb:1: not started" in r.stderr
        assert f'rejected by {env.policy}, transports["oci"]["{layout.parent}"]' in r.stderr
        assert not (env.store / "containers" / cid).exists()
    r = env("policy", "check", "localhost/bb:1", check=False)
    assert r.returncode == 1 and "sigstoreSigned" in r.stderr
    # sign the stored image: the signature is kept with it, and it runs again
    env("sign", "--key", str(tmp_path / "k.key"), "localhost/bb:1")
    assert runs(env.run("localhost/bb:1", "cat", "/etc/motd"))
    # signed for another identity: refused again
    env.set_policy(strict_sigstore(layout.parent, tmp_path / "k.pub", "localhost/other:1"))
    r = env.run("localhost/bb:1", "true")
    assert r.returncode == 1 and 'signed identity "localhost/bb:1" is not accepted' in r.stderr


def test_tampered_stored_manifest_refused(env, layout, tmp_path):
    env("image", "import", "--name", "bb", f"oci:{layout}:1")
    info = json.loads(env("image", "inspect", "bb").stdout)
    m = Path(info["manifest_path"])
    original = m.read_bytes()
    # same JSON meaning, other bytes: the digest no longer matches the image id
    m.write_bytes(original + b"\n")
    r = env.run("bb", "true")
    assert r.returncode == 1 and "no longer matches its digest" in r.stderr, r.stderr
    # a manifest that names other layers than the record: refused too
    doc = json.loads(original)
    doc["layers"] = doc["layers"][:1]
    m.write_bytes(json.dumps(doc).encode())
    assert env.run("bb", "true").returncode == 1
    m.write_bytes(original)
    assert runs(env.run("bb", "cat", "/etc/motd"))


def gpg_key(base: Path, name: str):
    home = base / f"gnupg-{name}"
    home.mkdir(mode=0o700)
    e = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
                    f"{name} <{name}@example.com>", "default", "default", "never"], env=e,
                   check=True, capture_output=True)
    out = subprocess.run(["gpg", "--batch", "--list-keys", "--with-colons"], env=e, check=True,
                         capture_output=True, text=True).stdout
    fpr = next(l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:"))
    pub = base / f"{name}.asc"
    pub.write_bytes(subprocess.run(["gpg", "--batch", "--armor", "--export", fpr], env=e,
                                   check=True, capture_output=True).stdout)
    return home, fpr, pub


def gpg_policy(scope, pub, identity):
    return {"default": [{"type": "reject"}], "transports": {"dir": {str(scope): [{
        "type": "signedBy", "keyType": "GPGKeys", "keyPath": str(pub),
        "signedIdentity": {"type": "exactReference", "dockerReference": identity}}]}}}


@pytest.mark.skipif(shutil.which("gpg") is None or shutil.which("skopeo") is None,
                    reason="gnupg and skopeo needed")
def test_gpg_signed_dir_image_from_skopeo(env, layout, tmp_path):
    home, fpr, pub = gpg_key(tmp_path, "alice")
    mhome, mfpr, mpub = gpg_key(tmp_path, "mallory")
    try:
        d = tmp_path / "dirimg"
        # skopeo writes the dir: image and signs it (simple signing) with GnuPG
        subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", "--sign-by", fpr,
                        "--sign-identity", "localhost/bb:gpg", f"oci:{layout}:1", f"dir:{d}"],
                       check=True, capture_output=True, env=dict(os.environ, GNUPGHOME=str(home)))
        assert (d / "signature-1").exists()
        env.set_policy(gpg_policy(tmp_path, mpub, "localhost/bb:gpg"))
        r = env("image", "import", f"dir:{d}", check=False)  # signed, but not by mallory
        assert r.returncode == 1 and "(signedBy): no signature was accepted" in r.stderr
        env.set_policy(gpg_policy(tmp_path, pub, "localhost/bb:gpg"))
        image_id = env("image", "import", "--name", "localhost/bb:gpg", str(d)).stdout.strip()
        assert os.listdir(env.store / "signatures" / image_id) == ["signature-1"]
        assert json.loads(env("image", "inspect", image_id).stdout)["source"] == {
            "transport": "dir", "reference": str(d)}
        assert runs(env.run("localhost/bb:gpg", "cat", "/etc/motd"))
        # a policy that trusts only mallory stops the stored image at start ...
        env.set_policy(gpg_policy(tmp_path, mpub, "localhost/bb:gpg"))
        assert env.run("localhost/bb:gpg", "true").returncode == 1
        # ... until mallory signs the stored image with brick
        env("sign", "--sign-by", mfpr, "--gpg-home", str(mhome), "localhost/bb:gpg")
        assert runs(env.run("localhost/bb:gpg", "cat", "/etc/motd"))
        # and skopeo accepts brick's export of that signature under the same policy
        exported = tmp_path / "exported"
        env("sign", "--sign-by", mfpr, "--gpg-home", str(mhome), "--sign-dir", str(exported),
            "localhost/bb:gpg")
        shutil.copy(exported / "signature-1", d / "signature-1")
        p = subprocess.run(["skopeo", "--policy", str(env.policy), "copy", "-q", f"dir:{d}",
                            f"dir:{tmp_path / 'copy'}"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    finally:
        for h in (home, mhome):
            subprocess.run(["gpgconf", "--homedir", str(h), "--kill", "all"],
                           capture_output=True)


def test_lookaside_signatures_for_image_names(env, layout, tmp_path):
    env("key", "generate", "--output-prefix", str(tmp_path / "k"))
    regd = tmp_path / "registries.d"
    regd.mkdir()
    look = tmp_path / "lookaside"
    (regd / "default.yaml").write_text(
        f"default-docker:\n  lookaside: file://{look}\n  lookaside-staging: file://{look}\n")
    env("sign", "--key", str(tmp_path / "k.key"), "--identity", "registry.example.com/bb:1",
        "--registries-d", str(regd), str(manifest_path(layout)))
    env.set_policy({"default": [{"type": "sigstoreSigned", "keyPath": str(tmp_path / "k.pub"),
                                 "signedIdentity": {"type": "exactReference",
                                                    "dockerReference": "registry.example.com/bb:1"}}]})
    r = env("image", "import", "--name", "registry.example.com/bb:1", f"oci:{layout}:1",
            check=False)
    assert r.returncode == 1  # no registries.d given: the standard one has no lookaside
    image_id = env("image", "import", "--registries-d", str(regd), "--name",
                   "registry.example.com/bb:1", f"oci:{layout}:1").stdout.strip()
    assert os.listdir(env.store / "signatures" / image_id) == ["signature-1"]
    assert runs(env.run("registry.example.com/bb:1", "cat", "/etc/motd"))


HIGH_CVSS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5


def test_scan_gate(env, layout, tmp_path):
    status = (b"Package: brickdemo\nStatus: install ok installed\nPriority: optional\n"
              b"Architecture: amd64\nVersion: 1.0-1\nDescription: demo\n\n")
    img = layout_with_files(layout, tmp_path / "vulnerable", {
        "var/lib/dpkg/status": status,
        "etc/os-release": b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n'})
    env("image", "import", "--name", "vuln", f"oci:{img}:1")
    osv = tmp_path / "osv"
    osv.mkdir()
    (osv / "BRICK-TEST-1.json").write_text(json.dumps({
        "id": "BRICK-TEST-1", "modified": "2024-01-01T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": HIGH_CVSS}],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "brickdemo"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}))
    env("db", "import", str(osv))
    # no trust.json: the gate is off and the image runs
    assert runs(env.run("vuln", "cat", "/etc/motd"))
    env.trust.write_text(json.dumps({"scanGate": {"maxSeverity": "HIGH"}}))
    r = env.run("vuln", "true")  # never scanned, and the gate requires a scan
    assert r.returncode == 1 and "never been scanned" in r.stderr
    scan = json.loads(env("scan", "--format", "json", "vuln").stdout)
    assert "BRICK-TEST-1" in json.dumps(scan)
    r = env.run("vuln", "true")
    assert r.returncode == 1
    assert "1 unfixed finding at or above HIGH (1 HIGH)" in r.stderr, r.stderr
    r = env("create", "--name", env.b.new_id("gate"), "vuln", "true", check=False)
    assert r.returncode == 1 and "scan gate" in r.stderr
    # a threshold above the finding lets it start
    env.trust.write_text(json.dumps({"scanGate": {"maxSeverity": "CRITICAL"}}))
    assert runs(env.run("vuln", "cat", "/etc/motd"))
    env.trust.write_text(json.dumps({"scanGate": {"maxSeverity": "HIGHEST"}}))
    r = env.run("vuln", "true")
    assert r.returncode == 1 and "maxSeverity" in r.stderr


def doc_blocks():
    text = (REPO / "docs" / "trust.md").read_text()
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def test_docs_walkthrough(tmp_path, layout, brick):
    """Run docs/trust.md's commands as written, `brick` being the binary under test with
    a private state root and store."""
    blocks = doc_blocks()
    assert len(blocks) >= 5
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "brick").write_text(f'#!/bin/sh\nexec {BRICK} "$@"\n')
    (bindir / "brick").chmod(0o755)
    work = traversable_dir("brick-walk-")
    try:
        (work / "scripts").symlink_to(REPO / "scripts")
        env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", HOME=str(tmp_path),
                   BRICK_ROOT=brick.root)
        for k in ("BRICK_POLICY", "BRICK_KEY_PASSWORD", "BRICK_STORE", "BRICK_TRUST_CONFIG",
                  "BRICK_VULNDB"):
            env.pop(k, None)
        script = "set -eu\n" + "\n".join(blocks)
        p = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True,
                           text=True, timeout=300)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert p.returncode == 0, f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    # what the walkthrough promises the reader sees
    assert "built by brick's make-busybox-image.sh" in p.stdout
    assert "REFUSED as expected" in p.stdout
    assert "not started" in p.stderr and "sigstoreSigned" in p.stderr
