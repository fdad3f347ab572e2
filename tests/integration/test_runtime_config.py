"""Every section of config.json, observed from inside the container: process, root,
mounts, hostname/domainname, hooks, annotations, namespaces, id mappings, time
offsets, devices, resources, sysctl, masked/readonly paths, seccomp, personality and
the SELinux labels (ignored with a warning on this host)."""
import json
import os
import subprocess
import tempfile
import time
import uuid

import pytest

from runtime_helpers import (bg, assert_gone, cgroup_file, create, pid_alive, run, state,
                             status_field, traversable_bundle_factory, wait_status,
                             write_hook)

SLEEP = ["sleep", "1000"]
HOST_MAP = [{"containerID": 0, "hostID": 0, "size": 65536}]


@pytest.fixture
def make_bundle(brick, request):
    return traversable_bundle_factory(brick, request)


def sh(brick, make_bundle, script, edit=None, check=True, extra=()):
    b = make_bundle(args=["sh", "-c", script], edit=edit)
    cid = brick.new_id()
    p = run(brick, b, cid, *extra, check=check)
    assert_gone(brick, cid)
    return p


def host_ids(cfg):
    """Map the container's ids onto the host's (no shifting): bind-mounted host
    directories are then writable by the container's root."""
    cfg["annotations"].pop("run.oci.brick.userns", None)
    cfg["linux"]["uidMappings"] = HOST_MAP
    cfg["linux"]["gidMappings"] = HOST_MAP


def drop_ns(cfg, *types):
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] not in types]


def shared_dir(make_bundle, name):
    d = os.path.join(make_bundle.top, name + "-" + uuid.uuid4().hex[:6])
    os.mkdir(d)
    os.chmod(d, 0o777)
    return d


# ---- process ------------------------------------------------------------------------

def test_process_args_env_cwd(brick, make_bundle):
    def edit(cfg):
        cfg["process"]["env"] = ["PATH=/bin", "GREETING=hello there", "EMPTY="]
        cfg["process"]["cwd"] = "/etc"
    p = sh(brick, make_bundle, 'echo "$GREETING"; echo "[$EMPTY]"; pwd; echo "$0 $1" ', edit)
    assert p.stdout == "hello there\n[]\n/etc\nsh \n"


def test_process_cwd_missing_is_a_clear_error(brick, make_bundle):
    b = make_bundle(args=["pwd"], edit=lambda c: c["process"].update(cwd="/work/dir"))
    cid = brick.new_id()
    p = run(brick, b, cid, check=False)
    assert p.returncode != 0 and "process.cwd /work/dir" in p.stderr
    assert_gone(brick, cid)


def test_process_user(brick, make_bundle):
    def edit(cfg):
        cfg["process"]["user"] = {"uid": 1000, "gid": 1001, "umask": 0o027,
                                  "additionalGids": [2000, 2001]}
    p = sh(brick, make_bundle, "id -u; id -g; id -G; umask", edit)
    uid, gid, groups, umask = p.stdout.split("\n")[:4]
    assert uid == "1000" and gid == "1001"
    assert set(groups.split()) == {"1001", "2000", "2001"}
    assert umask.lstrip("0") == "27"


def test_process_terminal_console_size(brick, make_bundle):
    from test_runtime_lifecycle import ConsoleServer  # noqa: F401  (same helper)
    import tempfile
    from runtime_helpers import ConsoleServer as CS
    d = tempfile.mkdtemp(prefix="brt-", dir="/tmp")
    srv = CS(os.path.join(d, "c.sock"))
    try:
        def edit(cfg):
            cfg["process"]["terminal"] = True
            cfg["process"]["consoleSize"] = {"height": 33, "width": 111}
        b = make_bundle(args=["sh", "-c", "stty size; tty"], edit=edit)
        cid = brick.new_id()
        bg(brick, "run", "-d", "--console-socket", srv.path, "--bundle", b, cid)
        out = srv.read_all()
        assert "33 111" in out
        assert "/dev/pts/" in out or "/dev/console" in out
        wait_status(brick, cid, "stopped")
        brick("delete", cid)
    finally:
        srv.close()
        subprocess.run(["rm", "-rf", d])


