"""SCMP_ACT_NOTIFY with linux.seccomp.listenerPath (runtime-spec 1.3): a seccomp agent
written here in Python listens on a unix socket, receives the listener fd with the
container process state (runc's protocol), and answers the container's mkdir calls
with the kernel's SECCOMP_IOCTL_NOTIF_RECV / SEND ioctls. Both `create`/`run` and
`exec` hand their fd over; an unreachable listener fails create with a clear error and
leaves nothing behind."""
import fcntl
import json
import os
import select
import socket
import struct
import tempfile
import threading

import pytest

from runtime_helpers import (assert_gone, bg, create, run, traversable_bundle_factory,
                             wait_status)

# linux/seccomp.h: _IOWR('!', nr, type) = (3 << 30) | (sizeof(type) << 16) | ('!' << 8) | nr
NOTIF = struct.Struct("=QIIiIQ6Q")    # struct seccomp_notif: id, pid, flags, seccomp_data
NOTIF_RESP = struct.Struct("=QqiI")   # struct seccomp_notif_resp: id, val, error, flags
assert NOTIF.size == 80 and NOTIF_RESP.size == 24


def _iowr(nr, size):
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


SECCOMP_IOCTL_NOTIF_RECV = _iowr(0, NOTIF.size)
SECCOMP_IOCTL_NOTIF_SEND = _iowr(1, NOTIF_RESP.size)
assert SECCOMP_IOCTL_NOTIF_RECV == 0xc0502100 and SECCOMP_IOCTL_NOTIF_SEND == 0xc0182101
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
NR_MKDIR, NR_MKDIRAT = 83, 258  # x86_64
EDQUOT = 122

METADATA = "agent-meta=brick-test"


def read_path(pid, addr):
    """The string the trapped process passed, read from its memory (we are host root)."""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
        f.seek(addr)
        return f.read(256).split(b"\0", 1)[0].decode()


def answer_mkdir(path):
    """/tmp/quota fails with EDQUOT, /tmp/fake "succeeds" without the kernel running
    it, anything else goes ahead for real."""
    if path.endswith("/quota"):
        return 0, -EDQUOT, 0
    if path.endswith("/fake"):
        return 0, 0, 0
    return 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE


class Agent:
    """Accepts listener fds on a unix socket; serves every fd's notifications."""

    def __init__(self, path):
        self.path = path
        self.states = []         # (containerProcessState, pid namespace of its pid)
        self.notifs = []         # (nr, path, pid namespace of the caller)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
                while True:
                    more = conn.recv(65536)
                    if not more:
                        break
                    data += more
            state = json.loads(data)
            try:
                ns = os.readlink(f"/proc/{state['pid']}/ns/pid")
            except OSError:
                ns = None
            with self.lock:
                self.states.append((state, len(fds), ns))
            for fd in fds:
                t = threading.Thread(target=self._serve, args=(fd,), daemon=True)
                self.threads.append(t)
                t.start()

    def _serve(self, fd):
        p = select.poll()
        p.register(fd, select.POLLIN)
        try:
            while not self.stopping.is_set():
                ev = p.poll(100)
                if not ev:
                    continue
                if ev[0][1] & (select.POLLHUP | select.POLLERR):
                    return  # every process under the filter is gone
                buf = bytearray(NOTIF.size)
                try:
                    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
                except OSError:
                    continue  # the caller died before we got to it
                nid, pid, _, nr, _, _, *args = NOTIF.unpack(buf)
                path = read_path(pid, args[1] if nr == NR_MKDIRAT else args[0])
                ns = os.readlink(f"/proc/{pid}/ns/pid")
                with self.lock:
                    self.notifs.append((nr, path, ns))
                val, error, flags = answer_mkdir(path)
                try:
                    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, NOTIF_RESP.pack(nid, val, error, flags))
                except OSError:
                    pass
        finally:
            os.close(fd)

    def close(self):
        self.stopping.set()
        self.sock.close()
        for t in self.threads:
            t.join(timeout=5)
        if os.path.exists(self.path):
            os.unlink(self.path)


@pytest.fixture
def make_bundle(brick, request):
    return traversable_bundle_factory(brick, request)


@pytest.fixture
def agent_dir():
    # short: a unix socket path must fit in 108 bytes
    d = tempfile.mkdtemp(prefix="bsn-", dir="/tmp")
    yield d
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


@pytest.fixture
def agent(agent_dir):
    a = Agent(os.path.join(agent_dir, "agent.sock"))
    yield a
    a.close()


