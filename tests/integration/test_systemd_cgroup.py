"""--systemd-cgroup against a real systemd (252, Debian's) booted as pid 1 of private
namespaces (systemd_host.py), on this machine's hybrid layout, on pure v1 (systemd's
legacy mode) and on a pure cgroup2 tree.

brick must ask systemd for a transient scope over D-Bus (StartTransientUnit with Delegate,
the container's pid and its resources as unit properties), let systemd place the process,
do the rest through cgroupfs, and stop the unit on delete; update goes through
SetUnitProperties. Each test checks the unit and every directory are gone afterwards."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BRICK
from systemd_host import (SYSTEMD, MachineSystemd, SystemdHost, layout_unavailable,
                          machine_layout)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists(SYSTEMD), reason="systemd not installed"),
    pytest.mark.skipif(not shutil.which("nsenter") or not shutil.which("unshare"),
                       reason="util-linux nsenter/unshare missing"),
]

MiB = 1024 * 1024
# Memory and pids limits need their controllers, which this machine binds to v1: tests of
# them run where v1 hierarchies are mounted. The engine tests run on this machine's own
# layout.
WITH_V1_CONTROLLERS = pytest.mark.parametrize("host", ["hybrid", "v1"], indirect=True)
HYBRID_ONLY = pytest.mark.parametrize("host", ["hybrid"], indirect=True)


@pytest.fixture(scope="module", params=["hybrid", "v1", "v2"])
def host(request, tmp_path_factory):
    keep = str(tmp_path_factory.getbasetemp())
    state = str(tmp_path_factory.mktemp("sdstate"))
    if os.path.isdir("/run/systemd/system"):
        # A machine that runs systemd: test against it, on its own layout only.
        if request.param != machine_layout():
            pytest.skip(f"this machine runs systemd on the {machine_layout()} layout")
        yield MachineSystemd(BRICK, state, keep)
        return
    why = layout_unavailable(request.param)
    if why:
        pytest.skip(f"{request.param} layout: {why}")
    h = SystemdHost(request.param, BRICK, state, keep)
    h.boot()
    yield h
    h.shutdown()


@pytest.fixture
def sd(host):
    """The systemd host, with the containers a test makes deleted and checked gone."""
    made = []

    def new_id():
        cid = f"sd-{os.urandom(4).hex()}"
        made.append(cid)
        return cid

    host.new_id = new_id
    yield host
    for cid in made:
        host.brick("delete", "--force", cid, check=False)
    left = host.sh("systemctl list-units --all --no-legend --plain '*-sd-*'",
                   check=False).stdout.strip()
    assert not left, f"units left behind: {left}"
    dirs = host.sh("ls -d /sys/fs/cgroup/*/*.slice/*-sd-* /sys/fs/cgroup/*.slice/*-sd-* "
                   "/sys/fs/cgroup/*/*.slice/*/*-sd-* 2>/dev/null", check=False).stdout.strip()
    assert not dirs, f"cgroup directories left behind: {dirs}"


def bundle(sd, make_bundle, args, cgroups_path=None, resources=None):
    def ed(cfg):
        if cgroups_path is not None:
            cfg["linux"]["cgroupsPath"] = cgroups_path
        res = cfg["linux"].setdefault("resources", {})
        if sd.layout == "v2":
            res.pop("pids", None)    # brick's default limit; no pids controller on this v2 tree
        res.update(resources or {})
    return make_bundle(args=args, edit=ed)


def limits_for(host):
    # The v2 tree here has no memory/pids controller (they are bound to v1 on this machine).
    return {"memory": {"limit": 64 * MiB}, "pids": {"limit": 50}} if host.layout != "v2" else {}


def in_cgroup(host, pid, path):
    """pid is in path in systemd's own hierarchy (cgroup2, or name=systemd on v1)."""
    line = f"0::{path}" if host.layout == "v2" else f":name=systemd:{path}"
    return line in host.read(f"/proc/{pid}/cgroup")


def remove_tree(host, top):
    """An engine's private store: unmount what it left mounted inside, then delete it."""
    host.sh(f"grep -o ' {top}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r umount -l",
            check=False)
    shutil.rmtree(top, ignore_errors=True)