def test_process_rlimits(brick, make_bundle):
    def edit(cfg):
        cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
                                     {"type": "RLIMIT_NPROC", "soft": 100, "hard": 200}]
    p = sh(brick, make_bundle, "ulimit -n; ulimit -Hn; ulimit -u", edit)
    assert p.stdout.split() == ["321", "654", "100"]


def test_process_bad_rlimit_soft_above_hard(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["process"].update(
        rlimits=[{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5}]))
    cid, p = create(brick, b, check=False)
    assert p.returncode != 0 and "rlimits" in p.stderr
    assert_gone(brick, cid)


def test_process_capabilities_sets(brick, make_bundle):
    def edit(cfg):
        caps = ["CAP_CHOWN", "CAP_NET_RAW"]
        cfg["process"]["capabilities"] = {"bounding": caps + ["CAP_KILL"], "effective": caps,
                                          "permitted": caps, "inheritable": ["CAP_NET_RAW"],
                                          "ambient": ["CAP_NET_RAW"]}
        cfg["process"]["noNewPrivileges"] = False
        # as root, exec grants the whole bounding set; a non-root user keeps only ambient
        cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    p = sh(brick, make_bundle, "cat /proc/self/status", edit)
    chown, kill, net_raw = 1 << 0, 1 << 5, 1 << 13
    assert int(status_field(p.stdout, "CapBnd"), 16) == chown | kill | net_raw
    # cat is exec'd from sh: only ambient caps survive into its permitted/effective sets
    assert int(status_field(p.stdout, "CapInh"), 16) == net_raw
    assert int(status_field(p.stdout, "CapAmb"), 16) == net_raw
    assert int(status_field(p.stdout, "CapEff"), 16) == net_raw


def test_ambient_caps_that_cannot_be_raised_are_left_out(brick, make_bundle):
    """`crun spec` asks for ambient caps with an empty inheritable set; the kernel cannot
    raise those. runc warns and crun is silent, and both run the container: so does brick,
    with a warning naming them, and the caps stay out of every set they were not in."""
    def edit(cfg):
        caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        cfg["process"]["capabilities"] = {"bounding": caps, "effective": caps,
                                          "permitted": caps, "inheritable": [],
                                          "ambient": caps}
    p = sh(brick, make_bundle, "cat /proc/self/status", edit)
    assert "CAP_KILL" in p.stderr and "left out" in p.stderr, p.stderr
    assert int(status_field(p.stdout, "CapAmb"), 16) == 0
    assert int(status_field(p.stdout, "CapInh"), 16) == 0


