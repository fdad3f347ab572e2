"""brick as containerd's runc binary (io.containerd.runc.v2 shim, `ctr run --runc-binary`).

A private containerd (its own root, state and sockets under /tmp) is started for the
module and killed at teardown. The shim calls brick with `--root <dir>/<namespace> --log
<bundle>/log.json --log-format json` on every verb and uses `ps --format json`,
`kill --all`, `exec --process`, `pause`/`resume` and `delete`. ctr's --runc-binary sets
the runtime option BinaryName, the same field the CRI config's runtime options set.

Only brick's results are asserted; run the file as a script to compare with runc:
    BRICK=build/brick /usr/bin/python3 tests/integration/test_containerd.py [runc-path]

Also here: issue 3.5 against brick directly (a container without its own pid namespace:
pid 1's exit must not leave its children on the host)."""
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from runtime_helpers import procs_with_arg  # noqa: E402
from conftest import BRICK, make_rootfs  # noqa: E402

CONTAINERD = shutil.which("containerd")
CTR = shutil.which("ctr")
IMAGE = "localhost/brick-bb:latest"


def oci_archive(top):
    """An OCI image archive of busybox, from the repo's offline image script."""
    layout = os.path.join(top, "layout")
    script = os.path.join(HERE, "..", "..", "scripts", "make-busybox-image.sh")
    subprocess.run(["sh", script, layout], check=True, capture_output=True)
    tar = os.path.join(top, "image.tar")
    with tarfile.open(tar, "w") as t:
        for entry in sorted(os.listdir(layout)):
            t.add(os.path.join(layout, entry), arcname=entry)
    return tar


