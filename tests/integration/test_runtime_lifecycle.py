"""The OCI verbs with runc's flags, as engines call them: create/start/run/state/kill/
delete/list/ps/pause/resume/update/events/spec/features/exec and the global flags.
Every container is checked to leave nothing behind (state dir, cgroups, processes)."""
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BRICK
from runtime_helpers import (bg, ConsoleServer, assert_gone, cgroup_file, create, pid_alive, run,
                             state, status_field, traversable_bundle_factory, wait_dead,
                             wait_status)

SLEEP = ["sleep", "1000"]


@pytest.fixture
def make_bundle(brick, request):
    return traversable_bundle_factory(brick, request)


@pytest.fixture
def short_tmp():
    """Unix socket paths are limited to 108 bytes: pytest's tmp_path can be longer."""
    d = tempfile.mkdtemp(prefix="brt-", dir="/tmp")
    yield d
    subprocess.run(["rm", "-rf", d])


def running(brick, make_bundle, args=SLEEP, edit=None):
    b = make_bundle(args=args, edit=edit)
    cid = brick.new_id()
    bg(brick, "run", "--detach", "--bundle", b, cid)
    st = wait_status(brick, cid, "running")
    return cid, st["pid"]


# ---- create / start / state ---------------------------------------------------------

def test_create_start_state_transitions(brick, make_bundle, tmp_path):
    b = make_bundle(args=SLEEP)
    pidfile = tmp_path / "pid"
    cid, _ = create(brick, b, None, "--pid-file", str(pidfile))
    st = state(brick, cid)
    assert st["status"] == "created"
    assert st["id"] == cid and st["ociVersion"] == "1.3.0"
    assert st["bundle"] == os.path.realpath(b)
    assert st["pid"] > 0 and int(pidfile.read_text()) == st["pid"]
    assert "created" in st and st["owner"] == "root"
    pid = st["pid"]
    brick("start", cid)
    assert state(brick, cid)["status"] == "running"
    # the init now runs the configured command
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"sleep"
    brick("kill", cid, "KILL")
    st = wait_status(brick, cid, "stopped")
    assert st["pid"] == 0
    brick("delete", cid)
    assert_gone(brick, cid, [pid])


def test_created_process_does_not_run_before_start(brick, make_bundle, tmp_path):
    out = tmp_path / "out"
    out.mkdir()

    def edit(cfg):
        cfg["mounts"].append({"destination": "/out", "type": "bind", "source": str(out),
                              "options": ["rbind", "rw"]})
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
        cfg["annotations"].pop("run.oci.brick.userns", None)
    b = make_bundle(args=["sh", "-c", "echo ran > /out/flag"], edit=edit)
    cid, _ = create(brick, b)
    time.sleep(0.3)
    assert not (out / "flag").exists()
    brick("start", cid)
    wait_status(brick, cid, "stopped")
    assert (out / "flag").read_text() == "ran\n"
    brick("delete", cid)
    assert_gone(brick, cid)


def test_create_default_bundle_is_cwd(brick, make_bundle):
    b = make_bundle(args=SLEEP)
    cid = brick.new_id()
    bg(brick, "create", cid, cwd=b)
    assert state(brick, cid)["bundle"] == os.path.realpath(b)
    brick("delete", cid)  # a created container is deleted without --force, as with runc
    assert_gone(brick, cid)


def test_create_console_socket_receives_pty(brick, make_bundle, short_tmp):
    def edit(cfg):
        cfg["process"]["terminal"] = True
        cfg["process"]["consoleSize"] = {"height": 33, "width": 111}
    b = make_bundle(args=["sh", "-c", "test -t 0 && test -t 1 && echo isatty; stty size 2>/dev/null;"
                                      " cat /proc/self/fdinfo/0 >/dev/null && echo done"], edit=edit)
    srv = ConsoleServer(os.path.join(short_tmp, "console.sock"))
    try:
        cid, _ = create(brick, b, None, "--console-socket", srv.path)
        srv.master()
        brick("start", cid)
        out = srv.read_all()
        assert "isatty" in out and "done" in out
        wait_status(brick, cid, "stopped")
        brick("delete", cid)
        assert_gone(brick, cid)
    finally:
        srv.close()


def test_terminal_without_console_socket_fails(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["process"].update(terminal=True))
    cid, p = create(brick, b, check=False)
    assert p.returncode != 0
    assert "console-socket" in p.stderr
    assert_gone(brick, cid)


