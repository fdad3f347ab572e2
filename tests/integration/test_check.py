"""`brick check host|config|image` end to end: the real host, fake host trees, configs
from `crun spec` / `runc spec`, a podman-like config, a container id, image root
filesystems; text and JSON output; exit codes."""
import ctypes
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

BRICK = os.environ.get("BRICK", "/work/main/build/brick")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "check"


def brick(*args, check=None):
    p = subprocess.run([BRICK, *args], capture_output=True, text=True, timeout=60)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def report(*args):
    p = brick(*args, "--format", "json", check=0)
    return json.loads(p.stdout)


def ids(doc):
    return {f["id"] for f in doc["findings"]}


def finding(doc, fid):
    for f in doc["findings"]:
        if f["id"] == fid:
            return f
    raise AssertionError(f"{fid} not in {sorted(ids(doc))}")


def spec_from(tool, tmp_path):
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed (tests/packages/check.txt lists it)")
    d = tmp_path / tool
    d.mkdir()
    subprocess.run([tool, "spec"], cwd=d, check=True, capture_output=True)
    return d / "config.json"


def write_json(path, doc):
    path.write_text(json.dumps(doc))
    return path


# ---------------------------------------------------------------- host

def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # x86_64
    return max(abi, 0)


def cgroup_mode():
    text = Path("/proc/self/mountinfo").read_text()
    v1 = " - cgroup " in text
    v2 = " - cgroup2 " in text
    return "hybrid" if v1 and v2 else "v1" if v1 else "v2" if v2 else "none"


def test_real_host():
    doc = report("check", "host")
    assert doc["kind"] == "host"
    facts = doc["facts"]
    assert facts["landlock_abi"] == landlock_abi()
    assert facts["cgroup"]["mode"] == cgroup_mode()
    runs_systemd = Path("/run/systemd/system").is_dir()
    assert facts["cgroup"]["systemd"] is runs_systemd
    assert ("cgroup.systemd-driver" in ids(doc)) is runs_systemd
    if not Path("/sys/fs/selinux/enforce").exists():
        f = finding(doc, "selinux.disabled")
        assert f["level"] == "high"
        assert "Stop disabling SELinux" in f["why"]
        assert facts["selinux"]["enabled"] is False
    if facts["landlock_abi"] >= 1:
        assert f"Landlock ABI {facts['landlock_abi']}" in finding(doc, "landlock.abi")["title"]
    if facts["cgroup"]["mode"] == "hybrid":
        assert finding(doc, "cgroup.hybrid")["level"] == "warn"
    assert "layers" in facts and facts["layers"]["namespaces"] is True


def test_this_machine_facts():
    """The machine this project is developed on: SELinux off, Landlock ABI 7, hybrid."""
    if Path("/sys/fs/selinux").exists() or landlock_abi() != 7 or cgroup_mode() != "hybrid":
        pytest.skip("not the reference machine (SELinux off, Landlock 7, hybrid cgroups)")
    doc = report("check", "host")
    assert finding(doc, "selinux.disabled")["level"] == "high"
    assert doc["facts"]["landlock_abi"] == 7
    assert doc["facts"]["cgroup"]["mode"] == "hybrid"


def test_host_text_output_and_fail_on():
    p = brick("check", "host")
    assert p.returncode == 0
    assert "brick check host" in p.stdout and "summary:" in p.stdout
    assert "\033[" not in p.stdout  # not a tty: no colours
    worst = report("check", "host")["worst"]
    order = ["ok", "info", "warn", "high", "critical"]
    for level in order:
        rc = brick("check", "host", "--fail-on", level).returncode
        assert rc == (1 if order.index(worst) >= order.index(level) else 0), level


