"""brick sign / verify / key / policy end to end, checked against the tools brick must
interoperate with: GnuPG, skopeo 1.9 (standalone-sign/-verify, `copy` under a policy)
and OpenSSL (key signatures). Every GnuPG operation uses a temporary GNUPGHOME."""
import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

BRICK = os.environ.get("BRICK", "/work/main/build/brick")

needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="gnupg not installed")
needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def run(*args, env=None, check=None, input=None):
    p = subprocess.run([str(a) for a in args], capture_output=True, env=env, timeout=120,
                       input=input)
    if check is not None:
        assert p.returncode == check, (args, p.returncode, p.stdout, p.stderr)
    return p


def brick(*args, check=None, env=None):
    return run(BRICK, *args, check=check, env=env)


class GpgKey:
    def __init__(self, home, fpr, pub):
        self.home, self.fpr, self.pub = home, fpr, pub


def make_key(base: Path, name: str, expire="never") -> GpgKey:
    home = base / f"gnupg-{name}"
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    run("gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"{name} <{name}@example.com>",
        "default", "default", expire, env=env, check=0)
    out = run("gpg", "--batch", "--list-keys", "--with-colons", env=env, check=0).stdout.decode()
    fpr = next(l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:"))
    pub = base / f"{name}.asc"
    pub.write_bytes(run("gpg", "--batch", "--armor", "--export", fpr, env=env, check=0).stdout)
    return GpgKey(home, fpr, pub)


def kill_agents(base: Path):
    for home in base.glob("gnupg-*"):
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)


@pytest.fixture
def keys(tmp_path):
    if shutil.which("gpg") is None:
        pytest.skip("gnupg not installed")
    try:
        yield make_key(tmp_path, "alice"), make_key(tmp_path, "mallory")
    finally:
        kill_agents(tmp_path)