def test_process_capabilities_of_init(brick, make_bundle):
    def edit(cfg):
        caps = ["CAP_CHOWN", "CAP_SYS_ADMIN"]
        cfg["process"]["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
    b = make_bundle(args=SLEEP, edit=edit)
    cid = brick.new_id()
    bg(brick, "run", "-d", "--bundle", b, cid)
    pid = state(brick, cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        text = f.read()
    want = (1 << 0) | (1 << 21)
    assert int(status_field(text, "CapEff"), 16) == want
    assert int(status_field(text, "CapPrm"), 16) == want
    assert int(status_field(text, "CapBnd"), 16) == want


def test_process_no_new_privileges(brick, make_bundle):
    on = sh(brick, make_bundle, "cat /proc/self/status")
    assert status_field(on.stdout, "NoNewPrivs") == "1"
    off = sh(brick, make_bundle, "cat /proc/self/status",
             lambda c: c["process"].update(noNewPrivileges=False))
    assert status_field(off.stdout, "NoNewPrivs") == "0"


def test_process_oom_score_adj(brick, make_bundle):
    p = sh(brick, make_bundle, "cat /proc/self/oom_score_adj",
           lambda c: c["process"].update(oomScoreAdj=567))
    assert p.stdout.strip() == "567"


def test_process_io_priority(brick, make_bundle):
    p = sh(brick, make_bundle, "ionice -p $$",
           lambda c: c["process"].update(ioPriority={"class": "IOPRIO_CLASS_BE", "priority": 6}))
    assert "best-effort" in p.stdout and "6" in p.stdout


def test_process_scheduler_batch(brick, make_bundle):
    # SCHED_BATCH (3) needs no capability; field 41 of /proc/PID/stat is the policy
    p = sh(brick, make_bundle, "cat /proc/self/stat",
           lambda c: c["process"].update(scheduler={"policy": "SCHED_BATCH", "nice": 5}))
    fields = p.stdout.rsplit(")", 1)[1].split()
    assert fields[41 - 3] == "3"
    assert fields[19 - 3] == "5"  # nice


def test_process_exec_cpu_affinity(brick, make_bundle):
    p = sh(brick, make_bundle, "grep Cpus_allowed_list /proc/self/status",
           lambda c: c["process"].update(execCPUAffinity={"final": "0"}))
    assert p.stdout.split()[-1] == "0"


def test_process_apparmor_profile_ignored_or_refused(brick, make_bundle):
    # AppArmor is absent here: a profile must not be silently claimed as applied
    b = make_bundle(args=["true"], edit=lambda c: c["process"].update(apparmorProfile="brick-x"))
    cid = brick.new_id()
    p = brick("run", "--bundle", b, cid, check=False)
    assert p.returncode == 0 and "apparmorProfile" in p.stderr and "ignored" in p.stderr


# ---- root / mounts ------------------------------------------------------------------

def test_root_readonly(brick, make_bundle):
    p = sh(brick, make_bundle, "touch /x 2>&1; echo rc=$?; touch /tmp/ok && echo tmp-ok", check=False)
    assert "Read-only file system" in p.stdout and "tmp-ok" in p.stdout
    # (Landlock grants writes below the top-level directories, not in / itself)
    p = sh(brick, make_bundle, "touch /root/x && echo root-rw",
           lambda c: c["root"].update(readonly=False))
    assert "root-rw" in p.stdout


def test_mount_bind_ro_and_rw(brick, make_bundle):
    ro = shared_dir(make_bundle, "ro")
    rw = shared_dir(make_bundle, "rw")
    with open(os.path.join(ro, "f"), "w") as f:
        f.write("host data\n")

    def edit(cfg):
        host_ids(cfg)
        cfg["mounts"] += [
            {"destination": "/ro", "type": "bind", "source": ro, "options": ["bind", "ro"]},
            {"destination": "/rw", "type": "bind", "source": rw, "options": ["rbind", "rw"]}]
    p = sh(brick, make_bundle, "cat /ro/f; echo x > /ro/g 2>/dev/null || echo ro-denied;"
                               " echo written > /rw/out", edit)
    assert p.stdout == "host data\nro-denied\n"
    with open(os.path.join(rw, "out")) as f:
        assert f.read() == "written\n"


def test_mount_rbind_keeps_submounts_and_rro(brick, make_bundle):
    top = shared_dir(make_bundle, "top")
    sub = os.path.join(top, "sub")
    os.mkdir(sub)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", sub], check=True)
    try:
        with open(os.path.join(sub, "inner"), "w") as f:
            f.write("in submount\n")

        def edit(cfg):
            host_ids(cfg)
            cfg["mounts"] += [
                {"destination": "/r", "type": "bind", "source": top, "options": ["rbind", "rw"]},
                {"destination": "/rro", "type": "bind", "source": top, "options": ["rbind", "rro"]},
                {"destination": "/flat", "type": "bind", "source": top, "options": ["bind"]}]
        p = sh(brick, make_bundle, "cat /r/sub/inner; ls /flat/sub | wc -l;"
                                   " touch /rro/sub/x 2>/dev/null || echo rro-denied;"
                                   " touch /r/sub/y && echo rw-ok", edit)
        assert p.stdout.split("\n")[:4] == ["in submount", "0", "rro-denied", "rw-ok"]
    finally:
        subprocess.run(["umount", "-l", sub])


def test_mount_tmpfs_size_mode_and_flags(brick, make_bundle):
    def edit(cfg):
        cfg["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                              "options": ["size=2m", "mode=0710", "nosuid", "nodev", "noexec"]})
    p = sh(brick, make_bundle, "stat -c %a /scratch; grep ' /scratch ' /proc/self/mountinfo;"
                               " df -k /scratch | tail -1;"
                               " cp /bin/busybox /scratch/bb 2>/dev/null || cat /bin/busybox > /scratch/bb;"
                               " chmod +x /scratch/bb; /scratch/bb true 2>/dev/null || echo noexec-ok",
           edit)
    lines = p.stdout.splitlines()
    assert lines[0] == "710"
    opts = lines[1].split()[5].split(",")
    assert {"nosuid", "nodev", "noexec"} <= set(opts)
    assert lines[2].split()[1] == "2048"
    assert "noexec-ok" in p.stdout


def test_mount_propagation_rslave(brick, make_bundle):
    src = shared_dir(make_bundle, "prop")
    subprocess.run(["mount", "--bind", src, src], check=True)
    subprocess.run(["mount", "--make-shared", src], check=True)
    try:
        def edit(cfg):
            host_ids(cfg)
            cfg["mounts"].append({"destination": "/p", "type": "bind", "source": src,
                                  "options": ["rbind", "rslave"]})
        b = make_bundle(args=SLEEP, edit=edit)
        cid = brick.new_id()
        bg(brick, "run", "-d", "--bundle", b, cid)
        late = os.path.join(src, "late")
        os.mkdir(late)
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", late], check=True)
        try:
            with open(os.path.join(late, "f"), "w") as f:
                f.write("propagated\n")
            p = brick("exec", cid, "cat", "/p/late/f", check=False)
            assert p.stdout == "propagated\n", p.stderr
            mi = brick("exec", cid, "grep", " /p ", "/proc/self/mountinfo").stdout
            assert "master:" in mi
        finally:
            subprocess.run(["umount", "-l", late])
    finally:
        subprocess.run(["umount", "-l", src])


def test_mount_idmap_bind(brick, make_bundle):
    src = shared_dir(make_bundle, "idm")
    path = os.path.join(src, "owned")
    with open(path, "w") as f:
        f.write("x")
    os.chown(path, 0, 0)

    def edit(cfg):
        cfg["mounts"].append({"destination": "/idm", "type": "bind", "source": src,
                              "options": ["rbind", "idmap"]})
    # The container's root is a shifted host id: without idmap the file would show as
    # the overflow id 65534; with it, it belongs to root inside.
    p = sh(brick, make_bundle, "stat -c '%u %g' /idm/owned; echo y >> /idm/owned && echo wrote", edit)
    assert p.stdout.split("\n")[:2] == ["0 0", "wrote"]
    assert os.stat(path).st_uid == 0
    plain = sh(brick, make_bundle, "stat -c '%u' /idm/owned", lambda c: c["mounts"].append(
        {"destination": "/idm", "type": "bind", "source": src, "options": ["rbind"]}))
    assert plain.stdout.strip() == "65534"


def test_mount_of_a_file(brick, make_bundle):
    d = shared_dir(make_bundle, "file")
    src = os.path.join(d, "hosts")
    with open(src, "w") as f:
        f.write("127.0.0.1 from-host\n")
    os.chmod(src, 0o644)

    def edit(cfg):
        cfg["mounts"].append({"destination": "/etc/hosts", "type": "bind", "source": src,
                              "options": ["bind", "ro"]})
    p = sh(brick, make_bundle, "cat /etc/hosts; test -f /etc/hosts && echo is-file", edit)
    assert p.stdout == "127.0.0.1 from-host\nis-file\n"


def test_mount_symlink_escape_stays_in_rootfs(brick, make_bundle, tmp_path):
    outside = tmp_path / "victim"
    outside.mkdir()

    def edit(cfg):
        cfg["mounts"].append({"destination": "/evil/x", "type": "tmpfs", "source": "tmpfs",
                              "options": ["size=1m"]})
    b = make_bundle(args=["true"], edit=edit)
    os.symlink(str(outside), os.path.join(b, "rootfs", "evil"))
    cid = brick.new_id()
    brick("run", "--bundle", b, cid, check=False)
    assert not (outside / "x").exists()
    assert_gone(brick, cid)


# ---- hostname / domainname / annotations --------------------------------------------

def test_hostname_domainname(brick, make_bundle):
    p = sh(brick, make_bundle, "hostname; cat /proc/sys/kernel/domainname",
           lambda c: c.update(hostname="box1", domainname="example.test"))
    assert p.stdout == "box1\nexample.test\n"


def test_hostname_without_uts_namespace_fails(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: drop_ns(c, "uts"))
    cid, p = create(brick, b, check=False)
    assert p.returncode != 0 and "hostname" in p.stderr
    assert_gone(brick, cid)


def test_annotations_in_state(brick, make_bundle):
    b = make_bundle(args=SLEEP, edit=lambda c: c["annotations"].update(
        {"org.example.team": "runtime", "io.x/y": "z"}))
    cid, _ = create(brick, b)
    ann = state(brick, cid)["annotations"]
    assert ann["org.example.team"] == "runtime" and ann["io.x/y"] == "z"


# ---- hooks --------------------------------------------------------------------------

def test_all_hooks_receive_state(brick, make_bundle, request):
    rec = tempfile.mkdtemp(prefix="brt-rec-", dir="/var/tmp")
    os.chmod(rec, 0o777)
    request.addfinalizer(lambda: subprocess.run(["rm", "-rf", rec]))
    kinds = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
             "poststop"]
    # Outside /tmp: see test_create_container_hook_under_tmp
    hook_dir = tempfile.mkdtemp(prefix="brt-hook-", dir="/var/tmp")
    os.chmod(hook_dir, 0o755)
    request.addfinalizer(lambda: subprocess.run(["rm", "-rf", hook_dir]))
    script = write_hook(os.path.join(hook_dir, "record.sh"),
                        'cat > "$OUT/$1.json"; echo "$1 $(date +%s%N)" >> "$OUT/order"')

    def edit(cfg):
        cfg["hooks"] = {k: [{"path": script, "args": ["record.sh", k], "env": [f"OUT={rec}",
                                                                              "PATH=/bin:/usr/bin"]}]
                        for k in kinds}
        # createContainer and startContainer run in the container's namespaces, after
        # the root is set up: the hook path must exist there too.
        host_ids(cfg)
        cfg["mounts"] += [{"destination": hook_dir, "type": "bind", "source": hook_dir,
                           "options": ["rbind", "ro"]},
                          {"destination": rec, "type": "bind", "source": rec,
                           "options": ["rbind", "rw"]}]
        cfg["root"]["readonly"] = False
    b = make_bundle(args=["true"], edit=edit)
    bb = os.path.join(b, "rootfs", "bin")
    for tool in ("date",):
        if not os.path.lexists(os.path.join(bb, tool)):
            os.symlink("busybox", os.path.join(bb, tool))
    cid = brick.new_id()
    bg(brick, "create", "--bundle", b, cid)
    brick("start", cid)
    wait_status(brick, cid, "stopped")
    brick("delete", cid)
    assert_gone(brick, cid)
    order = [line.split()[0] for line in open(os.path.join(rec, "order")).read().splitlines()]
    assert order == kinds
    for k in kinds:
        st = json.load(open(os.path.join(rec, f"{k}.json")))
        assert st["id"] == cid, k
        assert st["ociVersion"] == "1.3.0"
        assert os.path.realpath(st["bundle"]) == os.path.realpath(b)
        assert "status" in st
    assert json.load(open(os.path.join(rec, "poststop.json")))["status"] == "stopped"
    # runtime-spec says "creating"; crun and the runtime-tools suite use "created"
    cr = json.load(open(os.path.join(rec, "createRuntime.json")))
    assert cr["status"] in ("creating", "created") and cr["pid"] > 0
    assert json.load(open(os.path.join(rec, "poststart.json")))["status"] == "running"


def test_hook_timeout_kills_slow_hook_and_fails_create(brick, make_bundle):
    d = shared_dir(make_bundle, "slow")
    marker = os.path.join(d, "pid")
    script = write_hook(os.path.join(d, "slow.sh"), f'echo $$ > {marker}; exec sleep 100')
    b = make_bundle(args=["true"], edit=lambda c: c.update(
        hooks={"createRuntime": [{"path": script, "timeout": 1}]}))
    cid = brick.new_id()
    t0 = time.monotonic()
    p = bg(brick, "create", "--bundle", b, cid, check=False)
    assert time.monotonic() - t0 < 10
    assert p.returncode != 0 and "timed out" in p.stderr and "createRuntime" in p.stderr
    hook_pid = int(open(marker).read())
    assert not pid_alive(hook_pid)
    assert_gone(brick, cid)


def test_create_container_hook_under_tmp(brick, make_bundle):
    d = shared_dir(make_bundle, "cch")
    script = write_hook(os.path.join(d, "h.sh"), "exit 0")
    b = make_bundle(args=["true"], edit=lambda c: c.update(
        hooks={"createContainer": [{"path": script}]}))
    run(brick, b)


def test_hook_env_and_args(brick, make_bundle):
    d = shared_dir(make_bundle, "env")
    script = write_hook(os.path.join(d, "env.sh"), f'echo "$0|$1|$FOO" > {d}/seen')
    b = make_bundle(args=["true"], edit=lambda c: c.update(
        hooks={"prestart": [{"path": script, "args": ["my-hook", "arg1"], "env": ["FOO=bar"]}]}))
    run(brick, b)
    assert open(os.path.join(d, "seen")).read().strip().endswith("|arg1|bar")


# ---- namespaces ---------------------------------------------------------------------

NS_TYPES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
            "cgroup": "cgroup", "user": "user"}


@pytest.mark.parametrize("ns", sorted(NS_TYPES))
def test_each_namespace_is_new(brick, make_bundle, ns):
    link = NS_TYPES[ns]
    p = sh(brick, make_bundle, f"readlink /proc/self/ns/{link}")
    assert p.stdout.strip() != os.readlink(f"/proc/self/ns/{link}")


@pytest.mark.parametrize("ns", ["network", "ipc", "uts", "cgroup"])
def test_namespace_absent_shares_host(brick, make_bundle, ns):
    link = NS_TYPES[ns]

    def edit(cfg):
        drop_ns(cfg, ns)
        if ns == "ipc":  # mqueue belongs to the ipc namespace's owner
            cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] != "/dev/mqueue"]
        if ns == "uts":
            cfg.pop("hostname", None)
    p = sh(brick, make_bundle, f"readlink /proc/self/ns/{link}", edit)
    assert p.stdout.strip() == os.readlink(f"/proc/self/ns/{link}")