def kill_all_and_delete(host, cid):
    host.brick("kill", "--all", cid, "KILL")
    deadline = time.time() + 10
    while json.loads(host.brick("state", cid).stdout)["status"] != "stopped":
        assert time.time() < deadline
        time.sleep(0.05)
    host.brick("delete", cid)


def procs_in(host, path):
    return [int(x) for x in host.read(f"{path}/cgroup.procs").split()]


def test_scope_is_created_with_properties_and_stopped_on_delete(sd, make_bundle):
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid}", limits_for(sd))
    sd.brick("--systemd-cgroup", "create", "--bundle", b, cid)
    unit = f"brick-{cid}.scope"
    path = f"/system.slice/{unit}"
    props = sd.unit(unit, "ActiveState", "ControlGroup", "Delegate", "Slice", "MemoryMax",
                    "TasksMax", "DevicePolicy", "DeviceAllow")
    assert props["ActiveState"] == "active"
    assert props["ControlGroup"] == path
    assert props["Delegate"] == "yes"
    assert props["Slice"] == "system.slice"
    assert props["DevicePolicy"] == "strict"
    assert "/dev/char/1:3 rwm" in props["DeviceAllow"]
    st = json.loads(sd.brick("state", cid).stdout)
    pid = st["pid"]
    assert in_cgroup(sd, pid, path)
    if sd.layout != "v2":
        assert props["MemoryMax"] == str(64 * MiB)
        assert props["TasksMax"] == "50"
        assert sd.read(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").strip() == str(64 * MiB)
        assert sd.read(f"/sys/fs/cgroup/pids{path}/pids.max").strip() == "50"
        # A hierarchy systemd does not manage gets the same path from brick.
        assert pid in procs_in(sd, f"/sys/fs/cgroup/freezer{path}")
        assert "c 1:3 rwm" in sd.read(f"/sys/fs/cgroup/devices{path}/devices.list")
    else:
        assert pid in procs_in(sd, f"/sys/fs/cgroup{path}")
    sd.brick("start", cid)
    sd.brick("delete", "--force", cid)
    assert sd.unit(unit, "LoadState")["LoadState"] == "not-found"
    for d in ([f"/sys/fs/cgroup/{c}{path}" for c in ("memory", "pids", "freezer", "cpu", "unified")]
              if sd.layout != "v2" else [f"/sys/fs/cgroup{path}"]):
        assert not sd.exists(d), d


def test_systemd_property_annotations_become_unit_properties(sd, make_bundle):
    """org.systemd.property.* annotations, in the forms CRI-O sets and runc reads."""
    cid = sd.new_id()
    notes = {"org.systemd.property.CollectMode": "'inactive-or-failed'",
             "org.systemd.property.After": "['crio.service']",
             "org.systemd.property.TimeoutStopUSec": "uint64 5000000",
             "org.systemd.property.Description": "'pod sandbox'"}

    def edit(cfg):
        cfg["linux"]["cgroupsPath"] = f"system.slice:crio:{cid}"
        cfg.setdefault("annotations", {}).update(notes)
        if sd.layout == "v2":
            cfg["linux"].get("resources", {}).pop("pids", None)
    sd.brick("--systemd-cgroup", "create", "--bundle", make_bundle(["sleep", "100"], edit), cid)
    props = sd.unit(f"crio-{cid}.scope", "CollectMode", "After", "TimeoutStopUSec",
                    "Description", "Delegate")
    assert props["CollectMode"] == "inactive-or-failed"
    assert "crio.service" in props["After"]
    assert props["TimeoutStopUSec"] == "5s"
    assert props["Description"] == "pod sandbox"
    assert props["Delegate"] == "yes"
    sd.brick("delete", "--force", cid)


def test_reserved_or_malformed_property_annotation_is_refused(sd, make_bundle):
    for key, value, msg in (("org.systemd.property.PIDs", "[]", "brick sets PIDs"),
                            ("org.systemd.property.TimeoutStopUSec", "soon", "is not a value")):
        cid = sd.new_id()

        def edit(cfg):
            cfg["linux"]["cgroupsPath"] = f"system.slice:brick:{cid}"
            cfg.setdefault("annotations", {})[key] = value
        p = sd.brick("--systemd-cgroup", "create", "--bundle",
                     make_bundle(["sleep", "100"], edit), cid, check=False)
        assert p.returncode != 0
        assert f"annotations.{key}" in p.stderr and msg in p.stderr, p.stderr
        assert sd.brick("state", cid, check=False).returncode != 0
        assert sd.unit(f"brick-{cid}.scope", "LoadState")["LoadState"] == "not-found"


def test_default_cgroups_path_is_a_system_slice_scope(sd, make_bundle):
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["sh", "-c", "exit 3"], cgroups_path="")
    p = sd.brick("--systemd-cgroup", "run", "--bundle", b, cid, check=False)
    assert p.returncode == 3, p.stderr
    # run deletes the container when its process exits, as runc does
    assert sd.brick("state", cid, check=False).returncode != 0
    assert sd.unit(f"brick-{cid}.scope", "LoadState")["LoadState"] == "not-found"