def gpg_env(key: GpgKey):
    return dict(os.environ, GNUPGHOME=str(key.home))


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def oci_layout(root: Path, tag="1.0") -> Path:
    """A one-layer OCI image layout made by hand (tar + sha256), as skopeo reads it."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = b"hello from brick\n"
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha256(raw.getvalue())]},
                         "config": {"Cmd": ["/bin/true"]}}).encode()
    for b in (layer, config):
        (blobs / sha256(b)).write_bytes(b)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + sha256(layer), "size": len(layer)}]}).encode()
    (blobs / sha256(manifest)).write_bytes(manifest)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (root / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + sha256(manifest), "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return root


@pytest.fixture
def manifest(tmp_path):
    m = tmp_path / "manifest.json"
    m.write_bytes(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + "a" * 64, "size": 2}, "layers": []}).encode())
    return m


def write_policy(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


def signed_by(key: GpgKey, identity=None):
    req = {"type": "signedBy", "keyType": "GPGKeys", "keyPath": str(key.pub)}
    if identity is not None:
        req["signedIdentity"] = identity
    return req


# ---- simple signing interop -------------------------------------------------------------

@needs_skopeo
def test_skopeo_signature_verifies_with_brick(keys, manifest, tmp_path):
    alice, _ = keys
    sig = tmp_path / "sig"
    run("skopeo", "standalone-sign", manifest, "example.com/app:1", alice.fpr, "-o", sig,
        env=gpg_env(alice), check=0)
    p = brick("verify", "--key", alice.pub, "--identity", "example.com/app:1",
              "--signature", sig, manifest, check=0)
    assert alice.fpr.encode() in p.stdout


@needs_skopeo
def test_brick_signature_verifies_with_skopeo(keys, manifest, tmp_path):
    alice, _ = keys
    sig = tmp_path / "sig"
    brick("sign", "--sign-by", alice.fpr, "--gpg-home", alice.home, "--identity",
          "example.com/app:1", "--output", sig, manifest, check=0)
    p = run("skopeo", "standalone-verify", manifest, "example.com/app:1", alice.fpr, sig,
            env=gpg_env(alice), check=0)
    assert b"Signature verified" in p.stdout
    # the message is a normal signed message (not detached, not clearsigned)
    assert not sig.read_bytes().startswith(b"-----BEGIN")
    listed = run("gpg", "--batch", "--list-packets", sig, env=gpg_env(alice)).stdout
    assert b":literal data packet:" in listed and b":signature packet:" in listed
    # and skopeo refuses it for another identity
    assert run("skopeo", "standalone-verify", manifest, "example.com/app:2", alice.fpr, sig,
               env=gpg_env(alice)).returncode != 0


def test_rejections(keys, manifest, tmp_path):
    alice, mallory = keys
    sig = tmp_path / "sig"
    brick("sign", "--sign-by", alice.fpr, "--gpg-home", alice.home, "--identity",
          "example.com/app:1", "--output", sig, manifest, check=0)
    ok = ["verify", "--key", alice.pub, "--identity", "example.com/app:1", "--signature", sig]
    brick(*ok, manifest, check=0)
    # tampered manifest
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(manifest.read_bytes().replace(b'"layers": []', b'"layers": [ ]'))
    p = brick(*ok, tampered, check=1)
    assert b"not this manifest" in p.stdout
    # tampered signed message: flip a byte in the middle
    data = bytearray(sig.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "bad-sig"
    bad.write_bytes(bytes(data))
    brick("verify", "--key", alice.pub, "--identity", "example.com/app:1", "--signature", bad,
          manifest, check=1)
    # wrong key
    p = brick("verify", "--key", mallory.pub, "--identity", "example.com/app:1",
              "--signature", sig, manifest, check=1)
    assert b"rejected" in p.stdout
    # wrong identity
    p = brick("verify", "--key", alice.pub, "--identity", "example.com/app:2", "--signature",
              sig, manifest, check=1)
    assert b"not \"example.com/app:2\"" in p.stdout


def test_unknown_critical_member_rejected(keys, manifest, tmp_path):
    """A payload gpg signs correctly but with an extra critical member must reject."""
    alice, _ = keys
    digest = "sha256:" + sha256(manifest.read_bytes())
    payload = json.dumps({"critical": {"identity": {"docker-reference": "example.com/app:1"},
                                       "image": {"docker-manifest-digest": digest},
                                       "type": "atomic container signature",
                                       "expires": 0}, "optional": {}}).encode()
    sig = tmp_path / "sig"
    run("gpg", "--batch", "--sign", "--local-user", alice.fpr, "--output", sig,
        env=gpg_env(alice), input=payload, check=0)
    p = brick("verify", "--key", alice.pub, "--identity", "example.com/app:1", "--signature",
              sig, manifest, check=1)
    assert b"unknown member \\\"expires\\\"" in p.stdout or b'unknown member "expires"' in p.stdout
    # the same payload without the extra member is accepted: the check above is not vacuous
    good = json.loads(payload)
    del good["critical"]["expires"]
    run("gpg", "--batch", "--yes", "--sign", "--local-user", alice.fpr, "--output", sig,
        env=gpg_env(alice), input=json.dumps(good).encode(), check=0)
    brick("verify", "--key", alice.pub, "--identity", "example.com/app:1", "--signature", sig,
          manifest, check=0)


def test_expired_key(tmp_path, manifest):
    """A key valid for one day in 2020: its signature from that day no longer verifies."""
    if shutil.which("gpg") is None:
        pytest.skip("gnupg not installed")
    home = tmp_path / "gnupg-expired"
    home.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    try:
        run("gpg", "--batch", "--faked-system-time", "20200101T000000!", "--passphrase", "",
            "--quick-gen-key", "Old <old@example.com>", "default", "default", "1d",
            env=env, check=0)
        out = run("gpg", "--batch", "--with-colons", "--list-keys", env=env).stdout.decode()
        fpr = next(l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:"))
        pub = tmp_path / "old.asc"
        pub.write_bytes(run("gpg", "--batch", "--armor", "--export", fpr, env=env, check=0).stdout)
        digest = "sha256:" + sha256(manifest.read_bytes())
        payload = json.dumps({"critical": {"identity": {"docker-reference": "example.com/app:1"},
                                           "image": {"docker-manifest-digest": digest},
                                           "type": "atomic container signature"},
                              "optional": {}}).encode()
        sig = tmp_path / "sig"
        run("gpg", "--batch", "--faked-system-time", "20200101T120000!", "--sign",
            "--local-user", fpr, "--output", sig, env=env, input=payload, check=0)
        p = brick("verify", "--key", pub, "--identity", "example.com/app:1", "--signature", sig,
                  manifest, check=1)
        assert b"expired" in p.stdout, p.stdout
        # the same payload from a key that is still valid verifies (the check is not vacuous)
        fresh = make_key(tmp_path, "fresh")
        run("gpg", "--batch", "--sign", "--local-user", fresh.fpr, "--output", tmp_path / "s2",
            env=gpg_env(fresh), input=payload, check=0)
        brick("verify", "--key", fresh.pub, "--identity", "example.com/app:1", "--signature",
              tmp_path / "s2", manifest, check=0)
    finally:
        kill_agents(tmp_path)


# ---- dir: images, skopeo copy under a policy -------------------------------------------

@pytest.fixture
def dir_image(tmp_path):
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo not installed")
    layout = oci_layout(tmp_path / "layout")
    src = tmp_path / "src"
    run("skopeo", "copy", f"oci:{layout}:1.0", f"dir:{src}", check=0)
    assert (src / "manifest.json").exists()
    return src


@needs_skopeo
def test_skopeo_copy_accepts_brick_signature(keys, dir_image, tmp_path):
    alice, _ = keys
    policy = write_policy(tmp_path / "policy.json", {
        "default": [{"type": "reject"}],
        "transports": {"dir": {"": [signed_by(alice, {"type": "exactReference",
                                                       "dockerReference": "example.com/app:1"})]}}})
    # unsigned: skopeo and brick both refuse
    assert run("skopeo", "--policy", policy, "copy", f"dir:{dir_image}",
               f"dir:{tmp_path / 'dst0'}").returncode != 0
    p = brick("policy", "check", "--policy", policy, f"dir:{dir_image}", check=1)
    assert b"has none" in p.stderr
    # signed by brick (stored as signature-1 beside manifest.json)
    p = brick("sign", "--sign-by", alice.fpr, "--gpg-home", alice.home, "--identity",
              "example.com/app:1", dir_image, check=0)
    assert (dir_image / "signature-1").exists()
    run("skopeo", "--policy", policy, "copy", f"dir:{dir_image}", f"dir:{tmp_path / 'dst'}",
        check=0)
    brick("policy", "check", "--policy", policy, f"dir:{dir_image}", check=0)
    # a policy naming another identity rejects in both tools
    other = write_policy(tmp_path / "other.json", {
        "default": [{"type": "reject"}],
        "transports": {"dir": {"": [signed_by(alice, {"type": "exactReference",
                                                       "dockerReference": "example.com/app:2"})]}}})
    assert run("skopeo", "--policy", other, "copy", f"dir:{dir_image}",
               f"dir:{tmp_path / 'dst2'}").returncode != 0
    brick("policy", "check", "--policy", other, f"dir:{dir_image}", check=1)


# ---- policy evaluation -----------------------------------------------------------------

def signed_lookaside(keys, manifest, tmp_path, identity="example.com/ns/app:1"):
    alice, _ = keys
    sigstore = tmp_path / "sigstore"
    rd = tmp_path / "registries.d"
    rd.mkdir()
    (rd / "default.yaml").write_text(f"default-docker:\n  lookaside: file://{sigstore}\n")
    p = brick("sign", "--sign-by", alice.fpr, "--gpg-home", alice.home, "--identity", identity,
              "--registries-d", rd, manifest, check=0)
    written = Path(p.stdout.decode().strip())
    assert written.name == "signature-1"
    assert written.parent == sigstore / "ns" / ("app@sha256=" + sha256(manifest.read_bytes()))
    return rd


def test_policy_signed_identity_forms(keys, manifest, tmp_path):
    alice, mallory = keys
    signed_lookaside(keys, manifest, tmp_path)
    # the lookaside store is keyed by the image's repository; images pulled under other
    # names (exactReference, exactRepository) get the same signature passed explicitly
    sig = tmp_path / "sigstore" / "ns" / ("app@sha256=" + sha256(manifest.read_bytes())) / \
        "signature-1"

    def check(ref, identity=None, key=alice):
        policy = write_policy(tmp_path / "p.json",
                              {"default": [signed_by(key, identity)]})
        return brick("policy", "check", "--policy", policy, "--signature", sig, "--manifest",
                     manifest, ref)

    d = "sha256:" + sha256(manifest.read_bytes())
    cases = [  # (signedIdentity, image reference, accepted?)
        (None, "example.com/ns/app:1", True),
        (None, "example.com/ns/app:2", False),
        ({"type": "matchExact"}, "example.com/ns/app:1", True),
        ({"type": "matchExact"}, f"example.com/ns/app@{d}", False),
        ({"type": "matchRepoDigestOrExact"}, f"example.com/ns/app@{d}", True),
        ({"type": "matchRepository"}, "example.com/ns/app:9", True),
        ({"type": "matchRepository"}, "example.com/ns/other:1", False),
        ({"type": "exactReference", "dockerReference": "example.com/ns/app:1"},
         "mirror.local/anything:5", True),
        ({"type": "exactReference", "dockerReference": "example.com/ns/app:2"},
         "example.com/ns/app:1", False),
        ({"type": "exactRepository", "dockerRepository": "example.com/ns/app"},
         "mirror.local/x:3", True),
        ({"type": "exactRepository", "dockerRepository": "example.com/ns/other"},
         "example.com/ns/app:1", False),
    ]
    for identity, ref, accepted in cases:
        p = check(ref, identity)
        assert (p.returncode == 0) == accepted, (identity, ref, p.stdout, p.stderr)
        if not accepted:
            assert b"rejected by" in p.stderr and b"default requirement 1 (signedBy)" in p.stderr
    # wrong key under the default identity rule
    p = check("example.com/ns/app:1", key=mallory)
    assert p.returncode == 1 and b"rejected by" in p.stderr


def test_policy_remap_identity(keys, manifest, tmp_path):
    alice, _ = keys
    sigstore = tmp_path / "sigstore"
    rd = tmp_path / "registries.d"
    rd.mkdir()
    (rd / "d.yaml").write_text(f"default-docker:\n  lookaside: file://{sigstore}\n")
    # the image is pulled from a mirror, the signature names the upstream
    sigdir = tmp_path / "sigs"
    brick("sign", "--sign-by", alice.fpr, "--gpg-home", alice.home, "--identity",
          "example.com/ns/app:1", "--sign-dir", sigdir, manifest, check=0)
    remap = {"type": "remapIdentity", "prefix": "mirror.local/upstream",
             "signedPrefix": "example.com/ns"}
    policy = write_policy(tmp_path / "p.json", {"default": [signed_by(alice, remap)]})
    ok = brick("policy", "check", "--policy", policy, "--manifest", manifest, "--signature",
               sigdir / "signature-1", "mirror.local/upstream/app:1")
    assert ok.returncode == 0, ok.stderr
    p = brick("policy", "check", "--policy", policy, "--manifest", manifest, "--signature",
              sigdir / "signature-1", "mirror.local/upstream/app:2")
    assert p.returncode == 1
    p = brick("policy", "check", "--policy", policy, "--manifest", manifest, "--signature",
              sigdir / "signature-1", "mirror.local/elsewhere/app:1")
    assert p.returncode == 1


def test_policy_scopes(keys, manifest, tmp_path):
    alice, _ = keys
    rd = signed_lookaside(keys, manifest, tmp_path)
    policy = write_policy(tmp_path / "policy.json", {
        "default": [{"type": "reject"}],
        "transports": {"docker": {
            "example.com": [{"type": "reject"}],
            "example.com/ns": [signed_by(alice)],
            "example.com/ns/legacy": [{"type": "insecureAcceptAnything"}],
            "*.internal.example": [{"type": "insecureAcceptAnything"}],
            "blocked.internal.example": [{"type": "reject"}]}}})

    def check(ref):
        return brick("policy", "check", "--policy", policy, "--registries-d", rd, "--manifest",
                     manifest, ref)

    assert check("example.com/ns/app:1").returncode == 0          # signed, namespace scope
    p = check("example.com/other:1")                                 # host scope: reject
    assert p.returncode == 1 and b'transports["docker"]["example.com"]' in p.stderr
    assert check("example.com/ns/legacy:1").returncode == 0        # most specific wins
    assert check("a.b.internal.example/x:1").returncode == 0       # *.domain wildcard
    p = check("blocked.internal.example/x:1")                       # host beats wildcard
    assert p.returncode == 1 and b"blocked.internal.example" in p.stderr
    p = check("quay.io/x:1")                                          # global default
    assert p.returncode == 1 and b"default requirement 1 (reject)" in p.stderr
    # missing signature: a signed scope with nothing in the lookaside store
    p = check("example.com/ns/unsigned:1")
    assert p.returncode == 1 and b"has none" in p.stderr
    # `policy show` explains the choice
    p = brick("policy", "show", "--policy", policy, "docker://example.com/ns/legacy:1", check=0)
    doc = json.loads(p.stdout)
    assert doc["scope"] == "example.com/ns/legacy"
    assert doc["requirements"] == [{"type": "insecureAcceptAnything"}]
    assert doc["candidates"][0] == "example.com/ns/legacy:1"


def test_policy_file_errors(tmp_path):
    bad = write_policy(tmp_path / "bad.json", {"default": [{"type": "reject"}],
                                               "brick": {"scanGate": {}}})
    p = brick("policy", "show", "--policy", bad, "busybox", check=1)
    assert b"bad.json" in p.stderr and b"unknown member \"brick\"" in p.stderr
    p = brick("policy", "show", "--policy", tmp_path / "missing.json", "busybox", check=1)
    assert b"missing.json" in p.stderr
    env = dict(os.environ, BRICK_POLICY=str(write_policy(
        tmp_path / "env.json", {"default": [{"type": "insecureAcceptAnything"}]})))
    p = brick("policy", "show", "busybox", env=env, check=0)
    assert json.loads(p.stdout)["policy"] == env["BRICK_POLICY"]
    assert brick("policy", "show", "--help").returncode == 0
    assert brick("policy", "frobnicate", "x").returncode == 2


@needs_skopeo
def test_skopeo_rejects_unknown_policy_keys(tmp_path):
    """Why the scan gate is not in policy.json: skopeo refuses unknown top-level keys."""
    bad = write_policy(tmp_path / "p.json", {"default": [{"type": "insecureAcceptAnything"}],
                                             "brick": {}})
    (tmp_path / "s").mkdir()
    p = run("skopeo", "--policy", bad, "copy", f"dir:{tmp_path / 's'}", f"dir:{tmp_path / 'd'}")
    assert p.returncode != 0 and b"Unknown key" in p.stderr


# ---- sigstore-style key signatures -----------------------------------------------------

def decode_sigstore(path: Path):
    data = path.read_bytes()
    assert data.startswith(b"\x00sigstore-json\n")
    return json.loads(data[len(b"\x00sigstore-json\n"):])


@needs_openssl
def test_key_signature_checks_with_openssl(manifest, tmp_path):
    prefix = tmp_path / "cosign"
    brick("key", "generate", "--output-prefix", prefix, check=0)
    key, pub = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    assert key.stat().st_mode & 0o077 == 0
    assert b"BEGIN PRIVATE KEY" in key.read_bytes()
    assert b"BEGIN PUBLIC KEY" in pub.read_bytes()
    text = run("openssl", "pkey", "-pubin", "-in", pub, "-noout", "-text", check=0).stdout
    assert b"P-256" in text or b"prime256v1" in text
    sigdir = tmp_path / "sigs"
    brick("sign", "--key", key, "--identity", "example.com/app:1", "--sign-dir", sigdir,
          manifest, check=0)
    env = decode_sigstore(sigdir / "signature-1")
    assert env["mimeType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    payload = base64.b64decode(env["payload"])
    doc = json.loads(payload)
    assert doc["critical"]["type"] == "cosign container image signature"
    assert doc["critical"]["image"]["docker-manifest-digest"] == "sha256:" + sha256(manifest.read_bytes())
    (tmp_path / "payload").write_bytes(payload)
    (tmp_path / "sig.der").write_bytes(
        base64.b64decode(env["annotations"]["dev.cosignproject.cosign/signature"]))
    p = run("openssl", "dgst", "-sha256", "-verify", pub, "-signature", tmp_path / "sig.der",
            tmp_path / "payload", check=0)
    assert b"Verified OK" in p.stdout
    brick("verify", "--key", pub, "--identity", "example.com/app:1", "--sign-dir", sigdir,
          manifest, check=0)
    # a tampered payload fails both OpenSSL and brick
    (tmp_path / "payload").write_bytes(payload.replace(b"app:1", b"app:2"))
    assert run("openssl", "dgst", "-sha256", "-verify", pub, "-signature", tmp_path / "sig.der",
               tmp_path / "payload").returncode != 0
    env["payload"] = base64.b64encode(payload.replace(b"app:1", b"app:2")).decode()
    forged = tmp_path / "forged"
    forged.write_bytes(b"\x00sigstore-json\n" + json.dumps(env).encode())
    brick("verify", "--key", pub, "--identity", "example.com/app:2", "--signature", forged,
          manifest, check=1)


@needs_openssl
def test_cosign_shaped_payload_signed_by_openssl(manifest, tmp_path):
    """A payload exactly as cosign writes it (no tag, optional: null), signed by openssl."""
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
        tmp_path / "ec.pem", check=0)
    run("openssl", "pkey", "-in", tmp_path / "ec.pem", "-pubout", "-out", tmp_path / "pub.pem",
        check=0)
    digest = "sha256:" + sha256(manifest.read_bytes())
    payload = ('{"critical":{"identity":{"docker-reference":"example.com/app"},"image":'
               '{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},'
               '"optional":null}' % digest).encode()
    (tmp_path / "payload").write_bytes(payload)
    run("openssl", "dgst", "-sha256", "-sign", tmp_path / "ec.pem", "-out",
        tmp_path / "sig.der", tmp_path / "payload", check=0)
    sigdir = tmp_path / "sigs"
    sigdir.mkdir()
    env = {"mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
           "payload": base64.b64encode(payload).decode(),
           "annotations": {"dev.cosignproject.cosign/signature":
                           base64.b64encode((tmp_path / "sig.der").read_bytes()).decode()}}
    (sigdir / "signature-1").write_bytes(b"\x00sigstore-json\n" + json.dumps(env).encode())
    brick("verify", "--key", tmp_path / "pub.pem", "--identity", "example.com/app",
          "--sign-dir", sigdir, manifest, check=0)
    # under a policy: matchRepository accepts, the default (repo-digest-or-exact) does not
    # for a tagged image, because cosign signed only the repository
    pub_data = base64.b64encode((tmp_path / "pub.pem").read_bytes()).decode()
    for identity, ok in ((None, False), ({"type": "matchRepository"}, True)):
        req = {"type": "sigstoreSigned", "keyData": pub_data}
        if identity:
            req["signedIdentity"] = identity
        policy = write_policy(tmp_path / "p.json", {"default": [req]})
        p = brick("policy", "check", "--policy", policy, "--manifest", manifest, "--signature",
                  sigdir / "signature-1", "example.com/app:1")
        assert (p.returncode == 0) == ok, p.stderr
    # wrong key
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
        tmp_path / "other.pem", check=0)
    run("openssl", "pkey", "-in", tmp_path / "other.pem", "-pubout", "-out",
        tmp_path / "other.pub", check=0)
    brick("verify", "--key", tmp_path / "other.pub", "--identity", "example.com/app",
          "--sign-dir", sigdir, manifest, check=1)


def test_encrypted_private_key(manifest, tmp_path):
    prefix = tmp_path / "enc"
    env = dict(os.environ, BRICK_KEY_PASSWORD="correct horse")
    brick("key", "generate", "--output-prefix", prefix, env=env, check=0)
    assert b"ENCRYPTED PRIVATE KEY" in Path(f"{prefix}.key").read_bytes()
    no_pw = {k: v for k, v in os.environ.items() if k != "BRICK_KEY_PASSWORD"}
    p = brick("sign", "--key", f"{prefix}.key", "--identity", "a.com/x:1", "--output",
              tmp_path / "s", manifest, env=no_pw, check=1)
    assert b"BRICK_KEY_PASSWORD" in p.stderr
    brick("sign", "--key", f"{prefix}.key", "--identity", "a.com/x:1", "--output",
          tmp_path / "s", manifest, env=env, check=0)
    # refuses to overwrite an existing key pair
    brick("key", "generate", "--output-prefix", prefix, env=env, check=1)


def test_sigstore_policy_unsupported_online_modes(manifest, tmp_path):
    policy = write_policy(tmp_path / "p.json", {"default": [{
        "type": "sigstoreSigned", "fulcio": {"caPath": "/nonexistent", "oidcIssuer": "https://x",
                                             "subjectEmail": "a@example.com"},
        "rekorPublicKeyPath": "/nonexistent"}]})
    sig = tmp_path / "sig"
    sig.write_bytes(b"\x00sigstore-json\n{}")
    p = brick("policy", "check", "--policy", policy, "--manifest", manifest, "--signature", sig,
              "example.com/app:1", check=1)
    assert b"not supported" in p.stderr


def test_cli_usage():
    for verb in ("sign", "verify"):
        assert brick(verb, "--help").returncode == 0
        assert brick(verb).returncode == 2
    assert brick("key", "--help").returncode == 0
    assert brick("key", "rotate").returncode == 2