def test_time_namespace_offsets(brick, make_bundle):
    def edit(cfg):
        cfg["linux"]["namespaces"].append({"type": "time"})
        cfg["linux"]["timeOffsets"] = {"boottime": {"secs": 86400 * 400, "nanosecs": 0},
                                       "monotonic": {"secs": 86400 * 500, "nanosecs": 0}}
    p = sh(brick, make_bundle, "cat /proc/uptime", edit)
    up = float(p.stdout.split()[0])
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    assert abs(up - host - 86400 * 400) < 60


def test_join_netns_by_path(brick, make_bundle):
    name = "brt-" + uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        ino = os.stat(f"/var/run/netns/{name}").st_ino

        def edit(cfg):
            for n in cfg["linux"]["namespaces"]:
                if n["type"] == "network":
                    n["path"] = f"/var/run/netns/{name}"
            host_ids(cfg)
        p = sh(brick, make_bundle, "readlink /proc/self/ns/net", edit)
        assert p.stdout.strip() == f"net:[{ino}]"
    finally:
        subprocess.run(["ip", "netns", "del", name])


def test_join_other_containers_namespaces(brick, make_bundle):
    b1 = make_bundle(args=SLEEP, edit=host_ids)
    first = brick.new_id()
    bg(brick, "run", "-d", "--bundle", b1, first)
    pid = state(brick, first)["pid"]

    def edit(cfg):
        # joining the first container's user namespace too: its ipc namespace is owned by it
        cfg["annotations"].pop("run.oci.brick.userns", None)
        for n in cfg["linux"]["namespaces"]:
            if n["type"] in ("network", "ipc", "user"):
                n["path"] = f"/proc/{pid}/ns/{NS_TYPES[n['type']]}"
    p = sh(brick, make_bundle, "for n in net ipc user; do readlink /proc/self/ns/$n; done", edit)
    assert p.stdout.split() == [os.readlink(f"/proc/{pid}/ns/{n}") for n in ("net", "ipc", "user")]