def test_nested_slice_and_prefix(sd, make_bundle):
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["sleep", "100"], f"machine-brick.slice:libpod:{cid}")
    sd.brick("--systemd-cgroup", "create", "--bundle", b, cid)
    props = sd.unit(f"libpod-{cid}.scope", "ControlGroup", "Slice")
    assert props["Slice"] == "machine-brick.slice"
    assert props["ControlGroup"] == f"/machine.slice/machine-brick.slice/libpod-{cid}.scope"
    sd.brick("delete", "--force", cid)


def test_exec_ps_pause_and_kill_all_in_the_scope(sd, make_bundle):
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid}")
    sd.brick("--systemd-cgroup", "run", "-d", "--bundle", b, cid)
    sd.brick("exec", "-d", cid, "sleep", "99")
    pids = json.loads(sd.brick("ps", "--format", "json", cid).stdout)
    assert len(pids) == 2, pids
    for pid in pids:
        assert in_cgroup(sd, pid, f"/system.slice/brick-{cid}.scope")
    stats = json.loads(sd.brick("events", "--stats", cid).stdout)
    assert stats["type"] == "stats" and stats["id"] == cid
    if sd.layout != "v2":   # this machine's cgroup2 tree has no pids controller
        assert stats["data"]["pids"]["current"] == 2, stats
    sd.brick("pause", cid)
    assert json.loads(sd.brick("state", cid).stdout)["status"] == "paused"
    sd.brick("resume", cid)
    assert json.loads(sd.brick("state", cid).stdout)["status"] == "running"
    kill_all_and_delete(sd, cid)


@WITH_V1_CONTROLLERS
def test_update_goes_through_set_unit_properties(sd, make_bundle):
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid}", limits_for(sd))
    sd.brick("--systemd-cgroup", "run", "-d", "--bundle", b, cid)
    sd.brick("update", "--memory", "100m", "--pids-limit", "77", cid)
    unit = f"brick-{cid}.scope"
    props = sd.unit(unit, "MemoryMax", "TasksMax")
    assert props == {"MemoryMax": str(100 * MiB), "TasksMax": "77"}
    path = f"/system.slice/{unit}"
    assert sd.read(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").strip() == str(100 * MiB)
    assert sd.read(f"/sys/fs/cgroup/pids{path}/pids.max").strip() == "77"
    sd.brick("delete", "--force", cid)


@WITH_V1_CONTROLLERS
def test_daemon_reload_restores_the_containers_limits(sd, make_bundle):
    """systemd rewrites a unit's cgroup attributes from its properties on daemon-reload.
    brick hands its limits and device rules over as properties, so a reload puts them back
    rather than opening the container up; a scope made without them (the control) gets
    systemd's defaults instead."""
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid}", limits_for(sd))
    sd.brick("--systemd-cgroup", "run", "-d", "--bundle", b, cid)
    path = f"/sys/fs/cgroup/%s/system.slice/brick-{cid}.scope"
    control = f"control-{cid}.service"
    sd.run(["systemd-run", f"--unit={control}", "-p", "Delegate=yes",
            "-p", "DefaultDependencies=no", "sleep", "100"])
    cpath = f"/sys/fs/cgroup/%s/system.slice/{control}"
    # brick's scope: tampered with behind systemd's back.
    sd.sh(f"echo 1000000000 > {path % 'memory'}/memory.limit_in_bytes")
    sd.sh(f"echo a > {path % 'devices'}/devices.allow")
    # The control: limits written only to cgroupfs, as a runtime that passed no properties.
    sd.sh(f"echo {64 * MiB} > {cpath % 'memory'}/memory.limit_in_bytes")
    sd.sh(f"echo 'c 1:3 rwm' > {cpath % 'devices'}/devices.allow")
    sd.run(["systemctl", "daemon-reload"])
    time.sleep(0.5)
    assert sd.read(f"{path % 'memory'}/memory.limit_in_bytes").strip() == str(64 * MiB)
    assert "a *:* rwm" not in sd.read(f"{path % 'devices'}/devices.list")
    # The control lost its limit: systemd applied its own idea.
    assert sd.read(f"{cpath % 'memory'}/memory.limit_in_bytes").strip() != str(64 * MiB)
    sd.run(["systemctl", "stop", control])
    sd.brick("delete", "--force", cid)


