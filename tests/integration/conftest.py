"""Shared fixtures for brick's integration tests (run as root).

- `brick`: run the binary under test (env BRICK, default build/brick) with a private
  --root, so tests never touch /run/brick or each other.
- `make_bundle`: an OCI bundle with a busybox-static rootfs and brick's default config
  (brick spec), optionally edited by a callback.
Every container a test creates is force-deleted at teardown and its cgroups are checked
to be gone, so a failing test cannot leak into the next one."""
import glob
import json
import os
import shutil
import subprocess
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BRICK = os.environ.get("BRICK", os.path.join(REPO, "build", "brick"))
BUSYBOX_TOOLS = ["sh", "true", "false", "cat", "echo", "ls", "id", "sleep", "hostname",
                 "mount", "ps", "grep", "touch", "mkdir", "rm", "stat", "readlink", "head",
                 "wc", "env", "kill", "test", "[", "uname", "ulimit", "tr", "printf", "chmod",
                 "chown", "ln", "mknod", "whoami", "pwd", "dd", "find", "timeout", "nproc",
                 "umask", "top"]


def busybox_path():
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p):
            return p
    return None


class Brick:
    def __init__(self, root):
        self.root = root
        self.created = set()

    def __call__(self, *args, check=True, timeout=60, input=None, env=None, cwd=None):
        full = [BRICK, "--root", self.root, *args]
        p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, input=input,
                           env=env, cwd=cwd)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(full)} -> {p.returncode}\nstdout: {p.stdout}\n"
                                 f"stderr: {p.stderr}")
        return p

    def new_id(self, prefix="t"):
        cid = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.created.add(cid)
        return cid

    def cleanup(self):
        for cid in list(self.created):
            subprocess.run([BRICK, "--root", self.root, "delete", "--force", cid],
                           capture_output=True, timeout=60)


def cgroup_leftovers(cid):
    return [d for d in glob.glob(f"/sys/fs/cgroup/*/brick/{cid}") + glob.glob(f"/sys/fs/cgroup/brick/{cid}")
            if os.path.isdir(d)]


@pytest.fixture
def brick(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("integration tests run as root")
    if not os.path.exists(BRICK):
        pytest.skip(f"{BRICK} not built")
    b = Brick(str(tmp_path / "state"))
    yield b
    b.cleanup()
    leaks = [d for cid in b.created for d in cgroup_leftovers(cid)]
    assert not leaks, f"cgroups left behind: {leaks}"


def make_rootfs(path):
    bb = busybox_path()
    if not bb:
        pytest.skip("busybox not installed (Debian package busybox-static)")
    os.makedirs(os.path.join(path, "bin"), exist_ok=True)
    for d in ("proc", "dev", "sys", "tmp", "etc", "root"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy(bb, os.path.join(path, "bin", "busybox"))
    for tool in BUSYBOX_TOOLS:
        link = os.path.join(path, "bin", tool)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")


@pytest.fixture
def make_bundle(tmp_path, brick):
    """make_bundle(args=[...], edit=fn(config)) -> bundle dir with config.json."""
    counter = [0]

    def make(args=None, edit=None, spec_args=()):
        counter[0] += 1
        b = tmp_path / f"bundle{counter[0]}"
        b.mkdir()
        make_rootfs(str(b / "rootfs"))
        brick("spec", "--bundle", str(b), *spec_args)
        cfg_path = b / "config.json"
        cfg = json.loads(cfg_path.read_text())
        if args is not None:
            cfg["process"]["args"] = args
        if edit:
            edit(cfg)
        cfg_path.write_text(json.dumps(cfg, indent=2))
        return str(b)

    return make