def test_uid_gid_mappings_explicit(brick, make_bundle):
    def edit(cfg):
        cfg["annotations"].pop("run.oci.brick.userns", None)
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 70000}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 400000, "size": 70000}]
    p = sh(brick, make_bundle, "cat /proc/self/uid_map /proc/self/gid_map", edit)
    rows = [line.split() for line in p.stdout.splitlines()]
    assert rows == [["0", "300000", "70000"], ["0", "400000", "70000"]]


def test_default_auto_ranges_are_distinct(brick, make_bundle):
    a = make_bundle(args=SLEEP)
    b = make_bundle(args=SLEEP)
    ia, ib = brick.new_id(), brick.new_id()
    bg(brick, "run", "-d", "--bundle", a, ia)
    bg(brick, "run", "-d", "--bundle", b, ib)
    maps = []
    for cid in (ia, ib):
        pid = state(brick, cid)["pid"]
        with open(f"/proc/{pid}/uid_map") as f:
            c, h, n = (int(x) for x in f.read().split())
        assert c == 0 and h > 0 and n >= 65536
        maps.append((h, h + n))
    (s1, e1), (s2, e2) = maps
    assert e1 <= s2 or e2 <= s1, maps


def test_user_without_mappings_rejected(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["annotations"].pop("run.oci.brick.userns"))
    cid, p = create(brick, b, check=False)
    assert p.returncode != 0 and "uidMappings" in p.stderr
    assert_gone(brick, cid)


