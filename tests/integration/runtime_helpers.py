"""Helpers shared by the runtime integration suites (test_runtime_*.py): waiting for a
container's status, checking that nothing of a container is left, a console-socket
server that receives the pty master the way engines do, and hook scripts."""
import array
import glob
import json
import os
import socket
import stat
import threading
import time

from conftest import cgroup_leftovers


def state(brick, cid):
    return json.loads(brick("state", cid).stdout)


def wait_status(brick, cid, want, timeout=10.0):
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        p = brick("state", cid, check=False)
        if p.returncode == 0:
            st = json.loads(p.stdout)
            if st["status"] == want:
                return st
        time.sleep(0.05)
    raise AssertionError(f"{cid} never became {want}: last state {st}")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_dead(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return False


def assert_gone(brick, cid, pids=()):
    """Nothing of cid is left: no state dir, no listing, no cgroup, no process."""
    assert not os.path.exists(os.path.join(brick.root, cid)), f"state dir of {cid} left"
    assert not os.path.exists(os.path.join(brick.root, f".{cid}.lock")), f"lock of {cid} left"
    pool = os.path.join(brick.root, "userns.json")
    if os.path.exists(pool):
        with open(pool) as f:
            assert cid not in f.read(), f"user namespace range of {cid} not released"
    ids = brick("list", "-q").stdout.split()
    assert cid not in ids
    assert cgroup_leftovers(cid) == []
    for pid in pids:
        assert wait_dead(pid), f"process {pid} of {cid} still alive"


def bg(brick, *args, check=True, timeout=60, cwd=None):
    """Run a brick verb that leaves a process behind (create, run -d, exec -d): the
    container inherits brick's stdio, so pipes would never reach EOF. Files are used."""
    import subprocess
    import tempfile
    from conftest import BRICK
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as errf:
        full = [BRICK, "--root", brick.root, *args]
        p = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=out, stderr=errf, timeout=timeout,
                           cwd=cwd)
        out.seek(0)
        errf.seek(0)
        res = subprocess.CompletedProcess(full, p.returncode, out.read(), errf.read())
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(full)} -> {res.returncode}\nstdout: {res.stdout}\n"
                             f"stderr: {res.stderr}")
    return res


def run(brick, bundle, cid=None, *extra, check=True, timeout=60):
    cid = cid or brick.new_id()
    return brick("run", "--bundle", bundle, *extra, cid, check=check, timeout=timeout)


def sh(brick, make_bundle, script, edit=None, check=True, spec_args=()):
    """Run `sh -c script` in a fresh container; return the CompletedProcess."""
    b = make_bundle(args=["sh", "-c", script], edit=edit, spec_args=spec_args)
    return run(brick, b, check=check)


def create(brick, bundle, cid=None, *extra, check=True):
    cid = cid or brick.new_id()
    p = bg(brick, "create", "--bundle", bundle, *extra, cid, check=check)
    return cid, p


def writable_root(cfg):
    cfg["root"]["readonly"] = False


def no_seccomp(cfg):
    cfg["linux"].pop("seccomp", None)


def write_hook(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return str(path)


def status_field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{name} not in {text!r}")


class ConsoleServer:
    """A unix socket that accepts one connection and receives the pty master fd over
    SCM_RIGHTS, as podman's and containerd's console sockets do."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.fd = None
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(30)
                msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
                if fds:
                    self.fd = fds[0]
                    for extra in fds[1:]:
                        os.close(extra)
        except Exception as e:  # reported by master()
            self.error = e

    def master(self, timeout=30):
        self.thread.join(timeout)
        if self.fd is None:
            raise AssertionError(f"no pty master received: {self.error}")
        return self.fd

    def read_all(self, timeout=10):
        """Read the master until the slave side is closed (EIO) or timeout."""
        fd = self.master()
        out = b""
        deadline = time.monotonic() + timeout
        import select
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out.decode(errors="replace")

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.sock.close()


def is_char_device(path):
    return stat.S_ISCHR(os.stat(path).st_mode)


def cgroup_file(cid, controller, name):
    """The path of a cgroup file of cid: v1 controller dir or the unified one."""
    for d in glob.glob(f"/sys/fs/cgroup/{controller}/brick/{cid}") + \
            glob.glob(f"/sys/fs/cgroup/{controller}/*/brick/{cid}"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    for d in glob.glob(f"/sys/fs/cgroup/unified/brick/{cid}") + glob.glob(f"/sys/fs/cgroup/brick/{cid}"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def fdarray(fds):
    return array.array("i", fds)


EXTRA_TOOLS = ["stty", "tty", "ionice", "taskset", "unshare", "sysctl", "setpriv", "dnsdomainname",
               "sed", "cut", "awk", "seq", "df", "mktemp"]


def traversable_bundle_factory(brick, request):
    """Like conftest's make_bundle, but under a 0711 directory in /tmp: with brick's
    default config the container's root is a mapped id, and the idmapped rootfs is
    attached from inside the user namespace by path, so every directory above the
    bundle must be traversable by "other" (pytest's tmp_path sits under a 0700 dir)."""
    import shutil
    import tempfile
    from conftest import make_rootfs
    top = tempfile.mkdtemp(prefix="brt-", dir="/tmp")
    os.chmod(top, 0o711)
    request.addfinalizer(lambda: shutil.rmtree(top, ignore_errors=True))
    counter = [0]

    def make(args=None, edit=None, spec_args=()):
        counter[0] += 1
        b = os.path.join(top, f"b{counter[0]}")
        os.mkdir(b)
        os.chmod(b, 0o711)
        make_rootfs(os.path.join(b, "rootfs"))
        for tool in EXTRA_TOOLS:
            link = os.path.join(b, "rootfs", "bin", tool)
            if not os.path.lexists(link):
                os.symlink("busybox", link)
        brick("spec", "--bundle", b, *spec_args)
        cfg_path = os.path.join(b, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        if args is not None:
            cfg["process"]["args"] = args
        if edit:
            edit(cfg)
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)
        return b

    make.top = top
    return make


def procs_with_arg(token):
    """Pids whose command line contains token (to find leaked container processes)."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        found.append(int(d))
            except OSError:
                pass
    return found


def compare_table(scenarios, engine, runtimes):
    """Run every scenario with each runtime (scenario(engine, runtime)) and print a table:
    the engine tests' `python3 test_*.py [other-runtime]` mode."""
    results = {}
    for sc in scenarios:
        row = []
        for rt in runtimes:
            try:
                sc(engine, rt)
                row.append("pass")
            except Exception as e:  # noqa: BLE001 -- the table reports any failure
                row.append(("FAIL: " + str(e).splitlines()[0][:60]) if str(e) else "FAIL")
        results[sc.__name__[3:]] = row
    names = [os.path.basename(rt) for rt in runtimes]
    print(f"{'scenario':28} " + " ".join(f"{n:30}" for n in names))
    for k, row in results.items():
        print(f"{k:28} " + " ".join(f"{c:30}" for c in row))
    print(", ".join(f"{n} {sum(r[i] == 'pass' for r in results.values())}/{len(results)}"
                    for i, n in enumerate(names)))