def test_unit_name_in_use_is_refused_without_leftovers(sd, make_bundle):
    first, second = sd.new_id(), sd.new_id()
    shared = f"system.slice:brick:{first}"
    sd.brick("--systemd-cgroup", "run", "-d", "--bundle",
             bundle(sd, make_bundle, ["sleep", "100"], shared), first)
    p = sd.brick("--systemd-cgroup", "create", "--bundle",
                 bundle(sd, make_bundle, ["sleep", "100"], shared), second, check=False)
    assert p.returncode != 0
    assert f"StartTransientUnit brick-{first}.scope" in p.stderr, p.stderr
    assert sd.brick("state", second, check=False).returncode != 0
    assert json.loads(sd.brick("state", first).stdout)["status"] == "running"
    sd.brick("delete", "--force", first)


def test_failure_after_the_scope_stops_it(sd, make_bundle):
    """StartTransientUnit succeeds, then a cgroupfs write fails: the unit is stopped, no
    directory and no state are left."""
    cid = sd.new_id()
    # Something only the kernel refuses: a v2 file that does not exist, or (pure v1, where
    # "unified" is refused up front) a CPU this machine does not have.
    bad, field = (({"cpu": {"cpus": "63"}}, "linux.resources.cpu.cpus") if sd.layout == "v1"
                  else ({"unified": {"cgroup.no_such_file": "1"}}, "cgroup.no_such_file"))
    b = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid}", bad)
    p = sd.brick("--systemd-cgroup", "create", "--bundle", b, cid, check=False)
    assert p.returncode != 0
    assert field in p.stderr, p.stderr
    assert sd.brick("state", cid, check=False).returncode != 0
    assert sd.unit(f"brick-{cid}.scope", "LoadState")["LoadState"] == "not-found"


def test_bad_systemd_cgroups_path_names_the_field(sd, make_bundle):
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["true"], "/not/a/slice")
    p = sd.brick("--systemd-cgroup", "create", "--bundle", b, cid, check=False)
    assert p.returncode != 0
    assert "linux.cgroupsPath" in p.stderr and "slice:prefix:name" in p.stderr, p.stderr
    assert sd.brick("state", cid, check=False).returncode != 0


def test_features_report_systemd(sd):
    feats = json.loads(sd.brick("features").stdout)
    assert feats["linux"]["cgroup"]["systemd"] is True