# ---- devices / resources / sysctl ---------------------------------------------------

def test_device_node_created_with_mode(brick, make_bundle):
    # without a user namespace the node is made with mknod (in one it is bind-mounted
    # from the host's node of the same path)
    def edit(cfg):
        drop_ns(cfg, "user")
        cfg["annotations"].pop("run.oci.brick.userns", None)
        cfg["linux"]["devices"].append({"path": "/dev/mynull", "type": "c", "major": 1,
                                        "minor": 3, "fileMode": 0o620, "uid": 0, "gid": 5})
    p = sh(brick, make_bundle, "stat -c '%t:%T %a %F %g' /dev/mynull; echo hi > /dev/mynull && echo ok",
           edit)
    first, second = p.stdout.splitlines()[:2]
    assert first.split()[0] == "1:3" and first.split()[1] == "620"
    assert "character" in first and first.split()[-1] == "5"
    assert second == "ok"


def test_device_cgroup_denies_unlisted(brick, make_bundle):
    # /dev/mem (1:1) is not in the allowlist: even with mknod the cgroup refuses it
    def edit(cfg):
        cfg["linux"]["devices"].append({"path": "/dev/hostmem", "type": "c", "major": 1,
                                        "minor": 1, "fileMode": 0o600})
        cfg["linux"]["resources"]["devices"] = [{"allow": False, "access": "rwm"}]
    b = make_bundle(args=["sh", "-c", "head -c1 /dev/hostmem >/dev/null && echo READ || echo denied"],
                    edit=edit)
    cid = brick.new_id()
    p = brick("run", "--bundle", b, cid, check=False)
    assert "READ" not in p.stdout


