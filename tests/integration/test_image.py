"""brick image: import what real tools write (make-busybox-image.sh, skopeo, podman,
umoci), list/inspect/tag/rm/prune, concurrent imports, and `brick run IMAGE`.

Every test uses its own store under tmp_path (BRICK_STORE), so nothing outlives it."""
import json
import os
import shutil
import subprocess
import select
import tarfile
import tempfile
import time
from pathlib import Path
import pytest

BRICK = os.environ.get("BRICK", "/work/main/build/brick")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAKE_BUSYBOX = os.path.join(REPO, "scripts", "make-busybox-image.sh")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="image tests run as root")


def need(tool, package):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed (Debian package {package}, see tests/packages/image.txt)")


def brick(store, *args, check=True, input=None, timeout=120):
    # containers get a private state root beside the store (removed with it)
    env = dict(os.environ, BRICK_STORE=str(store), BRICK_ROOT=str(store.parent / "state"))
    r = subprocess.run([BRICK, *args], env=env, capture_output=True, text=True, input=input,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"brick {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


@pytest.fixture(scope="module")
def busybox_layout(tmp_path_factory):
    if not os.path.exists("/bin/busybox"):
        pytest.skip("busybox-static not installed (see tests/packages/image.txt)")
    out = tmp_path_factory.mktemp("bb") / "layout"
    subprocess.run([MAKE_BUSYBOX, str(out)], check=True, capture_output=True)
    return out


@pytest.fixture
def store(tmp_path):
    # The container's root (an unprivileged id on the host) reaches its bundle's overlay
    # directories by path, and pytest's tmp_path lives under a 0700 directory.
    top = Path(tempfile.mkdtemp(prefix="brick-image-", dir="/var/tmp"))
    top.chmod(0o711)
    s = top / "store"
    state = top / "state"
    try:
        yield s
    finally:
        if state.exists():
            for cid in os.listdir(state):
                subprocess.run([BRICK, "--root", str(state), "delete", "--force", cid],
                               capture_output=True, timeout=60)
        shutil.rmtree(top, ignore_errors=True)


def inspect(store, ref):
    return json.loads(brick(store, "image", "inspect", ref).stdout)


def test_busybox_layout_import_ls_inspect(store, busybox_layout):
    r = brick(store, "image", "import", "--name", "localhost/busybox", f"oci:{busybox_layout}:latest")
    image_id = r.stdout.strip()
    assert len(image_id) == 64
    ls = json.loads(brick(store, "image", "ls", "--format", "json").stdout)
    assert [i["id"] for i in ls] == [image_id]
    assert ls[0]["names"] == ["localhost/busybox:latest"]
    table = brick(store, "image", "ls").stdout
    assert image_id[:12] in table and "localhost/busybox:latest" in table
    info = inspect(store, "localhost/busybox")
    assert info["id"] == image_id
    assert info["digest"] == "sha256:" + image_id
    assert info["config"]["config"]["Cmd"] == ["sh"]
    assert len(info["layers"]) == 2
    for layer in info["layers"]:
        assert os.path.exists(layer["path"])
        assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    rootfs = info["rootfs"]
    assert os.access(os.path.join(rootfs, "bin/busybox"), os.X_OK)
    assert os.path.islink(os.path.join(rootfs, "bin/sh"))
    assert os.path.exists(os.path.join(rootfs, "etc/motd"))
    assert not os.path.exists(os.path.join(rootfs, "etc/remove-me"))  # whiteout in layer 2
    assert oct(os.stat(os.path.join(rootfs, "tmp")).st_mode & 0o7777) == "0o1777"
    # by id prefix, and by the plain path (auto-detected layout)
    assert inspect(store, image_id[:12])["id"] == image_id
    assert brick(store, "image", "import", str(busybox_layout)).stdout.strip() == image_id


def test_skopeo_oci_archive_and_docker_archive(store, busybox_layout, tmp_path):
    need("skopeo", "skopeo")
    oci_tar = tmp_path / "bb.oci.tar"
    docker_tar = tmp_path / "bb.docker.tar"
    subprocess.run(["skopeo", "copy", "-q", f"oci:{busybox_layout}:latest", f"oci-archive:{oci_tar}"],
                   check=True)
    subprocess.run(["skopeo", "copy", "-q", f"oci:{busybox_layout}:latest",
                    f"docker-archive:{docker_tar}:example.com/bb:v1"], check=True)
    a = brick(store, "image", "import", "--name", "ociarchive", f"oci-archive:{oci_tar}").stdout.strip()
    d = brick(store, "image", "import", f"docker-archive:{docker_tar}").stdout.strip()
    info = inspect(store, "example.com/bb:v1")  # the name the archive carries
    assert info["id"] == d
    assert all(l["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar" for l in info["layers"])
    # same config, so both share one unpacked rootfs
    assert info["rootfs"] == inspect(store, a)["rootfs"]
    assert os.path.exists(os.path.join(info["rootfs"], "etc/motd"))
    # a plain path to a docker-archive tar is detected too
    assert brick(store, "image", "import", str(docker_tar)).stdout.strip() == d


def test_podman_save(store, busybox_layout, tmp_path):
    need("podman", "podman")
    need("skopeo", "skopeo")
    import tempfile
    root = tmp_path / "podroot"
    runroot = Path(tempfile.mkdtemp(prefix="brick-pr-"))  # podman wants a runroot < 50 chars
    pod = ["podman", "--root", str(root), "--runroot", str(runroot), "--storage-driver", "vfs"]
    rootfs_tar = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs_tar, "w") as t:
        t.add(str(REPO + "/scripts"), arcname="scripts")
    try:
        r = subprocess.run(pod + ["import", str(rootfs_tar), "localhost/podimg:1"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        saved = tmp_path / "pod.tar"
        subprocess.run(pod + ["save", "-o", str(saved), "localhost/podimg:1"], check=True,
                       capture_output=True)
        image_id = brick(store, "image", "import", str(saved)).stdout.strip()
        info = inspect(store, "localhost/podimg:1")
        assert info["id"] == image_id
        assert os.path.exists(os.path.join(info["rootfs"], "scripts/make-busybox-image.sh"))
    finally:
        subprocess.run(pod + ["system", "reset", "-f"], capture_output=True)
        subprocess.run(["sh", "-c", f"grep -o ' {root}[^ ]* ' /proc/self/mounts | xargs -r -n1 umount -l"])
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(runroot, ignore_errors=True)


def test_umoci_layout(store, tmp_path):
    need("umoci", "umoci")
    layout, bundle = tmp_path / "um", tmp_path / "umb"
    subprocess.run(["umoci", "init", "--layout", str(layout)], check=True)
    subprocess.run(["umoci", "new", "--image", f"{layout}:t1"], check=True)
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:t1", str(bundle)], check=True,
                   capture_output=True)
    os.makedirs(bundle / "rootfs/etc", exist_ok=True)
    (bundle / "rootfs/etc/hello").write_text("hi\n")
    os.symlink("hello", bundle / "rootfs/etc/link")
    subprocess.run(["umoci", "repack", "--image", f"{layout}:t1", str(bundle)], check=True,
                   capture_output=True)
    brick(store, "image", "import", "--name", "um", f"oci:{layout}:t1")
    rootfs = inspect(store, "um")["rootfs"]
    assert open(os.path.join(rootfs, "etc/hello")).read() == "hi\n"
    assert os.readlink(os.path.join(rootfs, "etc/link")) == "hello"
    r = brick(store, "image", "import", f"oci:{layout}:nosuchtag", check=False)
    assert r.returncode == 1 and 'no image tagged "nosuchtag"' in r.stderr


def test_tag_rm_prune(store, busybox_layout):
    image_id = brick(store, "image", "import", "--name", "one", f"oci:{busybox_layout}").stdout.strip()
    brick(store, "image", "tag", "one", "localhost/two:v2")
    assert sorted(inspect(store, image_id)["names"]) == ["localhost/two:v2", "one:latest"]
    brick(store, "image", "rm", "one")  # only the name goes
    assert inspect(store, image_id)["names"] == ["localhost/two:v2"]
    rootfs = inspect(store, image_id)["rootfs"]
    brick(store, "image", "rm", "localhost/two:v2")
    assert json.loads(brick(store, "image", "ls", "--format", "json").stdout) == []
    assert not os.path.exists(rootfs)
    assert os.listdir(store / "blobs/sha256") == []
    # prune of abandoned staging
    os.makedirs(store / "tmp/import-stale/rootfs")
    out = brick(store, "image", "prune").stdout
    assert "1 staging" in out
    assert os.listdir(store / "tmp") == []
    r = brick(store, "image", "rm", "nope", check=False)
    assert r.returncode == 1 and r.stderr.startswith("brick: ") and "not found" in r.stderr


def test_concurrent_imports(store, busybox_layout):
    env = dict(os.environ, BRICK_STORE=str(store))
    procs = [subprocess.Popen([BRICK, "image", "import", "--name", "race", f"oci:{busybox_layout}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert outs[0][0] == outs[1][0]
    ls = json.loads(brick(store, "image", "ls", "--format", "json").stdout)
    assert len(ls) == 1 and ls[0]["names"] == ["race:latest"]
    assert len(os.listdir(store / "rootfs")) == 1
    assert os.listdir(store / "tmp") == []


def test_bad_sources_are_clear_errors(store, tmp_path, busybox_layout):
    r = brick(store, "image", "import", str(tmp_path / "missing"), check=False)
    assert r.returncode == 1 and "missing" in r.stderr
    # tamper with a layer blob: digest mismatch naming the layer, nothing committed
    bad = tmp_path / "tampered"
    shutil.copytree(busybox_layout, bad)
    index = json.load(open(bad / "index.json"))
    man = json.load(open(bad / "blobs/sha256" / index["manifests"][0]["digest"][7:]))
    layer = man["layers"][1]["digest"]
    path = bad / "blobs/sha256" / layer[7:]
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xff
    os.chmod(path, 0o644)
    path.write_bytes(bytes(data))
    r = brick(store, "image", "import", f"oci:{bad}", check=False)
    assert r.returncode == 1
    assert f"layer {layer}: digest mismatch" in r.stderr
    assert os.listdir(store / "images") == [] and os.listdir(store / "rootfs") == []
    assert brick(store, "image", "import", "--help").returncode == 0
    assert brick(store, "image", "bogus", check=False).returncode == 2


def test_run_image(store, busybox_layout):
    brick(store, "image", "import", "--name", "bb", f"oci:{busybox_layout}")
    r = brick(store, "run", "--rm", "--name", "imgtest1", "bb", "sh", "-c", "cat /etc/motd; id -u",
              check=False, timeout=60)
    if "not built yet" in r.stderr or "unknown command" in r.stderr:
        pytest.skip("runtime verbs not built yet: " + r.stderr.strip())
    assert r.returncode == 0, r.stderr
    assert "make-busybox-image.sh" in r.stdout
    # the bundle is gone after the container is
    assert not os.path.exists(store / "containers/imgtest1")
    r = brick(store, "run", "--rm", "--user", "brick", "bb", "id", "-u", check=False, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "1000", r.stderr
    r = brick(store, "run", "--rm", "bb", "sh", "-c", "exit 7", check=False, timeout=60)
    assert r.returncode == 7


def test_run_image_detached_exec_delete(store, busybox_layout):
    brick(store, "image", "import", "--name", "bb", f"oci:{busybox_layout}")
    r = brick(store, "run", "-d", "--name", "imgd1", "bb", "sleep", "300", timeout=60)
    assert r.stdout.strip() == "imgd1"
    bundle = store / "containers/imgd1"
    cfg = json.loads((bundle / "config.json").read_text())
    # the bundle does not mount anything on the host: the runtime assembles the overlay
    ann = cfg["annotations"]
    assert cfg["root"]["path"] == str(bundle / "rootfs") and os.listdir(bundle / "rootfs") == []
    assert ann["run.oci.brick.overlay.upper"] == str(bundle / "upper")
    assert ann["run.oci.brick.overlay.work"] == str(bundle / "work")
    assert ann["run.oci.brick.overlay.lower"] == inspect(store, "bb")["rootfs"]
    assert str(bundle) not in open("/proc/self/mounts").read()
    state = json.loads(brick(store, "state", "imgd1").stdout)
    assert state["status"] == "running"
    r = brick(store, "exec", "imgd1", "sh", "-c", "cat /etc/motd; echo hi > /root/new; id -u")
    assert "make-busybox-image.sh" in r.stdout and r.stdout.split()[-1] == "0"
    # writes land in the container's upper layer, never in the shared image rootfs
    assert (bundle / "upper/root/new").read_text() == "hi\n"
    assert not os.path.exists(os.path.join(inspect(store, "bb")["rootfs"], "root/new"))
    r = brick(store, "image", "rm", "bb", check=False)
    assert r.returncode == 1 and "imgd1" in r.stderr  # in use
    brick(store, "delete", "--force", "imgd1")
    assert not bundle.exists()
    brick(store, "image", "rm", "bb")


def run_in_pty(argv, env, timeout=30):
    """Run argv on a fresh pty as its controlling terminal; return (rc, output)."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                         start_new_session=True)
    os.close(slave)
    out = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        rc = p.wait(timeout=max(1, deadline - time.time()))
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    return rc, out.decode(errors="replace")


def test_run_image_tty(store, busybox_layout):
    brick(store, "image", "import", "--name", "bb", f"oci:{busybox_layout}")
    env = dict(os.environ, BRICK_STORE=str(store), BRICK_ROOT=str(store.parent / "state"))
    rc, out = run_in_pty([BRICK, "run", "--rm", "-t", "--name", "imgtty", "bb", "sh", "-c",
                          "test -t 0 && test -t 1 && echo is-a-tty; tty; echo TERM=$TERM; exit 3"],
                         env)
    assert rc == 3, out
    assert "is-a-tty" in out and "/dev/pts/" in out and "TERM=xterm" in out
    assert not (store / "containers/imgtty").exists()