@HYBRID_ONLY
@pytest.mark.skipif(not shutil.which("podman"), reason="podman not installed")
def test_podman_with_the_systemd_cgroup_manager(sd):
    """podman 4.3 with cgroup_manager = "systemd" and --runtime brick: podman passes
    --systemd-cgroup and "machine.slice:libpod:<id>", as it does to crun."""
    from conftest import make_rootfs
    if not sd.start_dbus():
        pytest.skip("no system bus reaching systemd on this machine")
    # podman refuses a runroot over 50 characters: a short directory in the shared /tmp.
    top = tempfile.mkdtemp(prefix="pm-", dir=sd.keep)
    for d in ("graph", "run", "tmp"):
        os.makedirs(os.path.join(top, d))
    nofile = [line.split()[-2] for line in open("/proc/self/limits")
              if line.startswith("Max open files")][0]
    with open(f"{top}/containers.conf", "w") as f:
        f.write(f'[containers]\ndefault_ulimits = ["nofile={nofile}:{nofile}", '
                f'"nproc=4096:4096"]\nnetns = "none"\nlog_driver = "k8s-file"\n'
                f'[engine]\nruntime_supports_json = ["crun", "runc", "brick"]\n'
                f'cgroup_manager = "systemd"\nevents_logger = "file"\n')
    with open(f"{top}/storage.conf", "w") as f:
        f.write(f'[storage]\ndriver = "overlay"\nrunroot = "{top}/run"\n'
                f'graphroot = "{top}/graph"\n')
    make_rootfs(f"{top}/rootfs")
    subprocess.run(["tar", "-C", f"{top}/rootfs", "-cf", f"{top}/rootfs.tar", "."], check=True)
    pm = (f"CONTAINERS_CONF={top}/containers.conf CONTAINERS_STORAGE_CONF={top}/storage.conf "
          f"podman --root {top}/graph --runroot {top}/run --tmpdir {top}/tmp "
          f"--runtime {BRICK}")
    try:
        sd.sh(f"{pm} import {top}/rootfs.tar localhost/bb")
        p = sd.sh(f"{pm} run --rm localhost/bb sh -c 'cat /proc/self/cgroup; exit 7'",
                  check=False)
        assert p.returncode == 7, p.stderr
        assert "0::/machine.slice/libpod-" in p.stdout, p.stdout
        assert "level=warning" not in p.stderr and "level=error" not in p.stderr, p.stderr
        cid = sd.sh(f"{pm} run -d --name c1 --memory 64m localhost/bb sleep 100").stdout.strip()
        unit = f"libpod-{cid}.scope"
        assert sd.unit(unit, "MemoryMax", "Description", "Slice") == {
            "MemoryMax": str(64 * MiB), "Description": "brick container", "Slice": "machine.slice"}
        assert sd.sh(f"{pm} exec c1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
                     ).stdout.strip() == str(64 * MiB)
        assert "sleep 100" in sd.sh(f"{pm} top c1").stdout
        sd.sh(f"{pm} pause c1")
        assert sd.sh(f"{pm} inspect c1 --format '{{{{.State.Status}}}}'").stdout.strip() == "paused"
        sd.sh(f"{pm} unpause c1")
        sd.sh(f"{pm} update --memory 100m c1")
        assert sd.unit(unit, "MemoryMax")["MemoryMax"] == str(100 * MiB)
        sd.sh(f"{pm} stop -t 1 c1")
        sd.sh(f"{pm} rm c1")
        assert sd.unit(unit, "LoadState")["LoadState"] == "not-found"
    finally:
        sd.sh(f"{pm} rm -af -t 0; {pm} rmi -af", check=False)
        remove_tree(sd, top)
    left = sd.sh("systemctl list-units --all --no-legend --plain 'libpod-*'").stdout.strip()
    assert not left, left


@HYBRID_ONLY
@pytest.mark.skipif(not shutil.which("containerd") or not shutil.which("ctr"),
                    reason="containerd not installed")