def test_resources_memory_and_pids(brick, make_bundle):
    def edit(cfg):
        cfg["linux"]["resources"]["memory"] = {"limit": 96 * 1024 * 1024}
        cfg["linux"]["resources"]["pids"] = {"limit": 33}
    b = make_bundle(args=SLEEP, edit=edit)
    cid, _ = create(brick, b)
    mem = cgroup_file(cid, "memory", "memory.limit_in_bytes") or cgroup_file(cid, "memory", "memory.max")
    assert int(open(mem).read()) == 96 * 1024 * 1024
    assert open(cgroup_file(cid, "pids", "pids.max")).read().strip() == "33"


def test_pids_limit_enforced(brick, make_bundle):
    p = sh(brick, make_bundle, "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; echo started",
           lambda c: c["linux"]["resources"].update(pids={"limit": 4}), check=False)
    assert "can't fork" in p.stderr or "Resource temporarily unavailable" in p.stderr or \
        "fork" in p.stderr.lower()


def test_sysctl_in_new_netns(brick, make_bundle):
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host_before = f.read()
    p = sh(brick, make_bundle, "cat /proc/sys/net/ipv4/ip_forward",
           lambda c: c["linux"].update(sysctl={"net.ipv4.ip_forward": "1"}))
    assert p.stdout.strip() == "1"
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == host_before


