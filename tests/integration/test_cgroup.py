"""cgroup behaviour seen through the brick binary: a container's limits land in the
kernel's files under /sys/fs/cgroup/<hierarchy>/brick/<id>, pause/resume freeze it,
delete removes every directory, and --systemd-cgroup on a host without systemd is refused
with a clear message. Runs as root; every test removes its container and cgroups."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

BRICK = os.environ.get("BRICK", "/work/main/build/brick")
CG = "/sys/fs/cgroup"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def brick(*args, check=True, timeout=60):
    # Output goes through files, not pipes: a created container inherits brick's stdio
    # (as with runc), so a pipe would stay open for the container's whole life.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        rc = subprocess.run([BRICK, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            timeout=timeout).returncode
        out.seek(0)
        err.seek(0)
        p = subprocess.CompletedProcess(args, rc, out.read(), err.read())
    if check and p.returncode != 0:
        raise AssertionError(f"brick {' '.join(args)} -> {p.returncode}: {p.stderr}")
    return p


def cgroup_dirs(cgpath):
    """Every directory named cgpath under any hierarchy (v1 controllers, unified, v2)."""
    rel = cgpath.lstrip("/")
    found = glob.glob(f"{CG}/*/{rel}") + glob.glob(f"{CG}/{rel}")
    return [d for d in found if os.path.isdir(d)]


def read(path):
    with open(path) as f:
        return f.read().strip()


@pytest.fixture
def bundle(tmp_path):
    busybox = shutil.which("busybox")
    if not busybox:
        pytest.skip("busybox not installed (Debian package busybox-static / busybox)")
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    for d in ("proc", "dev", "sys", "tmp"):
        (root / d).mkdir()
    shutil.copy(busybox, root / "bin" / "busybox")
    for tool in ("sh", "sleep", "cat"):
        os.symlink("busybox", root / "bin" / tool)
    return tmp_path


def write_config(bundle, resources, args=("sleep", "60"), cgroups_path=None):
    config = {
        "ociVersion": "1.3.0",
        "process": {"args": list(args), "cwd": "/", "env": ["PATH=/bin"],
                    "user": {"uid": 0, "gid": 0}},
        "root": {"path": "rootfs"},
        "hostname": "cgtest",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts")],
            "resources": resources,
        },
    }
    if cgroups_path is not None:
        config["linux"]["cgroupsPath"] = cgroups_path
    (bundle / "config.json").write_text(json.dumps(config))


@pytest.fixture
def container(bundle, tmp_path):
    if not os.path.exists(BRICK):
        pytest.skip(f"brick binary not built at {BRICK}")
    cid = "cgtest-" + uuid.uuid4().hex[:10]
    state = tmp_path / "state"
    made = []

    def create(resources, cgroups_path=None):
        write_config(bundle, resources, cgroups_path=cgroups_path)
        made.append(cid)
        return brick("--root", str(state), "create", "--bundle", str(bundle), cid, check=False)

    try:
        yield cid, state, create
    finally:
        if made:
            brick("--root", str(state), "delete", "--force", cid, check=False)
        for d in sorted(cgroup_dirs(f"/brick/{cid}"), key=len, reverse=True):
            for sub in sorted(glob.glob(d + "/**/"), key=len, reverse=True):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
            try:
                os.rmdir(d)
            except OSError:
                pass


def test_limits_land_in_kernel_files_and_delete_cleans_up(container):
    cid, state, create = container
    p = create({"memory": {"limit": 64 << 20}, "pids": {"limit": 20},
                "cpu": {"shares": 512, "quota": 50000, "period": 100000}})
    assert p.returncode == 0, p.stderr
    cg = f"/brick/{cid}"
    assert cgroup_dirs(cg), "no cgroup directory was created"
    if os.path.isdir(f"{CG}/memory"):
        assert read(f"{CG}/memory{cg}/memory.limit_in_bytes") == str(64 << 20)
        assert read(f"{CG}/pids{cg}/pids.max") == "20"
        assert read(f"{CG}/cpu{cg}/cpu.shares") == "512"
        assert read(f"{CG}/cpu{cg}/cpu.cfs_quota_us") == "50000"
        procs = read(f"{CG}/pids{cg}/cgroup.procs").split()
    else:
        assert read(f"{CG}{cg}/memory.max") == str(64 << 20)
        assert read(f"{CG}{cg}/pids.max") == "20"
        assert read(f"{CG}{cg}/cpu.max") == "50000 100000"
        procs = read(f"{CG}{cg}/cgroup.procs").split()
    st = json.loads(brick("--root", str(state), "state", cid).stdout)
    assert str(st["pid"]) in procs

    brick("--root", str(state), "delete", "--force", cid)
    deadline = time.time() + 5
    while cgroup_dirs(cg) and time.time() < deadline:
        time.sleep(0.05)
    assert cgroup_dirs(cg) == []


def test_pause_freezes_the_container(container):
    cid, state, create = container
    assert create({}).returncode == 0
    brick("--root", str(state), "start", cid)
    brick("--root", str(state), "pause", cid)
    assert json.loads(brick("--root", str(state), "state", cid).stdout)["status"] == "paused"
    cg = f"/brick/{cid}"
    if os.path.isdir(f"{CG}/freezer"):
        assert read(f"{CG}/freezer{cg}/freezer.state") == "FROZEN"
    else:
        events = read(f"{CG}{cg}/cgroup.events")
        assert "frozen 1" in events
    brick("--root", str(state), "resume", cid)
    assert json.loads(brick("--root", str(state), "state", cid).stdout)["status"] == "running"


def test_unusable_resource_is_refused_and_nothing_is_left(container):
    cid, state, create = container
    have_rdma = os.path.isdir(f"{CG}/rdma") or (
        os.path.exists(f"{CG}/unified/cgroup.controllers")
        and "rdma" in read(f"{CG}/unified/cgroup.controllers"))
    if have_rdma:
        pytest.skip("this host has the rdma controller")
    p = create({"rdma": {"mlx5_0": {"hcaHandles": 2}}})
    assert p.returncode == 1
    assert "linux.resources.rdma" in p.stderr
    assert cgroup_dirs(f"/brick/{cid}") == []


def test_systemd_cgroup_refused_without_systemd(container, bundle):
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd runs on this host")
    cid, state, _ = container
    write_config(bundle, {}, cgroups_path="system.slice:brick:" + cid)
    p = brick("--root", str(state), "--systemd-cgroup", "create", "--bundle", str(bundle), cid,
              check=False)
    assert p.returncode == 1
    assert "--systemd-cgroup: systemd is not running" in p.stderr
    assert cgroup_dirs(f"/system.slice/brick-{cid}.scope") == []


def test_systemd_container_is_deleted_when_systemd_is_gone(container):
    """A container made under systemd whose systemd is no longer running (the state says
    systemd, the host has no /run/systemd/system): delete --force has no unit to stop and
    removes the cgroupfs directories, instead of keeping the container forever."""
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd runs on this host")
    cid, state, create = container
    path = f"/brick/{cid}"
    assert create({}, cgroups_path=path).returncode == 0
    assert cgroup_dirs(path)
    state_file = state / cid / "state.json"
    st = json.loads(state_file.read_text())
    st["systemd_cgroup"] = True
    state_file.write_text(json.dumps(st))
    brick("--root", str(state), "delete", "--force", cid)
    assert cgroup_dirs(path) == []
    assert not (state / cid).exists()


def test_features_report_cgroup_layout():
    if not os.path.exists(BRICK):
        pytest.skip(f"brick binary not built at {BRICK}")
    p = brick("features")
    cg = json.loads(p.stdout)["linux"]["cgroup"]
    has_v2 = any(line.split(" - ")[1].startswith("cgroup2 ")
                 for line in open("/proc/self/mountinfo") if " - " in line)
    has_v1 = any(line.split(" - ")[1].startswith("cgroup ")
                 for line in open("/proc/self/mountinfo") if " - " in line)
    assert cg["v2"] == has_v2
    assert cg["v1"] == has_v1
    assert cg["systemd"] is False or os.path.isdir("/run/systemd/system")
