"""Secure by default, proven from the inside: tests/probe/probe.c runs in a container
and checks every confinement layer of the issue (capabilities, seccomp syscalls and
ABIs, socket families, read-only and masked paths, devices, user namespace, Landlock,
keyring, pids limit, hostname and network isolation).

- Under `brick spec` defaults every check passes.
- On the host, unconfined, every check fails - which is what shows each check can fail.
  A check that passes on the host must be explained by a fact of this machine (the
  kernel lacks the syscall or address family, the path does not exist here...), and the
  explanations are themselves asserted, so a check cannot quietly become vacuous.
- For comparison, the same probe runs under `crun spec` defaults (crun) and under
  podman-like defaults (brick and runc); the failure counts are printed (pytest -s) and
  written to $BRICK_CONFINEMENT_COUNTS (default /tmp/brick-confinement-counts.json).
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest

from conftest import BRICK, make_rootfs

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE_SRC = os.path.join(os.path.dirname(HERE), "probe", "probe.c")
PODMAN_SECCOMP = "/usr/share/containers/seccomp.json"

DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
                "CAP_SETUID", "CAP_SYS_CHROOT"]


@pytest.fixture(scope="module")
def probe_bin(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc not installed")
    out = str(tmp_path_factory.mktemp("probe") / "brick-probe")
    p = subprocess.run(["gcc", "-static", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra",
                        "-Werror", "-Wshadow", "-Wformat=2", "-o", out, PROBE_SRC],
                       capture_output=True, text=True)
    if p.returncode != 0 and "cannot find -lc" in p.stderr:
        pytest.skip("static libc missing (Debian package libc6-dev)")
    assert p.returncode == 0, p.stderr
    return out


class Outside:
    """Things of the host the probe must not reach: a process and an abstract socket."""

    def __init__(self):
        self.proc = subprocess.Popen(["sleep", "600"])
        self.name = f"brick-probe-{uuid.uuid4().hex[:12]}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind("\0" + self.name)
        self.sock.listen(8)

    def args(self, blockdev):
        return ["--outside-pid", str(self.proc.pid), "--abstract", self.name,
                "--host-hostname", socket.gethostname(), "--blockdev", blockdev]

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.sock.close()


@pytest.fixture
def outside():
    o = Outside()
    yield o
    o.close()


def parse(stdout):
    lines = [l for l in stdout.splitlines() if l.startswith("JSON ")]
    assert lines, f"probe printed no summary:\n{stdout}"
    return json.loads(lines[-1][5:])


def failures(summary):
    return {k: v["detail"] for k, v in summary["checks"].items() if v["result"] == "FAIL"}


def host_blockdev():
    for p in ("/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1"):
        if os.path.exists(p) and os.path.isdir("/dev") and os.stat(p).st_mode & 0o60000 == 0o60000:
            return p
    pytest.skip("no block device node on the host")


@pytest.fixture
def bundle_dir():
    """Bundles live in a directory the container's mapped root can traverse: brick
    attaches the idmapped rootfs from inside the user namespace, by path, and pytest's
    tmp_path sits under a 0700 directory (/tmp/pytest-of-root). See the report."""
    d = tempfile.mkdtemp(prefix="brick-probe-", dir="/tmp")
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def bundle_with_probe(brick, bundle_dir, probe_bin, outside, edit=None):
    b = tempfile.mkdtemp(dir=bundle_dir)
    os.chmod(b, 0o711)
    rootfs = os.path.join(b, "rootfs")
    make_rootfs(rootfs)
    brick("spec", "--bundle", b)
    cfg_path = os.path.join(b, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["process"]["args"] = ["/probe", *outside.args("/blk")]
    if edit:
        edit(cfg)
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    shutil.copy(probe_bin, os.path.join(rootfs, "probe"))
    os.mknod(os.path.join(rootfs, "blk"), 0o600 | 0o60000, os.stat(host_blockdev()).st_rdev)
    return b


def run_brick_probe(brick, bundle, cid=None):
    cid = cid or brick.new_id("probe")
    p = brick("run", "--bundle", bundle, cid, check=False, timeout=120)
    brick("delete", "--force", cid, check=False)
    assert "JSON " in p.stdout, f"brick run -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return parse(p.stdout), p


# ---- why a check may pass on the unconfined host ----------------------------------

# Checks that are not about confinement (allowed families) or that host root passes too.
HOST_PASSES_ANYWAY = {
    "caps_ambient_empty": "host root has an empty ambient set as well",
    "abi_x32": "this kernel has no x32 ABI (CONFIG_X86_X32_ABI unset): ENOSYS everywhere",
    "socket_allowed_AF_UNIX": "an allowed family: a functionality check",
    "socket_allowed_AF_INET": "an allowed family: a functionality check",
    "socket_allowed_AF_INET6": "an allowed family: a functionality check",
    "socket_allowed_AF_NETLINK": "an allowed family: a functionality check",
}


def host_reason(name, detail):
    """Why a check legitimately passes on this host, or None if it must not."""
    if name in HOST_PASSES_ANYWAY:
        return HOST_PASSES_ANYWAY[name]
    if name.startswith("syscall_") and detail == "ENOSYS":
        return "this kernel does not have the syscall (ENOSYS for host root too)"
    if name.startswith("socket_refused_") and detail == "EAFNOSUPPORT":
        return "this kernel does not have the address family"
    if name.startswith("masked_") and detail == "absent":
        return "the path does not exist on this host"
    if name.startswith("readonly_") and detail.endswith(" absent"):
        return "the path does not exist on this host"
    if name.startswith("cap_absent_") and detail == "":
        with open("/proc/self/status") as f:
            bnd = int(next(l for l in f if l.startswith("CapBnd:")).split()[1], 16)
        if bnd != (1 << 41) - 1:
            return "the capability is not in this host's bounding set"
    return None


def test_probe_on_host_fails_every_check(probe_bin, outside, tmp_path):
    p = subprocess.run([probe_bin, *outside.args(host_blockdev()), "--scratch", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    s = parse(p.stdout)
    assert p.returncode == 1
    unexplained = {}
    inapplicable = {}
    for name, v in s["checks"].items():
        if v["result"] == "PASS":
            why = host_reason(name, v["detail"])
            if why is None:
                unexplained[name] = v["detail"]
            else:
                inapplicable[name] = why
        elif v["result"] == "SKIP":
            inapplicable[name] = v["detail"]
    assert not unexplained, f"checks that pass unconfined on the host (cannot fail): {unexplained}"
    # Every layer has checks that do fail on the host.
    failed = failures(s)
    for prefix in ("cap_absent_", "no_new_privs", "seccomp_filter_mode", "syscall_", "socket_refused_",
                   "readonly_", "masked_", "mknod_block_refused", "open_block_refused",
                   "nodev_mounts", "dev_only_allowed_nodes", "userns_map", "userns_root_not_host_root",
                   "landlock_", "signal_outside_refused", "abstract_unix_outside_refused",
                   "keyring_unreachable", "cgroup_pids_max", "hostname_isolated", "netns_only_lo"):
        assert any(k.startswith(prefix) for k in failed), f"no {prefix} check fails on the host"
    print(f"\nhost: {len(failed)} of {len(s['checks'])} checks fail; "
          f"{len(inapplicable)} not testable here:")
    for k, why in sorted(inapplicable.items()):
        print(f"  {k}: {why}")
    record("host", s)


def test_probe_under_brick_defaults_passes(brick, bundle_dir, probe_bin, outside):
    b = bundle_with_probe(brick, bundle_dir, probe_bin, outside)
    s, p = run_brick_probe(brick, b)
    assert failures(s) == {}, p.stdout + p.stderr
    assert p.returncode == 0
    record("brick defaults", s)


def test_two_containers_get_distinct_uid_ranges(brick, bundle_dir, probe_bin, outside, tmp_path):
    """Two containers running at the same time map root to disjoint host ranges."""
    b = bundle_with_probe(brick, bundle_dir, probe_bin, outside,
                          edit=lambda c: c["process"].__setitem__(
                              "args", ["/bin/sh", "-c", "exec sleep 60 >/dev/null 2>&1"]))
    ids = [brick.new_id("uid"), brick.new_id("uid")]
    maps = []
    for cid in ids:
        brick("run", "--detach", "--bundle", b, cid)
    for cid in ids:
        pid = json.loads(brick("state", cid).stdout)["pid"]
        with open(f"/proc/{pid}/uid_map") as f:
            inside, host, size = (int(x) for x in f.read().split())
        assert inside == 0 and host != 0 and size < 4294967295
        maps.append((host, host + size))
    (a0, a1), (b0, b1) = maps
    assert a1 <= b0 or b1 <= a0, f"overlapping uid ranges: {maps}"
    for cid in ids:
        brick("delete", "--force", cid)


# ---- comparisons ------------------------------------------------------------------

COUNTS = {}


def record(label, summary):
    COUNTS[label] = {"fail": summary["fail"], "pass": summary["pass"], "skip": summary["skip"],
                     "failed": sorted(failures(summary))}
    path = os.environ.get("BRICK_CONFINEMENT_COUNTS", "/tmp/brick-confinement-counts.json")
    try:
        with open(path) as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {}
    old.update(COUNTS)
    with open(path, "w") as f:
        json.dump(old, f, indent=1, sort_keys=True)


def podman_like(cfg):
    """What podman 4.3 (rootful, defaults) hands a runtime: its 11 capabilities, its
    seccomp profile resolved for them, no user namespace, no NoNewPrivileges, pids 2048."""
    with open(PODMAN_SECCOMP) as f:
        prof = json.load(f)
    caps = set(DEFAULT_CAPS)
    rules = []
    for r in prof.get("syscalls", []):
        inc, exc = r.get("includes") or {}, r.get("excludes") or {}
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            continue
        if inc.get("arches") and not {"amd64", "x86_64"} & set(inc["arches"]):
            continue
        if exc.get("caps") and set(exc["caps"]) & caps:
            continue
        if exc.get("arches") and {"amd64", "x86_64"} & set(exc["arches"]):
            continue
        if inc.get("minKernel"):
            pass  # the kernel here (6.18) is newer than any minKernel in the profile
        rule = {k: r[k] for k in ("names", "action", "args", "errnoRet") if r.get(k) is not None}
        if "name" in r and "names" not in rule:
            rule["names"] = [r["name"]]
        rules.append(rule)
    arches = []
    for a in prof.get("archMap", []):
        if a["architecture"] == "SCMP_ARCH_X86_64":
            arches = [a["architecture"], *a.get("subArchitectures", [])]
    seccomp = {"defaultAction": prof["defaultAction"], "architectures": arches, "syscalls": rules}
    if "defaultErrnoRet" in prof:
        seccomp["defaultErrnoRet"] = prof["defaultErrnoRet"]
    p = cfg["process"]
    p["capabilities"] = {k: list(DEFAULT_CAPS) for k in ("bounding", "effective", "permitted")}
    p["noNewPrivileges"] = False
    lx = cfg["linux"]
    lx["seccomp"] = seccomp
    lx["namespaces"] = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
    for k in ("uidMappings", "gidMappings"):
        lx.pop(k, None)
    lx["maskedPaths"] = ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                         "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                         "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"]
    lx["readonlyPaths"] = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                           "/proc/sysrq-trigger"]
    lx.setdefault("resources", {})["pids"] = {"limit": 2048}
    cfg["annotations"] = {}
    cfg["root"]["readonly"] = False
    cfg["hostname"] = "podman-like"


def test_compare_crun_spec_defaults(brick, probe_bin, outside, tmp_path):
    if not shutil.which("crun"):
        pytest.skip("crun not installed")
    b = tmp_path / "crun-bundle"
    b.mkdir()
    make_rootfs(str(b / "rootfs"))
    shutil.copy(probe_bin, str(b / "rootfs" / "probe"))
    os.mknod(str(b / "rootfs" / "blk"), 0o600 | 0o60000, os.stat(host_blockdev()).st_rdev)
    subprocess.run(["crun", "spec"], cwd=str(b), check=True)
    cfg = json.loads((b / "config.json").read_text())
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/probe", *outside.args("/blk")]
    (b / "config.json").write_text(json.dumps(cfg))
    root, cid = str(tmp_path / "crun-root"), f"probe-{uuid.uuid4().hex[:10]}"
    # crun 1.8 refuses hybrid cgroup hosts unless cgroup2 is hidden in a private mount ns.
    script = (f"umount /sys/fs/cgroup/unified 2>/dev/null; "
              f"exec crun --root {root} run --bundle {b} {cid}")
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       timeout=120)
    subprocess.run(["unshare", "-m", "sh", "-c",
                    f"umount /sys/fs/cgroup/unified 2>/dev/null; crun --root {root} delete -f {cid}"],
                   capture_output=True)
    s = parse(p.stdout)
    record("crun spec (crun)", s)
    print(f"\ncrun spec under crun: {s['fail']} of {len(s['checks'])} checks fail")
    assert s["fail"] > 0  # crun's example config is not hardened; the probe must see that


def test_compare_podman_like_defaults(brick, bundle_dir, probe_bin, outside, tmp_path):
    if not os.path.exists(PODMAN_SECCOMP):
        pytest.skip(f"{PODMAN_SECCOMP} missing (Debian package golang-github-containers-common)")
    b = bundle_with_probe(brick, bundle_dir, probe_bin, outside, edit=podman_like)
    s, p = run_brick_probe(brick, b)
    record("podman-like (brick)", s)
    print(f"\npodman-like defaults under brick: {s['fail']} of {len(s['checks'])} fail")
    # The layers podman does not enable by default are exactly what the probe reports.
    failed = failures(s)
    assert "userns_map" in failed and "no_new_privs" in failed, p.stdout + p.stderr
    # And what podman's config does enable holds under brick too.
    for k in ("caps_only_defaults", "seccomp_filter_mode", "readonly_sys", "masked_proc_kcore",
              "cgroup_pids_max", "netns_only_lo", "hostname_isolated"):
        assert k not in failed, f"{k}: {failed.get(k)}\n{p.stdout}{p.stderr}"

    runc = shutil.which("runc") or ("/usr/sbin/runc" if os.path.exists("/usr/sbin/runc") else None)
    if runc:
        root, cid = str(tmp_path / "runc-root"), f"probe-{uuid.uuid4().hex[:10]}"
        cfg = json.loads(open(os.path.join(b, "config.json")).read())
        p = subprocess.run([runc, "--root", root, "run", "--bundle", b, cid], capture_output=True,
                           text=True, timeout=120)
        subprocess.run([runc, "--root", root, "delete", "-f", cid], capture_output=True)
        assert cfg["process"]["args"][0] == "/probe"
        s2 = parse(p.stdout)
        record("podman-like (runc)", s2)
        print(f"podman-like defaults under runc: {s2['fail']} of {len(s2['checks'])} fail")


# ---- the host floor (issue 4.10) ---------------------------------------------------

def test_floor_refuses_a_config_that_crosses_it(brick, bundle_dir, probe_bin, outside, tmp_path):
    """/etc/brick/brick.conf (here BRICK_CONF) refuses CAP_SYS_ADMIN and host namespaces:
    a config asking for them fails to create, naming the setting and the rule, and
    leaves nothing behind; the same config without them runs; no file, no floor."""
    conf = tmp_path / "brick.conf"
    conf.write_text(json.dumps({"refuse": ["SYS_ADMIN", "seccomp-off", "no-userns", "host-pid",
                                           "host-net", "writable-sys", "privileged-mount"]}))
    env = dict(os.environ, BRICK_CONF=str(conf))

    def admin(cfg):
        cfg["process"]["args"] = ["/bin/true"]
        for k in ("bounding", "effective", "permitted"):
            cfg["process"]["capabilities"][k].append("CAP_SYS_ADMIN")
    b = bundle_with_probe(brick, bundle_dir, probe_bin, outside, edit=admin)
    cid = brick.new_id("floor")
    p = brick("create", "--bundle", b, cid, check=False, env=env)
    assert p.returncode != 0
    assert (f'config.json: process.capabilities.bounding: CAP_SYS_ADMIN refused by {conf} '
            f'(rule "SYS_ADMIN")') in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(brick.root, cid))
    assert brick("list", "-q").stdout.split() == []

    def host_net(cfg):
        cfg["process"]["args"] = ["/bin/true"]
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                      if n["type"] != "network"]
    b2 = bundle_with_probe(brick, bundle_dir, probe_bin, outside, edit=host_net)
    p = brick("run", "--bundle", b2, brick.new_id("floor"), check=False, env=env)
    assert p.returncode != 0
    assert f'linux.namespaces: no network namespace (the host\'s) refused by {conf} (rule "host-net")' \
        in p.stderr, p.stderr

    # brick's own defaults stay above every rule of this floor.
    b3 = bundle_with_probe(brick, bundle_dir, probe_bin, outside,
                           edit=lambda c: c["process"].__setitem__("args", ["/bin/true"]))
    brick("run", "--bundle", b3, brick.new_id("floor"), env=env)
    # No file, no floor: the engine's config is honoured as written.
    env_none = dict(os.environ, BRICK_CONF=str(tmp_path / "absent.conf"))
    cid = brick.new_id("floor")
    brick("run", "--bundle", b, cid, env=env_none)
    # A broken floor file is an error naming it, never silently no floor.
    conf.write_text('{"refuse": ["SYS_ADMINN"]}')
    p = brick("run", "--bundle", b3, brick.new_id("floor"), check=False, env=env)
    assert p.returncode != 0 and f'{conf}: refuse[0]: unknown rule "SYS_ADMINN"' in p.stderr, p.stderr