def test_containerd_with_systemd_cgroup(sd):
    """containerd 1.6's runc shim with SystemdCgroup (ctr --runc-systemd-cgroup) and brick
    as its runc binary: cgroupsPath "system.slice:ctr:<id>", --systemd-cgroup on every verb."""
    from test_containerd import oci_archive
    top = tempfile.mkdtemp(prefix="cd-", dir=sd.keep)
    sock = f"{top}/c.sock"
    with open(f"{top}/config.toml", "w") as f:
        f.write(f'version = 2\nroot = "{top}/root"\nstate = "{top}/state"\n'
                f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n'
                f'[debug]\n  address = "{top}/debug.sock"\n')
    log = open(f"{top}/containerd.log", "w")
    daemon = subprocess.Popen([*sd.prefix(), "containerd", "--config", f"{top}/config.toml"],
                              stdout=log, stderr=subprocess.STDOUT)
    ctr = f"ctr --address {sock}"
    image = "localhost/brick-bb:latest"
    run = f"{ctr} run --runc-binary {BRICK} --runc-systemd-cgroup"
    first, second = f"c{os.urandom(4).hex()}", f"c{os.urandom(4).hex()}"
    try:
        deadline = time.time() + 20
        while sd.sh(f"{ctr} version", check=False).returncode != 0:
            assert time.time() < deadline and daemon.poll() is None, open(f"{top}/containerd.log").read()
            time.sleep(0.1)
        sd.sh(f"{ctr} image import --base-name localhost/brick-bb {oci_archive(top)}")
        p = sd.sh(f"{run} --cgroup system.slice:ctr:{first} --rm {image} {first} "
                  f"sh -c 'cat /proc/self/cgroup; exit 5'", check=False)
        assert p.returncode == 5, p.stderr
        assert f"/system.slice/ctr-{first}.scope" in p.stdout, p.stdout
        sd.sh(f"{run} -d --cgroup system.slice:ctr:{second} --memory-limit {64 * MiB} "
              f"{image} {second} sleep 100")
        unit = f"ctr-{second}.scope"
        assert sd.unit(unit, "MemoryMax", "ActiveState") == {"MemoryMax": str(64 * MiB),
                                                             "ActiveState": "active"}
        mem = f"/sys/fs/cgroup/memory/system.slice/{unit}/memory.limit_in_bytes"
        assert sd.read(mem).strip() == str(64 * MiB)
        p = sd.sh(f"{ctr} task exec --exec-id e1 {second} cat /proc/self/cgroup")
        assert f"/system.slice/{unit}" in p.stdout, p.stdout
        sd.sh(f"{ctr} task pause {second}")
        assert "PAUSED" in sd.sh(f"{ctr} task ls").stdout
        sd.sh(f"{ctr} task resume {second}")
        sd.sh(f"{ctr} task kill -s KILL {second}")
        deadline = time.time() + 10
        while "STOPPED" not in sd.sh(f"{ctr} task ls").stdout:
            assert time.time() < deadline
            time.sleep(0.05)
        sd.sh(f"{ctr} task delete {second}")
        sd.sh(f"{ctr} container rm {second}")
        assert sd.unit(unit, "LoadState")["LoadState"] == "not-found"
        assert not sd.exists(f"/sys/fs/cgroup/freezer/system.slice/{unit}")
    finally:
        for c in (first, second):
            sd.sh(f"{ctr} task kill -s KILL {c}; {ctr} task delete -f {c}; {ctr} container rm {c}",
                  check=False)
        daemon.terminate()
        daemon.wait(timeout=30)
        log.close()
        remove_tree(sd, top)
    left = sd.sh("systemctl list-units --all --no-legend --plain 'ctr-*'").stdout.strip()
    assert not left, left


