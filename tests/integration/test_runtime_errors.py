"""Bad input and wrong-state requests: each gets a clear error naming what is wrong,
and a failed create leaves nothing behind (no state dir, cgroup or process) — including
a create killed with SIGKILL half-way, which `delete --force` must clean up."""
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BRICK, cgroup_leftovers
from runtime_helpers import (assert_gone, bg, create, pid_alive, run, state,
                             traversable_bundle_factory, wait_dead, wait_status, write_hook)

SLEEP = ["sleep", "1000"]


@pytest.fixture
def make_bundle(brick, request):
    return traversable_bundle_factory(brick, request)


def running(brick, make_bundle):
    b = make_bundle(args=SLEEP)
    cid = brick.new_id()
    bg(brick, "run", "-d", "--bundle", b, cid)
    return cid, wait_status(brick, cid, "running")["pid"]


def create_fails(brick, bundle, *needles):
    cid, p = create(brick, bundle, check=False)
    assert p.returncode != 0, p.stdout
    for n in needles:
        assert n in p.stderr, (n, p.stderr)
    assert "Traceback" not in p.stderr and "Segmentation" not in p.stderr
    assert_gone(brick, cid)
    return p


# ---- config errors ------------------------------------------------------------------

def test_bad_json_names_file_and_line(brick, make_bundle):
    b = make_bundle(args=["true"])
    path = os.path.join(b, "config.json")
    with open(path, "w") as f:
        f.write('{\n  "ociVersion": "1.3.0",\n  "process": {,\n}\n')
    p = create_fails(brick, b, "config.json")
    assert "line 3" in p.stderr


def test_missing_config(brick, make_bundle):
    b = make_bundle(args=["true"])
    os.unlink(os.path.join(b, "config.json"))
    create_fails(brick, b, "config.json")


def test_missing_bundle_dir(brick):
    cid = brick.new_id()
    p = bg(brick, "create", "--bundle", "/nonexistent/bundle-x", cid, check=False)
    assert p.returncode != 0 and "/nonexistent/bundle-x" in p.stderr
    assert_gone(brick, cid)


def test_missing_rootfs(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["root"].update(path="no-such-rootfs"))
    create_fails(brick, b, "root.path", "no-such-rootfs")