def make_fake_host(root: Path, selinux_enforce="1", mountinfo=None):
    files = {
        "proc/sys/kernel/osrelease": "6.12.0\n",
        "proc/self/status": "Name:\tx\nSeccomp:\t0\n",
        "proc/sys/kernel/seccomp/actions_avail": "kill_process kill_thread trap errno user_notif log allow\n",
        "proc/sys/user/max_user_namespaces": "1000\n",
        "proc/self/mountinfo": mountinfo or
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
            "2 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        "sys/fs/cgroup/cgroup.controllers": "cpu io memory pids\n",
        "etc/subuid": "containers:2147483648:2147483648\n",
        "etc/subgid": "containers:2147483648:2147483648\n",
        "etc/selinux/targeted/contexts/lxc_contexts": 'process = "system_u:system_r:container_t:s0"\n',
        "sys/kernel/security/lockdown": "none [integrity] confidentiality\n",
    }
    if selinux_enforce is not None:
        files["sys/fs/selinux/enforce"] = selinux_enforce
    for ns in ["mnt", "pid", "net", "ipc", "uts", "cgroup", "user"]:
        files[f"proc/self/ns/{ns}"] = ""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return root


def test_fake_host_selinux_toggles(tmp_path):
    root = make_fake_host(tmp_path / "host")
    doc = report("check", "host", "--root-dir", str(root))
    assert "selinux.enforcing" in ids(doc)
    assert "selinux.disabled" not in ids(doc)
    assert "cgroup.v2" in ids(doc)
    assert doc["subject"] == str(root)
    (root / "sys/fs/selinux/enforce").write_text("0")
    doc = report("check", "host", "--root-dir", str(root))
    assert finding(doc, "selinux.permissive")["level"] == "high"
    shutil.rmtree(root / "sys/fs/selinux")
    doc = report("check", "host", "--root-dir", str(root))
    assert finding(doc, "selinux.disabled")["level"] == "high"


def test_fake_host_hybrid_and_pool(tmp_path):
    root = make_fake_host(tmp_path / "host", mountinfo=
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
        "3 1 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "4 1 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        "5 1 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")
    doc = report("check", "host", "--root-dir", str(root), "--containers", "40000")
    assert doc["facts"]["cgroup"]["mode"] == "hybrid"
    assert "cgroup.hybrid" in ids(doc)
    assert "idpool.small.subuid" in ids(doc)
    doc = report("check", "host", "--root-dir", str(root), "--containers", "10")
    assert "idpool.small.subuid" not in ids(doc)
    assert "idpool.ok.subuid" in ids(doc)


def test_host_runtime_binary_checked(tmp_path):
    d = tmp_path / "bin"
    d.mkdir()
    d.chmod(0o755)
    exe = d / "brick"
    shutil.copy(BRICK, exe)
    exe.chmod(0o755)
    doc = report("check", "host", "--runtime", str(exe))
    assert "runtime.protected" in ids(doc)
    exe.chmod(0o777)
    doc = report("check", "host", "--runtime", str(exe))
    assert finding(doc, "runtime.writable")["level"] == "critical"


def test_host_rejects_bad_root(tmp_path):
    p = brick("check", "host", "--root-dir", str(tmp_path / "missing"))
    assert p.returncode == 1
    assert p.stderr.startswith("brick: ") and "missing" in p.stderr


# ---------------------------------------------------------------- config

@pytest.mark.parametrize("tool", ["crun", "runc"])
def test_generated_spec(tool, tmp_path):
    cfg = spec_from(tool, tmp_path)
    doc = report("check", "config", str(cfg))
    found = ids(doc)
    # What `spec` leaves open.
    for fid in ["seccomp.off", "userns.none", "limits.memory", "limits.pids", "mac.none"]:
        assert fid in found, fid
    # What it gets right.
    for fid in ["mounts.sys-writable", "paths.readonly-missing", "paths.masked-missing",
                "devices.allow-all", "process.new-privileges", "caps.sys_admin"]:
        assert fid not in found, fid
    assert finding(doc, "caps.audit_write")["level"] == "info"
    assert doc["worst"] == "high"