class Containerd:
    def __init__(self, top):
        self.top = top
        self.sock = os.path.join(top, "containerd.sock")
        conf = os.path.join(top, "config.toml")
        with open(conf, "w") as f:
            f.write(f'version = 2\nroot = "{top}/root"\nstate = "{top}/state"\n'
                    f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    f'[grpc]\n  address = "{self.sock}"\n'
                    f'[ttrpc]\n  address = "{self.sock}.ttrpc"\n'
                    f'[debug]\n  address = "{top}/debug.sock"\n'
                    f'[plugins."io.containerd.runtime.v1.linux"]\n  shim_debug = false\n')
        self.log = open(os.path.join(top, "containerd.log"), "w")
        self.proc = subprocess.Popen([CONTAINERD, "--config", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        end = time.time() + 20
        while time.time() < end:
            if os.path.exists(self.sock) and self("version").returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("private containerd did not start")

    def __call__(self, *args, input=None, timeout=60, check=False):
        p = subprocess.run([CTR, "--address", self.sock, *args], capture_output=True, text=True,
                           input=input, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} -> {p.returncode}\n{p.stderr}")
        return p

    def tty(self, *args, timeout=60):
        line = " ".join(shlex.quote(a) for a in [CTR, "--address", self.sock, *args])
        return subprocess.run(["script", "-qec", line, "/dev/null"], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def cleanup_all(self):
        tasks = self("task", "ls", "-q").stdout.split()
        for t in tasks:
            self("task", "kill", "-s", "KILL", t)
        for t in tasks:
            self("task", "delete", "-f", t)
        for c in self("container", "ls", "-q").stdout.split():
            self("container", "rm", c)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        for mp in sorted((p for p in points if p.startswith(self.top)), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        shutil.rmtree(self.top, ignore_errors=True)


def setup_containerd():
    top = tempfile.mkdtemp(prefix="brick-ctrd-", dir="/tmp")
    cd = Containerd(top)
    try:
        cd("image", "import", "--base-name", "localhost/brick-bb", oci_archive(top), check=True)
    except Exception:
        cd.stop()
        raise
    return cd


@pytest.fixture(scope="module")
def cd():
    if os.geteuid() != 0:
        pytest.skip("containerd tests run as root")
    if not CONTAINERD or not CTR or not shutil.which("containerd-shim-runc-v2"):
        pytest.skip("containerd not installed (tests/packages/interop.txt)")
    if not os.path.exists(BRICK):
        pytest.skip(f"{BRICK} not built")
    c = setup_containerd()
    yield c
    c.cleanup_all()
    c.stop()


def name():
    return f"bk-{uuid.uuid4().hex[:10]}"


def run(cd, rt, *args, **kw):
    return cd("run", "--runc-binary", rt, *args, **kw)


def task_status(cd, cid):
    for line in cd("task", "ls").stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0] == cid:
            return f[2]
    return None


def wait_task(cd, cid, want, timeout=10):
    end = time.time() + timeout
    st = None
    while time.time() < end:
        st = task_status(cd, cid)
        if st == want:
            return
        time.sleep(0.05)
    raise AssertionError(f"task {cid}: {st}, expected {want}")


def remove(cd, cid):
    cd("task", "kill", "-s", "KILL", cid)
    cd("task", "delete", "-f", cid)
    cd("container", "rm", cid)


# ---- scenarios -------------------------------------------------------------------------------

def sc_run_stdout(cd, rt):
    c = name()
    p = run(cd, rt, "--rm", IMAGE, c, "echo", "hello from brick")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello from brick\n"


def sc_exit_code_42(cd, rt):
    p = run(cd, rt, "--rm", IMAGE, name(), "sh", "-c", "exit 42")
    assert p.returncode == 42, p.stderr


def sc_stdin(cd, rt):
    # ctr never closes the task's stdin, with any runtime: read one line only
    p = run(cd, rt, "--rm", IMAGE, name(), "sh", "-c", "head -n1 | tr a-z A-Z", input="abc\n")
    assert (p.returncode, p.stdout) == (0, "ABC\n"), p.stderr


def sc_tty(cd, rt):
    p = cd.tty("run", "--runc-binary", rt, "--rm", "-t", IMAGE, name(), "sh", "-c",
               "tty; exit 4")
    assert p.returncode == 4 and "/dev/pts/" in p.stdout, (p.stdout, p.stderr)


def sc_command_not_found(cd, rt):
    p = run(cd, rt, "--rm", IMAGE, name(), "/nonexistent")
    assert p.returncode != 0
    assert "/nonexistent" in p.stderr  # brick's JSON log, relayed by the shim


def sc_exec_ps_pause_kill(cd, rt):
    c = name()
    run(cd, rt, "-d", IMAGE, c, "sleep", "1000", check=True)
    wait_task(cd, c, "RUNNING")
    p = cd("task", "exec", "--exec-id", "e1", c, "sh", "-c", "echo in exec; exit 5")
    assert (p.returncode, p.stdout) == (5, "in exec\n"), p.stderr
    p = cd.tty("task", "exec", "-t", "--exec-id", "e2", c, "sh", "-c", "tty; exit 6")
    assert p.returncode == 6 and "/dev/pts/" in p.stdout, (p.stdout, p.stderr)
    # ps goes through `brick ps --format json`
    pids = [line.split()[0] for line in cd("task", "ps", c, check=True).stdout.splitlines()[1:]]
    assert len(pids) == 1 and os.path.exists(f"/proc/{pids[0]}"), pids
    cd("task", "pause", c, check=True)
    wait_task(cd, c, "PAUSED")
    cd("task", "resume", c, check=True)
    wait_task(cd, c, "RUNNING")
    cd("task", "kill", "-s", "KILL", c, check=True)
    wait_task(cd, c, "STOPPED")
    p = cd("task", "delete", c, check=True)
    assert "exit code 137" in p.stderr, p.stderr  # ctr reports the task's exit status
    cd("container", "rm", c, check=True)
    assert not os.path.exists(f"/proc/{pids[0]}")


def sc_kill_term_handler(cd, rt):
    c = name()
    run(cd, rt, "-d", IMAGE, c, "sh", "-c", "trap 'exit 9' TERM; while :; do sleep 0.1; done",
        check=True)
    wait_task(cd, c, "RUNNING")
    time.sleep(0.3)
    cd("task", "kill", c, check=True)  # SIGTERM by default
    wait_task(cd, c, "STOPPED")
    p = cd("task", "delete", c, check=True)
    assert "exit code 9" in p.stderr, p.stderr
    cd("container", "rm", c)


def sc_kill_all(cd, rt):
    c = name()
    run(cd, rt, "-d", IMAGE, c, "sh", "-c", "sleep 1000 & sleep 1000 & wait", check=True)
    wait_task(cd, c, "RUNNING")
    end = time.time() + 5
    while len(cd("task", "ps", c).stdout.splitlines()) < 4 and time.time() < end:
        time.sleep(0.05)
    pids = [int(line.split()[0]) for line in cd("task", "ps", c).stdout.splitlines()[1:]]
    assert len(pids) == 3, pids
    cd("task", "kill", "--all", "-s", "KILL", c, check=True)  # brick kill --all
    wait_task(cd, c, "STOPPED")
    end = time.time() + 5
    while any(os.path.exists(f"/proc/{p}") for p in pids) and time.time() < end:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{p}") for p in pids)
    remove(cd, c)


def sc_read_only_and_caps(cd, rt):
    p = run(cd, rt, "--rm", "--read-only", "--cap-drop", "CAP_CHOWN", IMAGE, name(), "sh", "-c",
            "touch /x 2>/dev/null && echo ROOT-WRITABLE; grep ^CapEff /proc/self/status")
    assert p.returncode == 0, p.stderr
    assert "ROOT-WRITABLE" not in p.stdout
    assert int(p.stdout.split()[-1], 16) & 1 == 0  # CAP_CHOWN is bit 0


def sc_memory_limit(cd, rt):
    c = name()
    run(cd, rt, "-d", "--memory-limit", str(48 << 20), IMAGE, c, "sleep", "1000", check=True)
    wait_task(cd, c, "RUNNING")
    pid = [line.split()[1] for line in cd("task", "ls").stdout.splitlines() if line.startswith(c)][0]
    with open(f"/proc/{pid}/cgroup") as f:
        path = [line.rstrip().split(":", 2)[2] for line in f
                if "memory" in line.split(":")[1].split(",")][0]
    with open(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes") as f:
        assert int(f.read()) == 48 << 20
    remove(cd, c)


def sc_shared_pidns_no_leak(cd, rt):
    """Issue 3.5: joined (host) pid namespace; pid 1 exits, its child must go too."""
    token = f"{8000 + uuid.uuid4().int % 999}.{uuid.uuid4().int % 1000}"
    p = run(cd, rt, "--rm", "--with-ns", f"pid:/proc/{os.getpid()}/ns/pid", IMAGE, name(),
            "sh", "-c", f"sleep {token} & exit 3")
    assert p.returncode == 3, p.stderr
    end = time.time() + 5
    while procs_with_arg(f"sleep\0{token}") and time.time() < end:
        time.sleep(0.05)
    left = procs_with_arg(f"sleep\0{token}")
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"left on the host: {left}"


SCENARIOS = [v for k, v in sorted(globals().items()) if k.startswith("sc_")]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__[3:] for s in SCENARIOS])
def test_containerd(cd, scenario):
    scenario(cd, BRICK)


# ---- issue 3.5 against brick itself -------------------------------------------------------------

def no_pidns_bundle(make_bundle, args):
    def edit(cfg):
        # no pid namespace; no user namespace either, so the bundle under pytest's 0700
        # tmp_path needs no idmapped rootfs reachable from inside
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                      if n["type"] not in ("pid", "user")]
        for k in ("uidMappings", "gidMappings"):
            cfg["linux"].pop(k, None)
        cfg.get("annotations", {}).pop("run.oci.brick.userns", None)
    return make_bundle(args=args, edit=edit)


def test_no_pidns_children_listed_and_killed_after_init_exit(brick, make_bundle):
    """Without a pid namespace, the init's exit leaves its children in the cgroup: `ps`
    must still list them and `kill --all` must reach them (containerd's shim does exactly
    this on init exit), and delete must leave nothing behind."""
    token = f"{9000 + uuid.uuid4().int % 999}.{uuid.uuid4().int % 1000}"
    b = no_pidns_bundle(make_bundle, ["sh", "-c", f"sleep {token} & exit 0"])
    cid = brick.new_id()
    # the container's stdio must not be our pipes: its orphan would hold them open
    with open(os.devnull, "r+b") as null:
        subprocess.run([BRICK, "--root", brick.root, "create", "--bundle", b, cid], check=True,
                       stdin=null, stdout=null, stderr=null, timeout=60)
    brick("start", cid)
    end = time.time() + 5
    while json.loads(brick("state", cid).stdout)["status"] != "stopped" and time.time() < end:
        time.sleep(0.05)
    assert json.loads(brick("state", cid).stdout)["status"] == "stopped"
    orphans = procs_with_arg(f"sleep\0{token}")
    assert len(orphans) == 1
    try:
        assert json.loads(brick("ps", "--format", "json", cid).stdout) == orphans
        brick("kill", "--all", cid, "KILL")
        end = time.time() + 5
        while procs_with_arg(f"sleep\0{token}") and time.time() < end:
            time.sleep(0.05)
        assert not procs_with_arg(f"sleep\0{token}")
        # and kill without --all still says the container is not running
        p = brick("kill", cid, "KILL", check=False)
        assert p.returncode != 0 and "not running" in p.stderr
    finally:
        for pid in procs_with_arg(f"sleep\0{token}"):
            os.kill(pid, signal.SIGKILL)
    brick("delete", cid)


def test_no_pidns_delete_kills_leftovers(brick, make_bundle):
    token = f"{9000 + uuid.uuid4().int % 999}.{uuid.uuid4().int % 1000}"
    b = no_pidns_bundle(make_bundle, ["sh", "-c", f"sleep {token} & exit 0"])
    cid = brick.new_id()
    p = brick("run", "--bundle", b, cid, check=False)  # foreground: waits, then deletes
    assert p.returncode == 0, p.stderr
    left = procs_with_arg(f"sleep\0{token}")
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left


if __name__ == "__main__":
    from runtime_helpers import compare_table
    other = sys.argv[1] if len(sys.argv) > 1 else "/usr/sbin/runc"
    cdi = setup_containerd()
    try:
        compare_table(SCENARIOS, cdi, [BRICK, other])
        cdi.cleanup_all()
    finally:
        cdi.stop()
