"""brick scan / brick db end to end: real package databases (this host's dpkg status,
an rpmdb written by Debian's rpm), OSV sources in every accepted shape, targets
(directory, --container, --host), exit codes, ignore files, fleet questions."""
import json
import os
import shutil
import subprocess
import zipfile

import pytest

BRICK = os.environ.get("BRICK", "/work/main/build/brick")


def brick(*args, check=True, env_extra=None, stdin=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    p = subprocess.run([BRICK, *args], capture_output=True, text=True, env=env, input=stdin)
    if check and p.returncode != 0:
        raise AssertionError(f"brick {' '.join(args)}: rc={p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def osv(id_, eco, name, events, modified="2024-01-01T00:00:00Z", **extra):
    rec = {"id": id_, "modified": modified,
           "affected": [{"package": {"ecosystem": eco, "name": name},
                         "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}
    rec.update(extra)
    return rec


def host_version(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                         text=True)
    return out.stdout if out.returncode == 0 else None


@pytest.fixture
def debian_rootfs(tmp_path):
    """A Debian 12 rootfs inventory-wise: this host's real dpkg status and os-release
    (no mirror for debootstrap here)."""
    root = tmp_path / "rootfs"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy("/var/lib/dpkg/status", root / "var/lib/dpkg/status")
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n')
    return root


@pytest.fixture
def vulndb(tmp_path):
    ssl = host_version("libssl3")
    if not ssl:
        pytest.skip("libssl3 is not installed on this host")
    records = [
        # source openssl, fixed in a version above the installed one
        osv("DSA-TEST-1", "Debian:12", "openssl",
            [{"introduced": "0"}, {"fixed": ssl + "+zz1"}], aliases=["CVE-2099-1111"],
            severity=[{"type": "CVSS_V3",
                       "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]),
        # already fixed (the installed version is the fix)
        osv("DSA-TEST-2", "Debian:12", "openssl", [{"introduced": "0"}, {"fixed": ssl}]),
        # the binary name used as if it were a source name: must not match
        osv("CVE-2099-2222", "Debian:12", "libssl3", [{"introduced": "0"}]),
        # unfixed, low
        osv("CVE-2099-3333", "Debian:12", "bash", [{"introduced": "0"}],
            affected_extra=None),
    ]
    records[3]["affected"][0]["ecosystem_specific"] = {"urgency": "low"}
    del records[3]["affected_extra"]
    src = tmp_path / "osv"
    src.mkdir()
    for r in records[:2]:
        (src / f"{r['id']}.json").write_text(json.dumps(r))
    z = tmp_path / "more.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("CVE-2099-2222.json", json.dumps(records[2]))
    jl = tmp_path / "more.jsonl"
    jl.write_text(json.dumps(records[3]) + "\n")
    db = tmp_path / "vulndb.sqlite"
    out = brick("db", "import", "--db", str(db), str(src), str(z), str(jl)).stdout
    assert "imported 4 of 4" in out
    return db


def scan_json(db, *target):
    return json.loads(brick("scan", "--db", str(db), "--format", "json", *target).stdout)


def test_debian_source_matching(debian_rootfs, vulndb):
    res = scan_json(vulndb, str(debian_rootfs))["results"][0]
    found = {(f["package"], f["id"]) for f in res["findings"]}
    assert ("libssl3", "DSA-TEST-1") in found          # binary reached through its source
    assert not any(i == "DSA-TEST-2" for _, i in found)  # fixed
    assert not any(i == "CVE-2099-2222" for _, i in found)  # binary-name trap
    f = next(f for f in res["findings"] if f["id"] == "DSA-TEST-1")
    assert f["severity"] == "CRITICAL" and f["fixed"].endswith("+zz1")
    assert res["os"]["ecosystem"] == "Debian:12"


def test_exit_codes_and_ignore(debian_rootfs, vulndb, tmp_path):
    base = ["scan", "--db", str(vulndb), str(debian_rootfs)]
    assert brick(*base, "--fail-on", "critical", "--exit-code", "5", check=False).returncode == 5
    ign = tmp_path / "ignore.txt"
    ign.write_text("CVE-2099-1111 until=2999-12-31 # accepted\n")
    p = brick(*base, "--ignore-file", str(ign), "--fail-on", "critical", "--exit-code", "5",
              check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    ign.write_text("CVE-2099-1111 until=2000-01-01 # expired\n")
    assert brick(*base, "--ignore-file", str(ign), "--fail-on", "critical", check=False).returncode == 1
    # --ignore-unfixed leaves the unfixed bash finding out
    res = json.loads(brick(*base, "--ignore-unfixed", "--format", "json").stdout)
    assert all(f["fixed"] for f in res["results"][0]["findings"])
    bad = tmp_path / "bad.txt"
    bad.write_text("CVE-1 until=soon\n")
    p = brick(*base, "--ignore-file", str(bad), check=False)
    assert p.returncode == 1 and "bad.txt:1" in p.stderr


def test_formats(debian_rootfs, vulndb):
    for fmt, key in (("sarif", "runs"), ("cyclonedx", "components")):
        doc = json.loads(brick("scan", "--db", str(vulndb), "--format", fmt,
                               str(debian_rootfs)).stdout)
        assert key in doc
    table = brick("scan", "--db", str(vulndb), str(debian_rootfs)).stdout
    assert "DSA-TEST-1" in table and "\033[" not in table  # not a tty: no colour
    assert brick("scan", "--format", "xml", str(debian_rootfs), check=False).returncode == 2


def test_rpmdb_written_by_rpm(tmp_path, vulndb):
    if not shutil.which("rpm") or not shutil.which("rpmbuild"):
        pytest.skip("rpm/rpmbuild not installed (tests/packages/scan.txt lists rpm)")
    spec = tmp_path / "t.spec"
    spec.write_text("Name: brick-test-libs\nVersion: 1.2.3\nRelease: 4.el9\nEpoch: 2\n"
                    "Summary: t\nLicense: MIT\nBuildArch: noarch\n%description\nt\n%files\n")
    top = tmp_path / "top"
    subprocess.run(["rpmbuild", "-bb", "--define", f"_topdir {top}", str(spec)], check=True,
                   capture_output=True)
    rpmfile = next((top / "RPMS/noarch").glob("*.rpm"))
    root = tmp_path / "rroot"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID="almalinux"\nVERSION_ID="9.3"\n')
    dbpath = "/usr/lib/sysimage/rpm"
    subprocess.run(["rpm", "--root", str(root), "--dbpath", dbpath, "--initdb"], check=True)
    subprocess.run(["rpm", "--root", str(root), "--dbpath", dbpath, "-i", "--justdb", "--nodeps",
                    "--noscripts", str(rpmfile)], check=True, capture_output=True)
    rec = osv("ALSA-TEST-1", "AlmaLinux:9", "brick-test-libs",
              [{"introduced": "0"}, {"fixed": "2:1.2.3-5.el9"}],
              database_specific={"severity": "Important"})
    src = tmp_path / "alsa.json"
    src.write_text(json.dumps([rec]))
    brick("db", "import", "--db", str(vulndb), str(src))
    res = scan_json(vulndb, str(root))["results"][0]
    assert res["packages"][0]["version"] == "2:1.2.3-4.el9"
    f = res["findings"][0]
    assert (f["id"], f["fixed"], f["severity"]) == ("ALSA-TEST-1", "2:1.2.3-5.el9", "HIGH")


def test_container_and_fleet(debian_rootfs, vulndb, tmp_path):
    state = tmp_path / "state"
    (state / "c1").mkdir(parents=True)
    (state / "c1/state.json").write_text(json.dumps({"id": "c1", "rootfs": str(debian_rootfs)}))
    store = tmp_path / "store"
    store.mkdir()
    env = {"BRICK_STORE": str(store)}
    p = brick("--root", str(state), "scan", "--db", str(vulndb), "--container", "c1",
              "--format", "json", env_extra=env)
    assert json.loads(p.stdout)["results"][0]["target"] == "container c1"
    p = brick("--root", str(state), "scan", "--package", "openssl", "--format", "json",
              env_extra=env)
    doc = json.loads(p.stdout)
    assert doc["targets"] == 1 and doc["copies"] >= 1
    p = brick("--root", str(state), "scan", "--db", str(vulndb), "--vuln", "CVE-2099-1111",
              "--format", "json", env_extra=env)
    assert "libssl3" in {x["package"] for x in json.loads(p.stdout)["found"]}
    p = brick("--root", str(state), "scan", "--container", "nope", check=False, env_extra=env)
    assert p.returncode == 1 and "nope" in p.stderr


def test_db_update_and_errors(tmp_path):
    db = tmp_path / "v.sqlite"
    old = osv("CVE-2099-9", "Debian:12", "zlib", [{"introduced": "0"}], "2024-01-01T00:00:00Z")
    new = osv("CVE-2099-9", "Debian:12", "zlib", [{"introduced": "0"}, {"fixed": "1.0"}],
              "2024-06-01T00:00:00Z")
    f = tmp_path / "a.json"
    f.write_text(json.dumps(new))
    brick("db", "import", "--db", str(db), str(f))
    f.write_text(json.dumps(old))
    assert "0 of 1" in brick("db", "import", "--db", str(db), str(f)).stdout
    f.write_text("{not json")
    p = brick("db", "import", "--db", str(db), str(f), check=False)
    assert p.returncode == 1 and "a.json" in p.stderr
    assert brick("db", "import", "--db", str(db), check=False).returncode == 2


def test_vercmp_hidden_filter():
    p = brick("scan", "vercmp", "dpkg", stdin="1.0~rc1 1.0\n1:0.1 2.0\n")
    assert p.stdout.split() == ["-1", "1"]
    assert "vercmp" not in brick("scan", "--help").stdout


def make_debian_image(layout, status_text):
    """An OCI layout of one layer holding os-release and a dpkg status."""
    import gzip
    import hashlib
    import io
    import tarfile

    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(data):
        h = hashlib.sha256(data).hexdigest()
        (blobs / h).write_bytes(data)
        return {"digest": "sha256:" + h, "size": len(data)}

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("etc", "var", "var/lib", "var/lib/dpkg"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            tf.addfile(ti)
        for path, data in (("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
                           ("var/lib/dpkg/status", status_text.encode())):
            ti = tarfile.TarInfo(path)
            ti.size, ti.mode = len(data), 0o644
            tf.addfile(ti, io.BytesIO(data))
    layer = raw.getvalue()
    lb = blob(gzip.compress(layer, mtime=0))
    cb = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                          "rootfs": {"type": "layers", "diff_ids": [
                              "sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode())
    mb = blob(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cb},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **lb}]}).encode())
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", **mb,
         "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')


def test_images_in_the_store(debian_rootfs, vulndb, tmp_path):
    """Images: the inventory is read from the layers once and cached; later scans, --all
    (images and containers, one report) and --package answer the same from the cache, and
    each scan leaves the summary the trust gate reads."""
    store = tmp_path / "store"
    env = {"BRICK_STORE": str(store)}
    policy = tmp_path / "policy.json"
    policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    status = (debian_rootfs / "var/lib/dpkg/status").read_text()
    for name, text in (("one", status),
                       ("two", "\n\n".join(p for p in status.split("\n\n")
                                           if "openssl" not in p))):
        make_debian_image(tmp_path / name, text)
        brick("image", "import", "--quiet", "--policy", str(policy), "--name",
              f"scantest/{name}:latest", f"oci:{tmp_path / name}", env_extra=env)
    p = brick("scan", "--db", str(vulndb), "--format", "json", "scantest/one:latest",
              env_extra=env)
    first = json.loads(p.stdout)["results"][0]
    assert first["image_id"] and "DSA-TEST-1" in {f["id"] for f in first["findings"]}
    assert (store / "scan" / "inventory.sqlite").exists()
    hexid = first["image_id"].split(":")[-1]
    summary = json.loads((store / "scan" / f"{hexid}.summary.json").read_text())
    assert summary["summary"]["fixable"] >= 1
    again = json.loads(brick("scan", "--db", str(vulndb), "--format", "json",
                             "scantest/one:latest", env_extra=env).stdout)["results"][0]
    for doc in (first, again):
        doc.pop("scanned_at")
    assert again == first

    state = tmp_path / "state"
    (state / "c1").mkdir(parents=True)
    (state / "c1/state.json").write_text(json.dumps({"id": "c1", "rootfs": str(debian_rootfs)}))
    doc = json.loads(brick("--root", str(state), "scan", "--db", str(vulndb), "--all",
                           "--format", "json", env_extra=env).stdout)
    by_target = {r["target"]: r for r in doc["results"]}
    assert set(by_target) == {"scantest/one:latest", "scantest/two:latest", "container c1"}
    ids = lambda r: {(f["package"], f["id"]) for f in r["findings"]}
    assert ids(by_target["scantest/one:latest"]) == ids(by_target["container c1"])
    assert not any(f["id"] == "DSA-TEST-1" for f in by_target["scantest/two:latest"]["findings"])
    table = brick("--root", str(state), "scan", "--db", str(vulndb), "--all", "--no-color",
                  env_extra=env).stdout
    assert table.count("DSA-TEST-1") == 2 * len([
        f for f in by_target["container c1"]["findings"] if f["id"] == "DSA-TEST-1"])
    pkg = json.loads(brick("--root", str(state), "scan", "--package", "openssl", "--format",
                           "json", env_extra=env).stdout)
    assert pkg["targets"] == 2