@pytest.mark.parametrize("tool", ["crun", "runc"])
def test_generated_spec_with_sys_admin(tool, tmp_path):
    cfg = spec_from(tool, tmp_path)
    doc = json.loads(cfg.read_text())
    doc["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    write_json(cfg, doc)
    rep = report("check", "config", str(cfg))
    f = finding(rep, "caps.sys_admin")
    assert f["level"] == "critical"
    assert f["where"] == "process.capabilities.bounding[3]"
    assert brick("check", "config", "--fail-on", "critical", str(cfg)).returncode == 1
    doc["process"]["capabilities"]["bounding"].remove("CAP_SYS_ADMIN")
    write_json(cfg, doc)
    assert "caps.sys_admin" not in ids(report("check", "config", str(cfg)))
    assert brick("check", "config", "--fail-on", "critical", str(cfg)).returncode == 0


def test_generated_spec_hardened_clears_findings(tmp_path):
    cfg = spec_from("runc", tmp_path)
    doc = json.loads(cfg.read_text())
    doc["linux"]["namespaces"].append({"type": "user"})
    doc["linux"]["namespaces"].append({"type": "cgroup"})
    doc["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    doc["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    doc["linux"]["resources"]["memory"] = {"limit": 1 << 30}
    doc["linux"]["resources"]["pids"] = {"limit": 512}
    doc["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO",
                               "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}
    doc.setdefault("annotations", {})["run.oci.brick.landlock"] = "true"
    write_json(cfg, doc)
    rep = report("check", "config", str(cfg))
    for fid in ["seccomp.off", "userns.none", "limits.memory", "limits.pids", "mac.none"]:
        assert fid not in ids(rep), fid
    assert rep["worst"] in ("ok", "info")
    assert brick("check", "config", "--fail-on", "warn", str(cfg)).returncode == 0


def test_podman_like_config():
    rep = report("check", "config", str(FIXTURES / "podman-config.json"))
    found = ids(rep)
    assert "caps.default" in found and "seccomp.on" in found
    assert "userns.none" in found
    assert finding(rep, "seccomp.allow.keyctl")["where"].startswith("linux.seccomp.syscalls[1].names[")
    assert not any(f["level"] == "critical" for f in rep["findings"])
    assert "mounts.engine-storage" not in found


def test_dangerous_config_paths(tmp_path):
    cfg = spec_from("crun", tmp_path)
    doc = json.loads(cfg.read_text())
    doc["mounts"].append({"destination": "/var/run/docker.sock", "type": "bind",
                          "source": "/var/run/docker.sock", "options": ["rbind"]})
    doc["mounts"][5]["options"].remove("ro")  # the /sys mount
    doc["linux"]["resources"]["devices"] = [{"allow": True, "access": "rwm"}]
    doc["linux"]["namespaces"] = [n for n in doc["linux"]["namespaces"] if n["type"] != "pid"]
    write_json(cfg, doc)
    rep = report("check", "config", str(cfg))
    assert finding(rep, "mounts.engine-socket")["where"] == f"mounts[{len(doc['mounts']) - 1}]"
    assert finding(rep, "mounts.sys-writable")["where"] == "mounts[5]"
    assert finding(rep, "devices.allow-all")["where"] == "linux.resources.devices[0]"
    assert finding(rep, "namespace.pid.host")["level"] == "high"
    p = brick("check", "config", str(cfg))
    assert "CRITICAL" in p.stdout and "docker.sock" in p.stdout


def test_config_by_bundle_dir_and_id(tmp_path):
    cfg = spec_from("runc", tmp_path)
    bundle = cfg.parent
    by_dir = report("check", "config", str(bundle))
    state = tmp_path / "state"
    (state / "c1").mkdir(parents=True)
    (state / "c1" / "state.json").write_text(json.dumps(
        {"ociVersion": "1.3.0", "id": "c1", "status": "created", "pid": 1, "bundle": str(bundle)}))
    by_id = report("--root", str(state), "check", "config", "c1")
    assert ids(by_id) == ids(by_dir)
    p = brick("--root", str(state), "check", "config", "nosuch")
    assert p.returncode == 1 and "nosuch" in p.stderr


def test_config_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"process": ')
    p = brick("check", "config", str(bad))
    assert p.returncode == 1 and str(bad) in p.stderr and p.stderr.startswith("brick: ")
    p = brick("check", "config", str(tmp_path / "none" / "config.json"))
    assert p.returncode == 1


# ---------------------------------------------------------------- image

def test_image_rootfs(tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "usr/bin").mkdir(parents=True)
    su = rootfs / "usr/bin/su"
    su.write_text("")
    su.chmod(0o4755)
    (rootfs / "tmp").mkdir()
    (rootfs / "tmp").chmod(0o1777)
    cfg = write_json(tmp_path / "config.json", {"config": {"User": "", "Cmd": ["sh"]}})
    rep = report("check", "image", "--config", str(cfg), str(rootfs))
    assert finding(rep, "image.setuid")["where"] == "/usr/bin/su"
    assert finding(rep, "image.user-root")["level"] == "warn"
    assert "image.world-writable" not in ids(rep)
    su.chmod(0o755)
    write_json(cfg, {"config": {"User": "1000:1000"}})
    rep = report("check", "image", "--config", str(cfg), str(rootfs))
    assert "image.setuid" not in ids(rep) and "image.user-root" not in ids(rep)


def test_image_scan_summary(tmp_path):
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    summ = write_json(tmp_path / "summary.json", {"critical": 1, "high": 3, "medium": 0, "low": 0})
    rep = report("check", "image", "--scan-summary", str(summ), str(rootfs))
    assert finding(rep, "scan.critical")["level"] == "critical"
    assert "3 high" in finding(rep, "scan.high")["title"]
    assert brick("check", "image", "--scan-summary", str(summ), "--fail-on", "high",
                 str(rootfs)).returncode == 1


def test_image_device_node(tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "dev").mkdir(parents=True)
    try:
        os.mknod(rootfs / "dev/mem", 0o600 | stat.S_IFCHR, os.makedev(1, 1))
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")
    rep = report("check", "image", str(rootfs))
    assert finding(rep, "image.device")["where"] == "/dev/mem"


# ---------------------------------------------------------------- CLI surface

@pytest.mark.parametrize("sub", ["host", "config", "image"])
def test_help(sub):
    p = brick("check", sub, "--help")
    assert p.returncode == 0 and "usage: brick check" in p.stdout


@pytest.mark.parametrize("args", [
    ["check"], ["check", "bogus"], ["check", "host", "--fail-on", "severe"],
    ["check", "host", "--format", "yaml"], ["check", "config"],
    ["check", "host", "extra"], ["check", "config", "--root-dir", "/", "x.json"],
    ["check", "host", "--containers", "0"],
])
def test_usage_errors(args):
    p = brick(*args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)


# ---------------------------------------------------------------- image from the store

def make_oci_layout(root: Path, user: str):
    """A one-layer OCI image layout with a setuid /usr/bin/su, built with tarfile."""
    import gzip
    import hashlib
    import io
    import tarfile

    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes):
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return "sha256:" + digest, len(data)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ["usr", "usr/bin", "etc"]:
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(ti)
        ti = tarfile.TarInfo("usr/bin/su")
        ti.mode, ti.size = 0o4755, 4
        tar.addfile(ti, io.BytesIO(b"#!x\n"))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    layer, layer_size = put(gzip.compress(raw.getvalue()))
    config, config_size = put(json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"User": user, "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode())
    manifest, manifest_size = put(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer, "size": layer_size}]}).encode())
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": manifest, "size": manifest_size,
                       "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))


def test_image_by_name_from_store(tmp_path):
    layout = tmp_path / "layout"
    make_oci_layout(layout, user="")
    store = tmp_path / "store"
    imp = brick("--store", str(store), "image", "import", "--name", "localhost/checkme:latest",
                f"oci:{layout}:latest")
    if imp.returncode != 0:
        pytest.skip(f"this build cannot import images: {imp.stderr.strip()}")
    rep = report("--store", str(store), "check", "image", "localhost/checkme:latest")
    assert rep["subject"] == "localhost/checkme:latest"
    assert finding(rep, "image.setuid")["where"] == "/usr/bin/su"
    assert "image.user-root" in ids(rep)  # config comes from the store
    p = brick("--store", str(store), "check", "image", "localhost/nosuch:latest")
    assert p.returncode == 1 and "nosuch" in p.stderr