@WITH_V1_CONTROLLERS
def test_network_resources_where_net_cls_and_net_prio_are_mounted(sd, make_bundle):
    """linux.resources.network with the cgroupfs driver, on the layouts that mount
    net_cls,net_prio (this machine's kernel has them; its own layout leaves them out)."""
    if not sd.exists("/sys/fs/cgroup/net_cls,net_prio/cgroup.procs"):
        pytest.skip("this kernel has no net_cls/net_prio controllers")
    cid = sd.new_id()
    net = {"network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 7}]}}
    b = bundle(sd, make_bundle, ["sleep", "100"], f"/brick/{cid}", net)
    sd.brick("run", "-d", "--bundle", b, cid)
    d = f"/sys/fs/cgroup/net_cls,net_prio/brick/{cid}"
    pid = json.loads(sd.brick("state", cid).stdout)["pid"]
    assert pid in procs_in(sd, d)
    assert sd.read(f"{d}/net_cls.classid").strip() == "1048577"
    assert "lo 7" in sd.read(f"{d}/net_prio.ifpriomap").splitlines()
    # the control: the parent, which brick did not configure, keeps the defaults
    assert sd.read("/sys/fs/cgroup/net_cls,net_prio/brick/net_cls.classid").strip() == "0"
    sd.brick("delete", "--force", cid)
    assert not sd.exists(d)


def test_brick_killed_mid_create_then_delete_force_stops_the_unit(sd, make_bundle, tmp_path):
    """SIGKILL of brick while a createRuntime hook runs (the scope exists, the state is
    half-made): delete --force must still stop the unit and remove every directory (the
    fixture checks that no unit and no directory is left)."""
    cid = sd.new_id()
    seen = tmp_path / "hook-ran"
    hook = tmp_path / "slow.sh"
    hook.write_text(f"#!/bin/sh\necho $PPID $$ > {seen}.tmp; mv {seen}.tmp {seen}; exec sleep 30\n")
    hook.chmod(0o755)

    def edit(cfg):
        cfg["linux"]["cgroupsPath"] = f"system.slice:brick:{cid}"
        cfg["hooks"] = {"createRuntime": [{"path": str(hook)}]}
        if sd.layout == "v2":
            cfg["linux"].get("resources", {}).pop("pids", None)
    b = make_bundle(args=["sleep", "100"], edit=edit)
    full = [*sd.prefix(), BRICK, "--root", sd.state_root, "--systemd-cgroup", "create",
            "--bundle", b, cid]
    proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while not seen.exists():
            assert time.time() < deadline, "hook never ran"
            time.sleep(0.02)
        brick_pid, hook_pid = seen.read_text().split()
        sd.sh(f"kill -9 {brick_pid}")
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    unit = f"brick-{cid}.scope"
    # The half-made container is there; its init died with brick, so systemd may have
    # collected the empty scope already, but brick's own directories stay until delete.
    assert sd.brick("state", cid).returncode == 0
    if sd.layout != "v2":
        assert sd.exists(f"/sys/fs/cgroup/freezer/system.slice/{unit}")
    sd.brick("delete", "--force", cid)
    assert sd.unit(unit, "LoadState")["LoadState"] == "not-found"
    assert sd.brick("state", cid, check=False).returncode != 0
    sd.sh(f"kill -9 {hook_pid}")   # the orphaned hook is ours to end


def test_cgroupfs_driver_on_this_layout(sd, make_bundle):
    """The default driver on each real tree (pure v1, pure v2, hybrid): the container's
    cgroup is made, limited, frozen, signalled and removed by brick alone, next to a
    systemd that owns the rest of the tree."""
    cid = sd.new_id()
    path = f"/brick/{cid}"
    b = bundle(sd, make_bundle, ["sleep", "100"], path, limits_for(sd))
    sd.brick("run", "-d", "--bundle", b, cid)
    pid = json.loads(sd.brick("state", cid).stdout)["pid"]
    if sd.layout == "v2":
        d = f"/sys/fs/cgroup{path}"
        assert pid in procs_in(sd, d)
        sd.brick("pause", cid)
        assert "frozen 1" in sd.read(f"{d}/cgroup.events")
        sd.brick("resume", cid)
        assert "frozen 0" in sd.read(f"{d}/cgroup.events")
    else:
        for ctrl in ("memory", "pids", "freezer", "devices", "cpu", "systemd"):
            assert pid in procs_in(sd, f"/sys/fs/cgroup/{ctrl}{path}"), ctrl
        assert sd.read(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").strip() == str(64 * MiB)
        assert sd.read(f"/sys/fs/cgroup/pids{path}/pids.max").strip() == "50"
        sd.brick("pause", cid)
        assert sd.read(f"/sys/fs/cgroup/freezer{path}/freezer.state").strip() == "FROZEN"
        sd.brick("resume", cid)
    assert not sd.exists(f"/sys/fs/cgroup/unified{path}") or sd.layout == "hybrid"
    kill_all_and_delete(sd, cid)
    left = sd.sh(f"ls -d /sys/fs/cgroup{path} /sys/fs/cgroup/*{path} 2>/dev/null",
                 check=False).stdout.strip()
    assert not left, left


def test_check_host_sees_systemd_and_its_driver(sd):
    """On a host that runs systemd, `brick check host` advises the systemd driver (on this
    machine, which runs no systemd, the finding is absent: test_check.py)."""
    doc = json.loads(sd.brick("check", "host", "--format", "json", check=False).stdout)
    found = {f["id"]: f for f in doc["findings"]}
    assert "cgroup.systemd-driver" in found
    assert doc["facts"]["cgroup"]["systemd"] is True
    assert doc["facts"]["cgroup"]["mode"] == {"hybrid": "hybrid", "v1": "v1", "v2": "v2"}[sd.layout]


def test_update_revokes_a_device_in_systemd_too(sd, make_bundle, tmp_path):
    """An update that takes a device away must take it away from the unit as well:
    SetUnitProperties adds to DeviceAllow unless the list is cleared first, and on v1
    systemd writes its list into devices.list right then."""
    cid = sd.new_id()
    tun = {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"}
    b = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid}",
               {"devices": [{"allow": False, "access": "rwm"}, tun]})
    sd.brick("--systemd-cgroup", "run", "-d", "--bundle", b, cid)
    unit = f"brick-{cid}.scope"
    assert "/dev/char/10:200 rwm" in sd.unit(unit, "DeviceAllow")["DeviceAllow"]
    res = tmp_path / "res.json"
    res.write_text(json.dumps({"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]}))
    sd.brick("update", "--resources", str(res), cid)
    allowed = sd.unit(unit, "DeviceAllow")["DeviceAllow"]
    allowed = allowed if isinstance(allowed, list) else [allowed]
    assert allowed == ["/dev/char/1:3 rwm"], allowed
    if sd.layout != "v2":
        listed = sd.read(f"/sys/fs/cgroup/devices/system.slice/{unit}/devices.list")
        assert "c 10:200" not in listed and "c 1:3 rwm" in listed, listed
        # and a reload keeps it that way
        sd.run(["systemctl", "daemon-reload"])
        listed = sd.read(f"/sys/fs/cgroup/devices/system.slice/{unit}/devices.list")
        assert "c 10:200" not in listed and "a *:*" not in listed, listed
    sd.brick("delete", "--force", cid)


@HYBRID_ONLY
def test_system_bus_when_the_private_socket_is_unusable(sd, make_bundle):
    """brick prefers systemd's private socket; where it cannot connect there it goes
    through the system bus (dbus-daemon), where job signals need Subscribe and a sender
    match. The socket is hidden from brick alone, in a mount namespace of its own."""
    if not sd.start_dbus():
        pytest.skip("no system bus reaching systemd on this machine")
    cid = sd.new_id()
    b = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid}", limits_for(sd))
    hide = "mount --bind /dev/null /run/systemd/private && exec \"$@\""
    for verb in (["--systemd-cgroup", "create", "--bundle", b, cid], ["delete", "--force", cid]):
        if verb[1] == "delete":
            props = sd.unit(f"brick-{cid}.scope", "ActiveState", "MemoryMax")
            assert props == {"ActiveState": "active", "MemoryMax": str(64 * MiB)}
        sd.run(["unshare", "-m", "--propagation", "private", "sh", "-c", hide, "sh",
                BRICK, "--root", sd.state_root, *verb])
    assert sd.unit(f"brick-{cid}.scope", "LoadState")["LoadState"] == "not-found"
    # the control: with the bus gone as well, brick has no way to systemd and says so
    # (never on a real machine: its bus stays)
    if sd.machine:
        return
    sd.run(["systemctl", "stop", "dbus.service", "dbus.socket"])
    cid2 = sd.new_id()
    b2 = bundle(sd, make_bundle, ["sleep", "100"], f"system.slice:brick:{cid2}")
    p = sd.run(["unshare", "-m", "--propagation", "private", "sh", "-c", hide, "sh",
                BRICK, "--root", sd.state_root, "--systemd-cgroup", "create", "--bundle", b2,
                cid2], check=False)
    assert p.returncode != 0 and "connect to systemd" in p.stderr, p.stderr
    assert sd.brick("state", cid2, check=False).returncode != 0


@HYBRID_ONLY
def test_run_image_under_systemd(sd):
    """The main job under systemd: `brick --systemd-cgroup run --rm IMAGE` (brick-tools
    makes the bundle) lands in a transient scope with its limit, and leaves nothing."""
    top = tempfile.mkdtemp(prefix="img-", dir=sd.keep)
    try:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                              "make-busybox-image.sh")
        subprocess.run(["sh", script, f"{top}/layout"], check=True, capture_output=True)
        env = f"BRICK_STORE={top}/store"
        sd.sh(f"{env} {BRICK} image import --name localhost/sd-img:latest oci:{top}/layout")
        p = sd.sh(f"{env} {BRICK} --root {sd.state_root} --systemd-cgroup run --rm --memory 64m "
                  f"localhost/sd-img sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                  f"cat /proc/1/cgroup; exit 4'", check=False)
        assert p.returncode == 4, p.stderr
        assert p.stdout.split()[0] == str(64 * MiB), p.stdout
        name = sd.new_id()
        sd.sh(f"{env} {BRICK} --root {sd.state_root} --systemd-cgroup run -d --name {name} "
              f"--memory 64m localhost/sd-img sleep 100")
        assert sd.unit(f"brick-{name}.scope", "ActiveState", "MemoryMax") == {
            "ActiveState": "active", "MemoryMax": str(64 * MiB)}
        sd.sh(f"{env} {BRICK} --root {sd.state_root} delete --force {name}")
        left = sd.sh("systemctl list-units --all --no-legend --plain 'brick-*.scope'").stdout
        assert not left.strip(), left
        assert not sd.brick("list", "-q").stdout.strip()
    finally:
        remove_tree(sd, top)