def test_bad_mount_option(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["mounts"].append(
        {"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["size=banana"]}))
    create_fails(brick, b, "mounts[8]", "/x")


def test_bad_mount_propagation_flag_word(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["mounts"].append(
        {"destination": "/x", "type": "bind", "source": "/tmp", "options": ["rbind", "rsharedd"]}))
    create_fails(brick, b, "mounts[8]")


def test_mount_relative_destination_is_under_root(brick, make_bundle):
    # runtime-spec: deprecated, but MUST be taken as relative to "/"
    b = make_bundle(args=["sh", "-c", "grep -c ' /rel/path ' /proc/self/mountinfo"],
                    edit=lambda c: c["mounts"].append(
                        {"destination": "rel/path", "type": "tmpfs", "source": "tmpfs"}))
    assert run(brick, b).stdout.strip() == "1"


def test_mount_destination_escape_is_contained(brick, make_bundle):
    b = make_bundle(args=["sh", "-c", "grep -c ' /escaped ' /proc/self/mountinfo"],
                    edit=lambda c: c["mounts"].append(
                        {"destination": "/../../escaped", "type": "tmpfs", "source": "tmpfs"}))
    cid = brick.new_id()
    p = run(brick, b, cid, check=False)
    assert p.returncode != 0 or p.stdout.strip() == "1"
    assert not os.path.exists("/escaped")


def test_unknown_capability(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["process"]["capabilities"]["bounding"].append(
        "CAP_TELEPORT"))
    create_fails(brick, b, "CAP_TELEPORT", "capabilities")


def test_unknown_namespace(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["linux"]["namespaces"].append({"type": "bogus"}))
    create_fails(brick, b, "bogus", "namespaces")


def test_duplicate_namespace(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["linux"]["namespaces"].append({"type": "pid"}))
    create_fails(brick, b, "pid", "namespaces")


def test_namespace_path_missing(brick, make_bundle):
    def edit(cfg):
        for n in cfg["linux"]["namespaces"]:
            if n["type"] == "network":
                n["path"] = "/var/run/netns/brick-no-such-ns"
    create_fails(brick, make_bundle(args=["true"], edit=edit), "brick-no-such-ns")


def test_unknown_rlimit(brick, make_bundle):
    b = make_bundle(args=["true"], edit=lambda c: c["process"]["rlimits"].append(
        {"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}))
    create_fails(brick, b, "RLIMIT_BOGUS")


def test_empty_args(brick, make_bundle):
    create_fails(brick, make_bundle(args=[]), "process.args")


def test_bad_seccomp_action(brick, make_bundle):
    def edit(cfg):
        cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_EXPLODE"}
    create_fails(brick, make_bundle(args=["true"], edit=edit), "seccomp", "SCMP_ACT_EXPLODE")


def test_unknown_seccomp_syscall_is_not_fatal_or_named(brick, make_bundle):
    def edit(cfg):
        cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["no_such_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]}
    b = make_bundle(args=["true"], edit=edit)
    cid = brick.new_id()
    p = run(brick, b, cid, check=False)
    # runc ignores unknown names; brick may too, but must not crash or leak
    assert p.returncode == 0 or "no_such_syscall_xyz" in p.stderr
    assert_gone(brick, cid)


def test_missing_executable(brick, make_bundle):
    create_fails(brick, make_bundle(args=["nope"]),
                 'exec: "nope": executable file not found in $PATH')


def test_executable_not_executable(brick, make_bundle):
    b = make_bundle(args=["/etc/passwd"])
    create_fails(brick, b, "/etc/passwd")


def test_invalid_container_id(brick, make_bundle):
    b = make_bundle(args=["true"])
    for bad in ("../escape", "a/b", "with space"):
        p = bg(brick, "create", "--bundle", b, bad, check=False)
        assert p.returncode != 0 and "invalid container id" in p.stderr
    assert not os.path.exists(os.path.join(os.path.dirname(brick.root), "escape"))


def test_unknown_flag_is_usage_error(brick):
    p = brick("delete", "--frobnicate", "x", check=False)
    assert p.returncode == 2
    p = brick("kill", check=False)
    assert p.returncode == 2 and "expected" in p.stderr


# ---- state errors -------------------------------------------------------------------

def test_duplicate_id_leaves_first_untouched(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    before = state(brick, cid)
    b2 = make_bundle(args=["true"])
    p = bg(brick, "create", "--bundle", b2, cid, check=False)
    assert p.returncode != 0 and f'container "{cid}" already exists' in p.stderr
    after = state(brick, cid)
    assert after == before and pid_alive(pid)
    assert os.path.exists(os.path.join(brick.root, cid, "state.json"))
    # and it still works
    assert brick("exec", cid, "echo", "alive").stdout == "alive\n"


def test_state_of_missing_container(brick):
    p = brick("state", "ghost-ctr", check=False)
    assert p.returncode != 0 and "ghost-ctr" in p.stderr and "does not exist" in p.stderr


def test_start_running_container_fails(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    p = brick("start", cid, check=False)
    assert p.returncode != 0 and "cannot start a container that is running" in p.stderr
    assert pid_alive(pid)


def test_start_stopped_container_fails(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    brick("kill", cid, "KILL")
    wait_status(brick, cid, "stopped")
    p = brick("start", cid, check=False)
    assert p.returncode != 0 and "stopped" in p.stderr


def test_exec_into_stopped_container_fails(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    brick("kill", cid, "KILL")
    wait_status(brick, cid, "stopped")
    p = brick("exec", cid, "true", check=False)
    assert p.returncode != 0 and "cannot exec in a stopped container" in p.stderr


def test_exec_into_created_container_fails(brick, make_bundle):
    cid, _ = create(brick, make_bundle(args=SLEEP))
    p = brick("exec", cid, "true", check=False)
    assert p.returncode != 0 and "created" in p.stderr


def test_exec_missing_executable(brick, make_bundle):
    cid, _ = running(brick, make_bundle)
    p = brick("exec", cid, "nope", check=False)
    assert p.returncode != 0 and 'exec: "nope": executable file not found in $PATH' in p.stderr


def test_kill_stopped_container_fails(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    brick("kill", cid, "KILL")
    wait_status(brick, cid, "stopped")
    p = brick("kill", cid, "TERM", check=False)
    assert p.returncode != 0 and "container not running" in p.stderr


def test_delete_running_fails_with_runc_message(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    p = brick("delete", cid, check=False)
    assert p.returncode != 0
    assert f"cannot delete container {cid} that is not stopped: running" in p.stderr
    assert pid_alive(pid)


def test_pause_of_stopped_fails(brick, make_bundle):
    cid, pid = running(brick, make_bundle)
    brick("kill", cid, "KILL")
    wait_status(brick, cid, "stopped")
    p = brick("pause", cid, check=False)
    assert p.returncode != 0 and cid in p.stderr + p.stdout or "not running" in p.stderr


# ---- hooks that fail ----------------------------------------------------------------

def hook_dir():
    d = tempfile.mkdtemp(prefix="brt-herr-", dir="/var/tmp")
    os.chmod(d, 0o755)
    return d


def test_failing_create_runtime_hook_leaves_nothing(brick, make_bundle, request):
    d = hook_dir()
    request.addfinalizer(lambda: subprocess.run(["rm", "-rf", d]))
    seen = os.path.join(d, "state.json")
    script = write_hook(os.path.join(d, "fail.sh"), f"cat > {seen}; echo hook-says-no >&2; exit 3")
    b = make_bundle(args=SLEEP, edit=lambda c: c.update(
        hooks={"createRuntime": [{"path": script}]}))
    cid = brick.new_id()
    p = bg(brick, "create", "--bundle", b, cid, check=False)
    assert p.returncode != 0
    assert "hooks.createRuntime[0]" in p.stderr and "status 3" in p.stderr
    init_pid = json.load(open(seen))["pid"]
    assert init_pid > 0
    assert_gone(brick, cid, [init_pid])


def test_sigkill_mid_create_then_delete_force_cleans(brick, make_bundle, request):
    d = hook_dir()
    request.addfinalizer(lambda: subprocess.run(["rm", "-rf", d]))
    seen = os.path.join(d, "state.json")
    hook_pid = os.path.join(d, "hook.pid")
    script = write_hook(os.path.join(d, "slow.sh"),
                        f"echo $$ > {hook_pid}; cat > {seen}.tmp; mv {seen}.tmp {seen}; exec sleep 30")
    b = make_bundle(args=SLEEP, edit=lambda c: c.update(
        hooks={"createRuntime": [{"path": script}]}))
    cid = brick.new_id()
    proc = subprocess.Popen([BRICK, "--root", brick.root, "create", "--bundle", b, cid],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(seen) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.path.exists(seen), "hook never ran"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    init_pid = json.load(open(seen))["pid"]
    # the half-made container is really there (its init may already have seen the
    # sync socket close and exited)
    assert os.path.exists(os.path.join(brick.root, cid))
    assert cgroup_leftovers(cid)
    brick("delete", "--force", cid)
    assert_gone(brick, cid, [init_pid])
    os.kill(int(open(hook_pid).read()), signal.SIGKILL)  # the orphaned hook is ours to end


def test_start_container_hook_failure_stops_container(brick, make_bundle):
    # startContainer runs in the container after start: a failure must not leave a
    # half-started container running
    b = make_bundle(args=SLEEP, edit=lambda c: c.update(
        hooks={"startContainer": [{"path": "/bin/false"}]}))
    cid, _ = create(brick, b)
    pid = state(brick, cid)["pid"]
    brick("start", cid, check=False)
    assert wait_dead(pid)
    assert wait_status(brick, cid, "stopped")
    brick("delete", cid)
    assert_gone(brick, cid)


def test_concurrent_creates_of_one_id(brick, make_bundle):
    # The per-id lock (removed by delete) must still admit exactly one creator.
    from concurrent.futures import ThreadPoolExecutor
    b = make_bundle(args=SLEEP)
    cid = brick.new_id()
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: bg(brick, "create", "--bundle", b, cid, check=False),
                              range(4)))
    ok = [r for r in results if r.returncode == 0]
    assert len(ok) == 1, [r.stderr for r in results]
    for r in results:
        if r.returncode:
            assert f'container "{cid}" already exists' in r.stderr
    assert state(brick, cid)["status"] == "created"
    with ThreadPoolExecutor(3) as ex:
        dels = list(ex.map(lambda _: brick("delete", "--force", cid, check=False), range(3)))
    assert all(d.returncode == 0 for d in dels), [d.stderr for d in dels]
    assert_gone(brick, cid)