def test_no_pivot(brick, make_bundle):
    b = make_bundle(args=["sh", "-c", "ls /; cat /proc/self/mountinfo | head -1"])
    p = run(brick, b, None, "--no-pivot")
    assert "bin" in p.stdout.split() and "proc" in p.stdout.split()


def test_no_new_keyring(brick, make_bundle):
    # /proc/keys is masked by default; unmask it to see which session keyring we hold.
    def edit(cfg):
        cfg["linux"]["maskedPaths"].remove("/proc/keys")
    b = make_bundle(args=["sh", "-c", "cat /proc/keys"], edit=edit)
    fresh = run(brick, b).stdout
    assert "_ses" in fresh
    kept = run(brick, b, None, "--no-new-keyring")
    assert kept.returncode == 0
    assert fresh != kept.stdout or "_ses" not in kept.stdout


def brick_with_fds(brick, args, data):
    """Run brick with fds 3 and 4 open on data (set up by a shell, as engines do)."""
    cmd = " ".join(["exec", "3<" + str(data), "4<" + str(data), BRICK, "--root", brick.root, *args])
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=60)


def test_preserve_fds(brick, make_bundle, tmp_path):
    data = tmp_path / "data"
    data.write_text("passed-through\n")
    b = make_bundle(args=["sh", "-c", "cat <&3; cat <&4"])
    p = brick_with_fds(brick, ["run", "--preserve-fds", "2", "--bundle", b, brick.new_id()], data)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "passed-through\npassed-through\n"


def test_without_preserve_fds_extra_fds_are_closed(brick, make_bundle, tmp_path):
    data = tmp_path / "data"
    data.write_text("leak\n")
    b = make_bundle(args=["sh", "-c", "cat <&3"])
    p = brick_with_fds(brick, ["run", "--bundle", b, brick.new_id()], data)
    assert p.returncode != 0
    assert "leak" not in p.stdout


# ---- run ----------------------------------------------------------------------------

def test_run_foreground_exit_status(brick, make_bundle):
    b = make_bundle(args=["sh", "-c", "echo out; echo err >&2; exit 7"])
    cid = brick.new_id()
    p = run(brick, b, cid, check=False)
    assert p.returncode == 7
    assert p.stdout == "out\n" and "err" in p.stderr
    assert_gone(brick, cid)


