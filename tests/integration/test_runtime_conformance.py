"""Runtime behaviours the OCI runtime-tools validation suite checks, each found failing
there and fixed: root propagation shared/unbindable, a rootfs without a mount namespace,
exact device modes, a seccomp profile without close_range, the prestart hook's state,
and capabilities the host cannot grant refused at create."""
import json

import pytest

from runtime_helpers import (assert_gone, create, run, traversable_bundle_factory,
                             write_hook)

HOST_MAP = [{"containerID": 0, "hostID": 0, "size": 65536}]


@pytest.fixture
def make_bundle(brick, request):
    return traversable_bundle_factory(brick, request)


def host_ids(cfg):
    cfg["annotations"].pop("run.oci.brick.userns", None)
    cfg["linux"]["uidMappings"] = HOST_MAP
    cfg["linux"]["gidMappings"] = HOST_MAP


def no_userns(cfg):
    """The host's user namespace: mknod works and the host's bounding set applies."""
    cfg["annotations"].pop("run.oci.brick.userns", None)
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "user"]
    cfg["linux"].pop("uidMappings", None)
    cfg["linux"].pop("gidMappings", None)


def sh(brick, make_bundle, script, edit=None, check=True):
    b = make_bundle(args=["sh", "-c", script], edit=edit)
    cid = brick.new_id()
    p = run(brick, b, cid, check=check)
    assert_gone(brick, cid)
    return p


def root_optional_fields(mountinfo):
    for line in mountinfo.splitlines():
        fields = line.split()
        if fields[4] == "/":
            return fields[6:fields.index("-")]
    raise AssertionError("no / in mountinfo:\n" + mountinfo)


@pytest.mark.parametrize("prop", ["shared", "rshared"])
def test_root_propagation_shared(brick, make_bundle, prop):
    # pivot_root refuses a shared new root: the propagation must be set after it.
    p = sh(brick, make_bundle, "cat /proc/self/mountinfo",
           edit=lambda c: c["linux"].__setitem__("rootfsPropagation", prop))
    assert any(f.startswith("shared:") for f in root_optional_fields(p.stdout))


def test_root_propagation_unbindable(brick, make_bundle):
    # An unbindable "/" refuses the rootfs bind itself: it too must come last.
    p = sh(brick, make_bundle, "cat /proc/self/mountinfo",
           edit=lambda c: c["linux"].__setitem__("rootfsPropagation", "unbindable"))
    assert "unbindable" in root_optional_fields(p.stdout)


def test_no_mount_namespace_still_roots_in_rootfs(brick, make_bundle):
    marker = "brick-rootfs-marker"

    def edit(cfg):
        host_ids(cfg)
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                      if n["type"] not in ("mount", "user", "cgroup")]
        cfg["linux"].pop("uidMappings", None)
        cfg["linux"].pop("gidMappings", None)
        cfg["root"]["readonly"] = False
        cfg["mounts"] = []
        cfg["linux"].pop("maskedPaths", None)
        cfg["linux"].pop("readonlyPaths", None)

    b = make_bundle(args=["cat", "/" + marker], edit=edit)
    with open(f"{b}/rootfs/{marker}", "w") as f:
        f.write("inside\n")
    p = run(brick, b)
    assert p.stdout == "inside\n"


def test_device_mode_is_exact_despite_umask(brick, make_bundle):
    def edit(cfg):
        no_userns(cfg)
        cfg["linux"]["devices"] = [{"path": "/dev/brick-test", "type": "c", "major": 1,
                                    "minor": 3, "fileMode": 0o660, "uid": 0, "gid": 0}]

    p = sh(brick, make_bundle, "stat -c %a /dev/brick-test", edit=edit)
    assert p.stdout.strip() == "660"


def test_seccomp_profile_without_close_range(brick, make_bundle):
    # An allow-list profile that lacks close_range (Docker's older default does): the
    # host fds must still be marked close-on-exec before the filter goes in.
    def edit(cfg):
        cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                   "syscalls": [{"names": ["close_range"],
                                                 "action": "SCMP_ACT_ERRNO"}]}

    p = sh(brick, make_bundle, "echo ran; ls /proc/self/fd", edit=edit)
    assert p.stdout.split()[0] == "ran"
    assert set(p.stdout.split()[1:]) <= {"0", "1", "2", "3"}


def test_prestart_hook_sees_created(brick, make_bundle, tmp_path):
    out = tmp_path / "prestart.json"
    hook = write_hook(tmp_path / "prestart.sh", f"cat > {out}")
    b = make_bundle(args=["true"],
                    edit=lambda c: c.setdefault("hooks", {}).__setitem__(
                        "prestart", [{"path": hook}]))
    run(brick, b)
    st = json.loads(out.read_text())
    assert st["status"] == "created" and st["pid"] > 0


def test_capability_outside_bounding_set_fails_create(brick, make_bundle):
    with open("/proc/self/status") as f:
        bnd = int([l for l in f if l.startswith("CapBnd:")][0].split()[1], 16)
    missing = [c for c in range(41) if not bnd >> c & 1]
    if not missing:
        pytest.skip("this host's bounding set has every capability")
    names = {24: "CAP_SYS_RESOURCE", 25: "CAP_SYS_TIME", 16: "CAP_SYS_MODULE",
             22: "CAP_SYS_BOOT", 17: "CAP_SYS_RAWIO"}
    name = next((names[c] for c in missing if c in names), None)
    if name is None:
        pytest.skip("no named capability is missing from the bounding set")

    def edit(cfg):
        no_userns(cfg)
        caps = cfg["process"]["capabilities"]
        for k in ("bounding", "effective", "permitted", "inheritable"):
            caps[k] = sorted(set(caps.get(k, [])) | {name})

    b = make_bundle(args=["true"], edit=edit)
    cid, p = create(brick, b, None, check=False)
    assert p.returncode != 0
    assert name in p.stderr and "process.capabilities" in p.stderr
    assert_gone(brick, cid)


def test_inheritable_outside_configured_bounding_fails_create(brick, make_bundle):
    # capset would refuse it after the bounding drops; create says so, not the
    # container's stderr after start.
    def edit(cfg):
        caps = cfg["process"]["capabilities"]
        caps["bounding"] = [c for c in caps["bounding"] if c != "CAP_KILL"]
        caps["inheritable"] = ["CAP_KILL"]

    b = make_bundle(args=["true"], edit=edit)
    cid, p = create(brick, b, None, check=False)
    assert p.returncode != 0
    assert "CAP_KILL" in p.stderr and "process.capabilities" in p.stderr
    assert_gone(brick, cid)
