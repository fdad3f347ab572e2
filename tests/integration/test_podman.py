"""brick as podman's OCI runtime (`podman --runtime /path/to/brick`).

podman 4.3 + conmon drive brick the way they drive crun and runc: create with a pid file
(and a console socket for -t), start, kill ID SIGNUM, exec --process --detach, pause,
resume, update --resources, delete --force, with --log-format=json once "brick" is in
runtime_supports_json. Each test uses a private podman store (graphroot, runroot,
containers.conf, storage.conf) under /tmp, so nothing touches the host's podman.

Only brick's results are asserted. To compare with runc (crun refuses this hybrid-cgroup
host), run the file as a script:
    BRICK=build/brick /usr/bin/python3 tests/integration/test_podman.py [runc-path]
which runs every scenario with both runtimes and prints a table."""
import os
import shutil
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

PODMAN = shutil.which("podman")
IMAGE = "localhost/brick-bb:latest"


def hard_limit(kind):
    with open("/proc/self/limits") as f:
        for line in f:
            if line.startswith(kind):
                return line.split()[-2]  # Limit, Soft, Hard, Units: the hard limit
    return "4096"


class Podman:
    """A private podman installation: its own store, config and temporary files."""

    def __init__(self, top):
        self.top = top
        for d in ("graph", "run", "tmp"):
            os.makedirs(os.path.join(top, d), exist_ok=True)
        nofile = hard_limit("Max open files")
        # podman as root asks for RLIMIT_NOFILE/NPROC far above this machine's hard
        # limits (the bounding set lacks CAP_SYS_RESOURCE), so every runtime would fail;
        # nproc stays under what conmon itself runs with.
        conf = os.path.join(top, "containers.conf")
        with open(conf, "w") as f:
            f.write(f'[containers]\ndefault_ulimits = ["nofile={nofile}:{nofile}", '
                    f'"nproc=4096:4096"]\nnetns = "none"\nlog_driver = "k8s-file"\n'
                    f'[engine]\nruntime_supports_json = ["crun", "runc", "brick"]\n'
                    f'cgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
        sconf = os.path.join(top, "storage.conf")
        with open(sconf, "w") as f:
            f.write(f'[storage]\ndriver = "overlay"\nrunroot = "{top}/run"\n'
                    f'graphroot = "{top}/graph"\n')
        with open(os.path.join(top, "subid"), "w") as f:
            f.write("containers:400000:300000\n")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=sconf)
        self.base = [PODMAN, "--root", f"{top}/graph", "--runroot", f"{top}/run",
                     "--tmpdir", f"{top}/tmp"]

    def cmd(self, *args, runtime=None):
        rt = ["--runtime", runtime] if runtime else []
        return self.base + rt + list(args)

    def __call__(self, *args, runtime=None, input=None, timeout=90, check=False):
        p = subprocess.run(self.cmd(*args, runtime=runtime), capture_output=True, text=True,
                           input=input, timeout=timeout, env=self.env)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} -> {p.returncode}\n{p.stderr}")
        return p

    def tty(self, *args, runtime=None, timeout=90):
        """podman with a terminal: util-linux script gives it a pty (-e: its exit code)."""
        line = " ".join(shlex_quote(a) for a in self.cmd(*args, runtime=runtime))
        return subprocess.run(["script", "-qec", line, "/dev/null"], capture_output=True,
                              text=True, timeout=timeout, env=self.env, stdin=subprocess.DEVNULL)

    def with_subids(self, *args, runtime=None, timeout=90):
        """podman --userns=auto takes ranges of the user "containers" from /etc/subuid:
        give it a private one in a private mount namespace, leaving the host's alone."""
        sub = os.path.join(self.top, "subid")
        line = " ".join(shlex_quote(a) for a in self.cmd(*args, runtime=runtime))
        script = (f"mount --bind {sub} /etc/subuid && mount --bind {sub} /etc/subgid && "
                  f"exec {line}")
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                              capture_output=True, text=True, timeout=timeout, env=self.env)

    def teardown(self):
        self("rm", "-af", "-t", "0", timeout=120)
        self("rmi", "-af", timeout=120)
        # podman mounts its overlay store; unmount whatever is left under our top.
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        for mp in sorted((p for p in points if p.startswith(self.top)), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        shutil.rmtree(self.top, ignore_errors=True)


def shlex_quote(s):
    import shlex
    return shlex.quote(s)


def setup_podman():
    top = tempfile.mkdtemp(prefix="brick-podman-", dir="/tmp")
    pm = Podman(top)
    rootfs = os.path.join(top, "rootfs")
    make_rootfs(rootfs)
    tar = os.path.join(top, "rootfs.tar")
    with tarfile.open(tar, "w") as t:
        t.add(rootfs, arcname=".")
    pm("import", tar, IMAGE, check=True)
    return pm


@pytest.fixture(scope="module")
def pm():
    if os.geteuid() != 0:
        pytest.skip("podman tests run as root")
    if not PODMAN or not shutil.which("conmon"):
        pytest.skip("podman/conmon not installed (tests/packages/interop.txt)")
    if not os.path.exists(BRICK):
        pytest.skip(f"{BRICK} not built")
    p = setup_podman()
    yield p
    p.teardown()


def name():
    return f"bk-{uuid.uuid4().hex[:10]}"


def inspect(pm, ctr, fmt):
    return pm("inspect", "-f", fmt, ctr, check=True).stdout.strip()


def wait_state(pm, ctr, want, timeout=10):
    end = time.time() + timeout
    st = None
    while time.time() < end:
        st = inspect(pm, ctr, "{{.State.Status}}")
        if st == want:
            return st
        time.sleep(0.1)
    raise AssertionError(f"{ctr}: state {st}, expected {want}")


def host_cgroup_file(pid, controller, fname):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return f"/sys/fs/cgroup/{controller}{path}/{fname}"
    return None


# ---- scenarios: each takes (podman, runtime path) and asserts ------------------------------

def sc_run_stdout(pm, rt):
    p = pm("run", "--rm", IMAGE, "echo", "hello from brick", runtime=rt)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello from brick\n"


def sc_exit_code_42(pm, rt):
    p = pm("run", "--rm", IMAGE, "sh", "-c", "exit 42", runtime=rt)
    assert p.returncode == 42, p.stderr


def sc_exit_code_failure(pm, rt):
    p = pm("run", "--rm", IMAGE, "false", runtime=rt)
    assert p.returncode == 1, p.stderr


def sc_command_not_found(pm, rt):
    p = pm("run", "--rm", IMAGE, "/nonexistent", runtime=rt)
    assert p.returncode == 127, (p.returncode, p.stderr)
    # the runtime's JSON log line reaches the user through podman
    assert "/nonexistent" in p.stderr


def sc_kill_signal_exit_code(pm, rt):
    c = name()
    pm("run", "-d", "--name", c, IMAGE, "sleep", "1000", runtime=rt, check=True)
    pm("kill", "-s", "KILL", c, check=True)
    wait_state(pm, c, "exited")
    assert inspect(pm, c, "{{.State.ExitCode}}") == "137"
    pm("rm", c, check=True)


def sc_kill_named_signal(pm, rt):
    c = name()
    pm("run", "-d", "--name", c, IMAGE, "sh", "-c",
       "trap 'exit 10' USR1; while :; do sleep 0.1; done", runtime=rt, check=True)
    time.sleep(0.5)
    pm("kill", "-s", "USR1", c, check=True)
    wait_state(pm, c, "exited")
    assert inspect(pm, c, "{{.State.ExitCode}}") == "10"
    pm("rm", c, check=True)


def sc_stdin(pm, rt):
    p = pm("run", "--rm", "-i", IMAGE, "sh", "-c", "tr a-z A-Z; exit 3", input="piped in\n",
           runtime=rt)
    assert p.returncode == 3, p.stderr
    assert p.stdout == "PIPED IN\n"


def sc_tty(pm, rt):
    p = pm.tty("run", "--rm", "-t", IMAGE, "sh", "-c", "tty; test -t 0 && echo ISATTY; exit 5",
               runtime=rt)
    assert p.returncode == 5, (p.stdout, p.stderr)
    assert "/dev/pts/" in p.stdout and "ISATTY" in p.stdout, p.stdout


def sc_detach_exec_top_stop_rm(pm, rt):
    c = name()
    cid = pm("run", "-d", "--name", c, IMAGE, "sleep", "1000", runtime=rt, check=True).stdout.strip()
    pid = int(inspect(pm, c, "{{.State.Pid}}"))
    assert pid > 0
    p = pm("exec", c, "sh", "-c", "echo in exec; exit 7")
    assert (p.returncode, p.stdout) == (7, "in exec\n"), p.stderr
    p = pm("exec", "-i", c, "cat", input="via exec stdin\n")
    assert p.stdout == "via exec stdin\n", p.stderr
    pm("exec", "-d", c, "sleep", "999", check=True)
    top = pm("top", c, "pid", "args", check=True).stdout
    assert "sleep 1000" in top and "sleep 999" in top, top
    t0 = time.time()
    pm("stop", "-t", "1", c, check=True)
    assert time.time() - t0 < 30
    assert inspect(pm, c, "{{.State.Status}}") == "exited"
    assert inspect(pm, c, "{{.State.ExitCode}}") == "137"  # sleep ignores TERM as pid 1
    pm("rm", c, check=True)
    assert pm("inspect", c).returncode != 0
    if rt == BRICK:
        assert not os.path.exists(f"/run/brick/{cid}"), "brick state left behind"
        assert not host_leftovers(cid)
    assert not os.path.exists(f"/proc/{pid}")


def host_leftovers(cid):
    import glob
    return glob.glob(f"/sys/fs/cgroup/*/libpod_parent/libpod-{cid}")


def sc_exec_tty(pm, rt):
    c = name()
    pm("run", "-d", "--name", c, IMAGE, "sleep", "1000", runtime=rt, check=True)
    p = pm.tty("exec", "-t", c, "sh", "-c", "tty; exit 6")
    assert p.returncode == 6 and "/dev/pts/" in p.stdout, (p.stdout, p.stderr)
    pm("rm", "-f", "-t", "0", c, check=True)


def sc_stop_graceful(pm, rt):
    c = name()
    pm("run", "-d", "--name", c, IMAGE, "sh", "-c",
       "trap 'exit 3' TERM; while :; do sleep 0.1; done", runtime=rt, check=True)
    time.sleep(0.5)
    pm("stop", "-t", "10", c, check=True)
    assert inspect(pm, c, "{{.State.ExitCode}}") == "3"
    pm("rm", c, check=True)


def sc_user(pm, rt):
    p = pm("run", "--rm", "--user", "65534:65534", IMAGE, "sh", "-c",
           "id -u; id -g; grep CapEff /proc/self/status", runtime=rt)
    assert p.returncode == 0, p.stderr
    uid, gid, capeff = p.stdout.splitlines()
    assert (uid, gid) == ("65534", "65534")
    assert capeff.split()[1] == "0000000000000000"


def sc_read_only(pm, rt):
    p = pm("run", "--rm", "--read-only", IMAGE, "sh", "-c",
           "touch /x 2>/dev/null && echo ROOT-WRITABLE; touch /tmp/y && echo TMP-OK", runtime=rt)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "TMP-OK\n"


def sc_cap_drop_all(pm, rt):
    p = pm("run", "--rm", "--cap-drop", "all", IMAGE, "grep", "^Cap", "/proc/self/status",
           runtime=rt)
    caps = dict(line.split(":\t") for line in p.stdout.splitlines())
    for k in ("CapPrm", "CapEff", "CapBnd", "CapAmb", "CapInh"):
        assert int(caps[k], 16) == 0, (k, caps)
    # and the default keeps podman's set (CAP_CHOWN is bit 0)
    p = pm("run", "--rm", IMAGE, "grep", "^CapEff", "/proc/self/status", runtime=rt)
    assert int(p.stdout.split()[1], 16) & 1


def sc_network_none(pm, rt):
    p = pm("run", "--rm", "--network", "none", IMAGE, "sh", "-c",
           "ls /sys/class/net; readlink /proc/self/ns/net", runtime=rt)
    assert p.returncode == 0, p.stderr
    *ifaces, ns = p.stdout.split()
    assert ifaces == ["lo"]
    assert ns != os.readlink("/proc/self/ns/net")


def sc_memory_pids_limit(pm, rt):
    c = name()
    pm("run", "-d", "--name", c, "--memory", "64m", "--pids-limit", "77", IMAGE, "sleep", "1000",
       runtime=rt, check=True)
    pid = int(inspect(pm, c, "{{.State.Pid}}"))
    mem = host_cgroup_file(pid, "memory", "memory.limit_in_bytes")
    pids = host_cgroup_file(pid, "pids", "pids.max")
    with open(mem) as f:
        assert int(f.read()) == 64 << 20
    with open(pids) as f:
        assert f.read().strip() == "77"
    # and the container sees its own limits
    p = pm("exec", c, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
           "/sys/fs/cgroup/pids/pids.max", check=True)
    assert p.stdout.split() == [str(64 << 20), "77"]
    pm("update", "--memory", "96m", c, check=True)
    with open(mem) as f:
        assert int(f.read()) == 96 << 20
    pm("rm", "-f", "-t", "0", c, check=True)


def sc_pids_limit_enforced(pm, rt):
    script = "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; echo forked-all"
    p = pm("run", "--rm", "--pids-limit", "5", IMAGE, "sh", "-c", script, runtime=rt)
    assert p.returncode != 0 and "forked-all" not in p.stdout, (p.stdout, p.stderr)
    assert "fork" in p.stdout + p.stderr, (p.stdout, p.stderr)
    p = pm("run", "--rm", "--pids-limit", "50", IMAGE, "sh", "-c", script, runtime=rt)
    assert p.returncode == 0 and "forked-all" in p.stdout, (p.stdout, p.stderr)


def sc_pause_unpause(pm, rt):
    c = name()
    pm("run", "-d", "--name", c, IMAGE, "sleep", "1000", runtime=rt, check=True)
    pid = int(inspect(pm, c, "{{.State.Pid}}"))
    pm("pause", c, check=True)
    assert inspect(pm, c, "{{.State.Status}}") == "paused"
    with open(host_cgroup_file(pid, "freezer", "freezer.state")) as f:
        assert f.read().strip() == "FROZEN"
    pm("unpause", c, check=True)
    assert inspect(pm, c, "{{.State.Status}}") == "running"
    with open(host_cgroup_file(pid, "freezer", "freezer.state")) as f:
        assert f.read().strip() == "THAWED"
    assert pm("exec", c, "true").returncode == 0
    pm("rm", "-f", "-t", "0", c, check=True)


def sc_seccomp(pm, rt):
    p = pm("run", "--rm", IMAGE, "grep", "^Seccomp:", "/proc/self/status", runtime=rt)
    assert p.stdout.split()[1] == "2", p.stdout  # podman's profile, in filter mode
    p = pm("run", "--rm", "--security-opt", "seccomp=unconfined", IMAGE, "grep", "^Seccomp:",
           "/proc/self/status", runtime=rt)
    assert p.stdout.split()[1] == "0", p.stdout


def sc_uidmap(pm, rt):
    p = pm("run", "--rm", "--uidmap", "0:200000:65536", "--gidmap", "0:200000:65536", IMAGE,
           "sh", "-c", "cat /proc/self/uid_map; id -u; stat -c %u /bin/busybox; "
           "touch /tmp/f && stat -c %u /tmp/f", runtime=rt)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["0", "200000", "65536"]
    # podman chowned the image for these maps: files are the container root's
    assert lines[1:] == ["0", "0", "0"]


def sc_userns_auto(pm, rt):
    p = pm.with_subids("run", "--rm", "--userns=auto", IMAGE, "sh", "-c",
                       "cat /proc/self/uid_map; id -u; stat -c %u /bin/busybox", runtime=rt)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    inside, host, size = lines[0].split()
    assert inside == "0" and int(host) >= 400000 and int(size) > 0
    assert lines[1:] == ["0", "0"]


def sc_pid_host_no_leak(pm, rt):
    """Issue 3.5: with the host's pid namespace, pid 1's exit must not leave its
    children running on the host once the container is cleaned up."""
    token = f"{7000 + int(uuid.uuid4().hex[:3], 16)}.{uuid.uuid4().int % 1000}"
    c = name()
    pm("run", "-d", "--name", c, "--pid", "host", IMAGE, "sh", "-c",
       f"sleep {token} & sleep 0.3; exit 0", runtime=rt, check=True)
    wait_state(pm, c, "exited", timeout=20)
    end = time.time() + 10
    while procs_with_arg(f"sleep\0{token}") and time.time() < end:
        time.sleep(0.1)
    left = procs_with_arg(f"sleep\0{token}")
    for pid in left:
        os.kill(pid, 9)
    pm("rm", c, check=True)
    assert not left, f"processes of {c} left on the host: {left}"


SCENARIOS = [v for k, v in sorted(globals().items()) if k.startswith("sc_")]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__[3:] for s in SCENARIOS])
def test_podman(pm, scenario):
    scenario(pm, BRICK)


if __name__ == "__main__":
    from runtime_helpers import compare_table
    other = sys.argv[1] if len(sys.argv) > 1 else "/usr/sbin/runc"
    pm = setup_podman()
    try:
        compare_table(SCENARIOS, pm, [BRICK, other])
    finally:
        pm.teardown()