def test_run_exit_status_on_signal_from_kill(brick, make_bundle):
    b = make_bundle(args=SLEEP)
    cid = brick.new_id()
    proc = subprocess.Popen([BRICK, "--root", brick.root, "run", "--bundle", b, cid],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_status(brick, cid, "running")
        brick("kill", cid, "KILL")
        assert proc.wait(timeout=20) == 128 + signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert_gone(brick, cid)


def test_run_exit_status_on_self_signal(brick, make_bundle):
    # Without a pid namespace sh is not an init, so SIGTERM's default action applies.
    # (proc can only be mounted without a pid namespace outside a user namespace)
    def edit(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                      if n["type"] not in ("pid", "user")]
        cfg["annotations"].pop("run.oci.brick.userns", None)
    b = make_bundle(args=["sh", "-c", "kill -TERM $$; sleep 5"], edit=edit)
    p = run(brick, b, check=False)
    assert p.returncode == 128 + signal.SIGTERM, p.stderr


def test_run_detach(brick, make_bundle):
    b = make_bundle(args=SLEEP)
    cid = brick.new_id()
    t0 = time.monotonic()
    bg(brick, "run", "-d", "--bundle", b, cid)
    assert time.monotonic() - t0 < 10
    st = state(brick, cid)
    assert st["status"] == "running" and pid_alive(st["pid"])
    brick("delete", "--force", cid)
    assert_gone(brick, cid, [st["pid"]])


def test_run_stdin_passthrough(brick, make_bundle):
    b = make_bundle(args=["cat"])
    p = brick("run", "--bundle", b, brick.new_id(), input="via stdin\n")
    assert p.stdout == "via stdin\n"


# ---- kill ---------------------------------------------------------------------------

@pytest.mark.parametrize("sig", ["SIGKILL", "KILL", "9", "kill"])
def test_kill_signal_names(brick, make_bundle, sig):
    cid, pid = running(brick, make_bundle)
    brick("kill", cid, sig)
    assert wait_dead(pid)
    assert wait_status(brick, cid, "stopped")["pid"] == 0
    brick("delete", cid)
    assert_gone(brick, cid, [pid])


def test_kill_default_is_sigterm(brick, make_bundle):
    # a shell that traps TERM proves which signal arrived
    cid, pid = running(brick, make_bundle,
                       args=["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.1; done"])
    brick("kill", cid)
    assert wait_dead(pid)
    brick("delete", cid)
    assert_gone(brick, cid)


def test_kill_unknown_signal(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    p = brick("kill", cid, "SIGNOPE", check=False)
    assert p.returncode != 0 and "unknown signal" in p.stderr
    assert pid_alive(pid)


def test_kill_all(brick, make_bundle):
    cid, pid = running(brick, make_bundle, args=["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = json.loads(brick("ps", "--format", "json", cid).stdout)
        if len(pids) >= 3:
            break
        time.sleep(0.05)
    assert len(pids) >= 3
    brick("kill", "--all", cid, "KILL")
    for p in pids:
        assert wait_dead(p)
    wait_status(brick, cid, "stopped")
    brick("delete", cid)
    assert_gone(brick, cid, pids)


# ---- delete -------------------------------------------------------------------------

@pytest.mark.parametrize("from_state", ["created", "running", "paused", "stopped"])
def test_delete_force_from_every_state(brick, make_bundle, from_state):
    b = make_bundle(args=SLEEP)
    cid, _ = create(brick, b)
    pid = state(brick, cid)["pid"]
    if from_state != "created":
        brick("start", cid)
    if from_state == "paused":
        brick("pause", cid)
    if from_state == "stopped":
        brick("kill", cid, "KILL")
    wait_status(brick, cid, from_state)
    brick("delete", "--force", cid)
    assert_gone(brick, cid, [pid])


def test_delete_running_without_force_fails(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    p = brick("delete", cid, check=False)
    assert p.returncode != 0
    assert f"cannot delete container {cid} that is not stopped: running" in p.stderr
    assert state(brick, cid)["status"] == "running" and pid_alive(pid)
    brick("delete", "-f", cid)
    assert_gone(brick, cid, [pid])


def test_delete_force_of_missing_container_succeeds(brick):
    assert brick("delete", "--force", "never-created-x").returncode == 0
    p = brick("delete", "never-created-x", check=False)
    assert p.returncode != 0 and "never-created-x" in p.stderr


# ---- list / ps ----------------------------------------------------------------------

def test_list_formats(brick, make_bundle):
    assert json.loads(brick("list", "--format", "json").stdout) in ([], None)
    a, pa = running(brick, make_bundle)
    b = make_bundle(args=SLEEP)
    c, _ = create(brick, b)
    table = brick("list").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "PID", "STATUS"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows[a][1] == str(pa) and rows[a][2] == "running"
    assert rows[c][2] == "created"
    js = {e["id"]: e for e in json.loads(brick("list", "--format", "json").stdout)}
    assert js[a]["status"] == "running" and js[a]["pid"] == pa
    assert js[c]["status"] == "created"
    assert sorted(brick("list", "-q").stdout.split()) == sorted([a, c])
    p = brick("list", "--format", "yaml", check=False)
    assert p.returncode != 0 and "--format" in p.stderr


def test_ps_formats(brick, make_bundle):
    cid, pid = running(brick, make_bundle, args=["sh", "-c", "sleep 1000 & wait"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = json.loads(brick("ps", "--format", "json", cid).stdout)
        if len(pids) == 2:
            break
        time.sleep(0.05)
    assert pid in pids and len(pids) == 2
    table = brick("ps", cid).stdout.splitlines()
    assert "PID" in table[0].split()
    assert any(str(pid) in line.split() for line in table[1:])
    assert any("sleep 1000" in line for line in table[1:])
    assert len(table) == 3


# ---- pause / resume -----------------------------------------------------------------

def test_pause_resume(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    brick("pause", cid)
    assert state(brick, cid)["status"] == "paused"
    with open(f"/proc/{pid}/status") as f:
        # a frozen task sleeps in the freezer (D or S state, never R)
        assert status_field(f.read(), "State")[0] in "DS"
    p = brick("start", cid, check=False)
    assert p.returncode != 0
    brick("resume", cid)
    assert state(brick, cid)["status"] == "running"
    brick("delete", "-f", cid)
    assert_gone(brick, cid, [pid])


# ---- update / events ----------------------------------------------------------------

def test_update_resources_file(brick, make_bundle, tmp_path):
    cid, _ = running(brick, make_bundle)
    res = tmp_path / "res.json"
    res.write_text(json.dumps({"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 77}}))
    brick("update", "--resources", str(res), cid)
    mem = cgroup_file(cid, "memory", "memory.limit_in_bytes") or cgroup_file(cid, "memory", "memory.max")
    assert mem and int(open(mem).read()) == 64 * 1024 * 1024
    pids = cgroup_file(cid, "pids", "pids.max")
    assert pids and open(pids).read().strip() == "77"


def test_update_flags(brick, make_bundle):
    cid, _ = running(brick, make_bundle)
    brick("update", "--memory", "50331648", "--pids-limit", "99", "--cpu-quota", "20000",
          "--cpu-period", "100000", cid)
    mem = cgroup_file(cid, "memory", "memory.limit_in_bytes") or cgroup_file(cid, "memory", "memory.max")
    assert int(open(mem).read()) == 50331648
    assert open(cgroup_file(cid, "pids", "pids.max")).read().strip() == "99"
    quota = cgroup_file(cid, "cpu", "cpu.cfs_quota_us")
    if quota:
        assert open(quota).read().strip() == "20000"
    else:
        assert open(cgroup_file(cid, "cpu", "cpu.max")).read().split() == ["20000", "100000"]


def test_update_of_missing_container_fails(brick, tmp_path):
    p = brick("update", "--pids-limit", "5", "nope-missing", check=False)
    assert p.returncode != 0 and "nope-missing" in p.stderr


def test_events_stats(brick, make_bundle):
    cid, _ = running(brick, make_bundle)
    p = brick("events", "--stats", cid)
    ev = json.loads(p.stdout.splitlines()[0])
    assert ev["type"] == "stats" and ev["id"] == cid
    assert ev["data"]["pids"]["current"] >= 1
    assert ev["data"]["memory"]["usage"]["usage"] > 0
    assert ev["data"]["cpu"]["usage"]["total"] > 0


# ---- spec / features ----------------------------------------------------------------

def test_spec_bundle_and_refuses_overwrite(brick, tmp_path):
    brick("spec", "--bundle", str(tmp_path))
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["ociVersion"].startswith("1.") and cfg["root"]["readonly"] is True
    assert cfg["process"]["noNewPrivileges"] is True
    assert "seccomp" in cfg["linux"]
    assert {n["type"] for n in cfg["linux"]["namespaces"]} >= {"pid", "mount", "user", "network"}
    before = (tmp_path / "config.json").read_text()
    p = brick("spec", "--bundle", str(tmp_path), check=False)
    assert p.returncode != 0 and "already exists" in p.stderr
    assert (tmp_path / "config.json").read_text() == before


def test_spec_default_bundle_is_cwd(brick, tmp_path):
    brick("spec", cwd=str(tmp_path))
    assert (tmp_path / "config.json").exists()


def test_spec_rootless(brick, tmp_path):
    brick("spec", "--rootless", "--bundle", str(tmp_path))
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": os.getuid(), "size": 1}]
    assert cfg["linux"]["gidMappings"] == [{"containerID": 0, "hostID": os.getgid(), "size": 1}]
    assert "gid=5" not in ",".join(m for mt in cfg["mounts"] for m in mt.get("options", []))


def test_features(brick):
    f = json.loads(brick("features").stdout)
    assert f["ociVersionMax"] == "1.3.0"
    assert f["ociVersionMin"].startswith("1.0")
    sc = f["linux"]["seccomp"]
    assert sc["enabled"] is True
    assert "SCMP_ARCH_X86_64" in sc["archs"]
    assert "SECCOMP_FILTER_FLAG_TSYNC" in sc.get("supportedFlags", sc.get("knownFlags", []))
    assert "SCMP_ACT_ERRNO" in sc["actions"]
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer", "startContainer",
                               "poststart", "poststop"}
    assert {"pid", "user", "time"} <= set(f["linux"]["namespaces"])
    assert "rro" in f["mountOptions"]


# ---- exec ---------------------------------------------------------------------------

def test_exec_args_and_exit_status(brick, make_bundle):
    cid, _ = running(brick, make_bundle)
    assert brick("exec", cid, "echo", "hello", "world").stdout == "hello world\n"
    p = brick("exec", cid, "sh", "-c", "exit 5", check=False)
    assert p.returncode == 5


def test_exec_env_cwd_user(brick, make_bundle):
    cid, _ = running(brick, make_bundle)
    p = brick("exec", "--env", "FOO=bar", "-e", "BAZ=qux", "--cwd", "/tmp", cid,
              "sh", "-c", "echo $FOO $BAZ; pwd")
    assert p.stdout == "bar qux\n/tmp\n"
    p = brick("exec", "--user", "1000:1001", cid, "id")
    assert "uid=1000" in p.stdout and "gid=1001" in p.stdout
    p = brick("exec", "-u", "1000:1001", "-g", "2000", cid, "id", "-G")
    assert "2000" in p.stdout.split()


def test_exec_cap(brick, make_bundle):
    cid, _ = running(brick, make_bundle)
    base = int(status_field(brick("exec", cid, "cat", "/proc/self/status").stdout, "CapEff"), 16)
    assert not base & (1 << 12)  # CAP_NET_ADMIN is not a default
    p = brick("exec", "--cap", "CAP_NET_ADMIN", cid, "cat", "/proc/self/status")
    assert int(status_field(p.stdout, "CapEff"), 16) & (1 << 12)


def test_exec_process_file(brick, make_bundle, tmp_path):
    cid, _ = running(brick, make_bundle)
    proc = {"args": ["sh", "-c", "echo $X; id -u; pwd"], "env": ["X=from-file", "PATH=/bin"],
            "cwd": "/dev", "user": {"uid": 123, "gid": 456}}
    pf = tmp_path / "process.json"
    pf.write_text(json.dumps(proc))
    p = brick("exec", "--process", str(pf), cid)
    assert p.stdout == "from-file\n123\n/dev\n"


def test_exec_detach_pid_file(brick, make_bundle, tmp_path):
    cid, _ = running(brick, make_bundle)
    pidfile = tmp_path / "exec.pid"
    bg(brick, "exec", "-d", "--pid-file", str(pidfile), cid, "sleep", "1000")
    pid = int(pidfile.read_text())
    assert pid_alive(pid)
    assert pid in json.loads(brick("ps", "--format", "json", cid).stdout)
    brick("delete", "-f", cid)
    assert_gone(brick, cid, [pid])


def test_exec_tty_console_socket(brick, make_bundle, short_tmp):
    cid, _ = running(brick, make_bundle)
    srv = ConsoleServer(os.path.join(short_tmp, "exec.sock"))
    try:
        p = brick("exec", "-t", "--console-socket", srv.path, cid, "sh", "-c",
                  "test -t 1 && echo tty-ok; exit 3", check=False)
        assert p.returncode == 3, p.stderr
        assert "tty-ok" in srv.read_all(timeout=3)
    finally:
        srv.close()


def test_exec_sees_container_namespaces(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    mine = brick("exec", cid, "sh", "-c", "for n in pid mnt user; do readlink /proc/self/ns/$n;"
                 " done").stdout.split()
    theirs = [os.readlink(f"/proc/{pid}/ns/{n}") for n in ("pid", "mnt", "user")]
    assert mine == theirs
    assert brick("exec", cid, "hostname").stdout.strip() == "brick"


# ---- help / version / logs ----------------------------------------------------------

def test_help_and_version(brick):
    v = brick("--version").stdout
    assert "brick version" in v and "1.3.0" in v
    h = brick("--help").stdout
    for verb in ("create", "start", "run", "exec", "state", "kill", "delete", "list", "ps",
                 "pause", "resume", "update", "events", "spec", "features"):
        assert verb in h
        assert brick(verb, "--help").returncode == 0


def test_unknown_verb(brick):
    p = brick("frobnicate", check=False)
    assert p.returncode == 2 and "unknown command" in p.stderr


def test_log_json(brick, tmp_path):
    log = tmp_path / "log.json"
    p = brick("--log", str(log), "--log-format", "json", "state", "no-such-ctr", check=False)
    assert p.returncode != 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    errs = [line for line in lines if line["level"] == "error"]
    assert errs and "no-such-ctr" in errs[-1]["msg"] and "time" in errs[-1]


def test_log_text(brick, tmp_path):
    log = tmp_path / "log.txt"
    p = brick("--log", str(log), "state", "no-such-ctr", check=False)
    assert p.returncode != 0
    assert "no-such-ctr" in log.read_text()


def test_bad_log_format(brick):
    p = brick("--log-format", "xml", "list", check=False)
    assert p.returncode == 2 and "log-format" in p.stderr


def test_exec_process_is_in_container_cgroup(brick, make_bundle, tmp_path):
    # The exec'd process must never run outside the container's limits, not even briefly.
    cid, _ = running(brick, make_bundle)
    for i in range(5):
        pidfile = tmp_path / f"p{i}"
        bg(brick, "exec", "-d", "--pid-file", str(pidfile), cid, "sleep", "1000")
        pid = int(pidfile.read_text())
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
        pids_line = [line for line in lines if ":pids:" in line]
        assert pids_line and pids_line[0].endswith(f"/brick/{cid}"), lines
        assert pid in json.loads(brick("ps", "--format", "json", cid).stdout)