def notify_profile(listener, notify=True, metadata=METADATA):
    prof = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": []}
    if notify:
        prof["syscalls"].append({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"})
    if listener is not None:
        prof["listenerPath"] = listener
    if metadata is not None:
        prof["listenerMetadata"] = metadata
    return prof


def editor(listener, notify=True, nnp=True):
    def edit(cfg):
        cfg["root"]["readonly"] = False
        cfg["process"]["noNewPrivileges"] = nnp
        cfg["linux"]["seccomp"] = notify_profile(listener, notify)
    return edit


SCRIPT = ("mkdir /tmp/quota 2>&1; echo quota-rc=$?; "
          "mkdir /tmp/fake && echo fake-rc=0; test -d /tmp/fake || echo fake-absent; "
          "mkdir /tmp/real && test -d /tmp/real && echo real-made")


# ---- the agent answers the container's syscalls --------------------------------------

@pytest.mark.parametrize("nnp", [True, False], ids=["no_new_privs", "privs"])
def test_agent_answers_mkdir_for_the_container(brick, make_bundle, agent, nnp):
    b = make_bundle(args=["sh", "-c", SCRIPT], edit=editor(agent.path, nnp=nnp))
    cid = brick.new_id()
    p = run(brick, b, cid)
    # the agent's answers, as the container saw them
    assert "Disk quota exceeded" in p.stdout and "quota-rc=1" in p.stdout, p.stdout
    assert "fake-rc=0" in p.stdout and "fake-absent" in p.stdout, p.stdout
    assert "real-made" in p.stdout, p.stdout

    assert len(agent.states) == 1, agent.states
    state, nfds, init_ns = agent.states[0]
    assert nfds == 1 and state["fds"] == ["seccompFd"]
    assert state["metadata"] == METADATA
    assert state["ociVersion"].startswith("1.")
    assert state["state"]["id"] == cid and state["state"]["status"] == "creating"
    assert state["pid"] == state["state"]["pid"] and state["pid"] > 1
    assert state["state"]["bundle"] == b
    # the notifications came from the container whose init pid the state names
    paths = [n[1] for n in agent.notifs]
    assert paths == ["/tmp/quota", "/tmp/fake", "/tmp/real"], agent.notifs
    assert init_ns is not None and all(n[2] == init_ns for n in agent.notifs)
    assert init_ns != os.readlink("/proc/self/ns/pid")
    assert_gone(brick, cid)


def test_without_notify_rule_the_agent_is_not_involved(brick, make_bundle, agent):
    """The control: the same profile without the NOTIFY rule makes every mkdir real."""
    b = make_bundle(args=["sh", "-c", SCRIPT], edit=editor(agent.path, notify=False))
    p = run(brick, b)
    assert "quota-rc=0" in p.stdout and "fake-absent" not in p.stdout, p.stdout
    assert agent.states == [] and agent.notifs == []


def test_exec_hands_its_listener_to_the_agent(brick, make_bundle, agent):
    b = make_bundle(args=["sleep", "1000"], edit=editor(agent.path))
    cid = brick.new_id()
    bg(brick, "run", "-d", "--bundle", b, cid)
    init_pid = wait_status(brick, cid, "running")["pid"]
    pid_file = os.path.join(os.path.dirname(agent.path), "exec.pid")
    p = brick("exec", "--pid-file", pid_file, cid, "sh", "-c",
              "mkdir /tmp/quota 2>&1; echo quota-rc=$?")
    assert "Disk quota exceeded" in p.stdout and "quota-rc=1" in p.stdout, p.stdout
    assert len(agent.states) == 2, agent.states
    first, second = agent.states[0][0], agent.states[1][0]
    assert first["state"]["status"] == "creating"
    assert second["state"]["status"] == "running" and second["state"]["id"] == cid
    # The message's pid is the exec'd process (its filter); the state's stays the init's.
    exec_pid = int(open(pid_file).read())
    assert second["pid"] == exec_pid != init_pid, (second["pid"], exec_pid, init_pid)
    assert second["state"]["pid"] == init_pid and second["metadata"] == METADATA
    assert [n[1] for n in agent.notifs] == ["/tmp/quota"]
    brick("delete", "--force", cid)
    assert_gone(brick, cid)


# ---- errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["missing", "not_a_socket", "nobody_listening"])
def test_unreachable_listener_fails_create_and_leaves_nothing(brick, make_bundle, agent_dir,
                                                               kind):
    path = os.path.join(agent_dir, "agent.sock")
    if kind == "not_a_socket":
        open(path, "w").close()
    elif kind == "nobody_listening":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()  # bound, never listened: connect is refused
    b = make_bundle(args=["true"], edit=editor(path))
    cid, p = create(brick, b, check=False)
    assert p.returncode != 0
    assert "linux.seccomp.listenerPath" in p.stderr and path in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and "Segmentation" not in p.stderr
    assert_gone(brick, cid)


def test_notify_without_listener_path_is_refused(brick, make_bundle):
    b = make_bundle(args=["true"], edit=editor(None))
    cid, p = create(brick, b, check=False)
    assert p.returncode != 0 and "listenerPath" in p.stderr, p.stderr
    assert_gone(brick, cid)


def test_exec_with_agent_gone_fails_clearly(brick, make_bundle, agent_dir):
    path = os.path.join(agent_dir, "agent.sock")
    a = Agent(path)
    try:
        b = make_bundle(args=["sleep", "1000"], edit=editor(path))
        cid = brick.new_id()
        bg(brick, "run", "-d", "--bundle", b, cid)
        wait_status(brick, cid, "running")
    finally:
        a.close()  # the socket file goes with it
    p = brick("exec", cid, "true", check=False)
    assert p.returncode != 0
    assert "linux.seccomp.listenerPath" in p.stderr and path in p.stderr, p.stderr
    # the container itself is untouched
    assert wait_status(brick, cid, "running")
    brick("delete", "--force", cid)
    assert_gone(brick, cid)