def test_sysctl_net_without_netns_refused(brick, make_bundle):
    def edit(cfg):
        drop_ns(cfg, "network")
        cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    b = make_bundle(args=["true"], edit=edit)
    cid, p = create(brick, b, check=False)
    assert p.returncode != 0 and "sysctl" in p.stderr
    assert_gone(brick, cid)


# ---- masked / readonly paths ---------------------------------------------------------

def test_masked_and_readonly_paths(brick, make_bundle):
    p = sh(brick, make_bundle, "wc -c < /proc/timer_list; ls /sys/firmware | wc -l;"
                               " echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo ro-denied;"
                               " echo x > /proc/sysrq-trigger 2>/dev/null || echo sysrq-denied",
           check=False)
    lines = p.stdout.split()
    assert lines[:4] == ["0", "0", "ro-denied", "sysrq-denied"]


def test_masked_path_custom(brick, make_bundle):
    def edit(cfg):
        cfg["linux"]["maskedPaths"] = ["/etc/group", "/root"]
    p = sh(brick, make_bundle, "wc -c < /etc/group; ls -A /root | wc -l", edit)
    assert p.stdout.split() == ["0", "0"]


def test_readonly_path_custom(brick, make_bundle):
    def edit(cfg):
        cfg["root"]["readonly"] = False
        cfg["linux"]["readonlyPaths"] = ["/etc"]
    p = sh(brick, make_bundle, "touch /etc/new 2>/dev/null || echo etc-ro; touch /root/x && echo root-rw",
           edit)
    assert p.stdout.split() == ["etc-ro", "root-rw"]


# ---- seccomp / personality / labels --------------------------------------------------

def test_seccomp_profile_blocks_mkdir(brick, make_bundle):
    def edit(cfg):
        cfg["root"]["readonly"] = False
        cfg["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    p = sh(brick, make_bundle, "mkdir /tmp/d 2>&1; echo rc=$?", edit, check=False)
    assert "Operation not permitted" in p.stdout and "rc=1" in p.stdout
    ok = sh(brick, make_bundle, "mkdir /tmp/d && echo made", lambda c: c["linux"].pop("seccomp"))
    assert ok.stdout == "made\n"


def test_default_seccomp_blocks_unshare(brick, make_bundle):
    def caps(cfg):
        # give the capability so that only seccomp can be what refuses
        for k in ("bounding", "effective", "permitted"):
            cfg["process"]["capabilities"][k].append("CAP_SYS_ADMIN")
    p = sh(brick, make_bundle, "unshare -U true 2>&1; echo rc=$?", caps, check=False)
    assert "rc=0" not in p.stdout and "not permitted" in p.stdout
    off = sh(brick, make_bundle, "unshare -U true; echo rc=$?",
             lambda c: (caps(c), c["linux"].pop("seccomp")), check=False)
    assert "rc=0" in off.stdout


def test_personality_linux32(brick, make_bundle):
    p = sh(brick, make_bundle, "uname -m", lambda c: c["linux"].update(
        personality={"domain": "LINUX32"}))
    assert p.stdout.strip() == "i686"
    assert sh(brick, make_bundle, "uname -m").stdout.strip() == "x86_64"


def test_selinux_labels_ignored_with_warning(brick, make_bundle):
    def edit(cfg):
        cfg["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
        cfg["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    b = make_bundle(args=["echo", "ran"], edit=edit)
    cid = brick.new_id()
    p = brick("run", "--bundle", b, cid)
    assert p.stdout == "ran\n"
    assert "SELinux" in p.stderr and "ignored" in p.stderr
