"""A real systemd (this machine's /lib/systemd/systemd, Debian's 252) booted as pid 1 of
private pid, mount and cgroup namespaces, for testing --systemd-cgroup against the real
D-Bus API. This host does not run systemd; the namespaces give it a host to manage.

The systemd host sees the machine's filesystem except for fresh tmpfs on /run,
/etc/systemd/system and /var/lib/systemd, and a cgroup tree rooted at a private cgroup
(brick-sdhost-<uuid> in every host hierarchy), laid out as
  - "hybrid": v1 controllers at /sys/fs/cgroup/<ctrl>, name=systemd, cgroup2 at unified
    (this machine's own layout) plus net_cls,net_prio (see OUTER),
  - "v1": the same without cgroup2 (systemd's legacy mode), or
  - "v2": a pure cgroup2 tree at /sys/fs/cgroup (the controllers of this machine are all
    bound to v1, so only hugetlb is offered there; systemd and cgroup.freeze/kill work).
It boots a target that pulls in nothing and masks every unit that would act on the whole
machine, and its /tmp and /var/tmp are private (only the tests' directory and brick's
build are carried in),
so only systemd itself runs and cannot clean the machine's /tmp. brick is run inside
with nsenter into every namespace, as a process of that host would be."""
import glob
import os
import signal
import subprocess
import tempfile
import time
import uuid

SYSTEMD = "/lib/systemd/systemd"
V1_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"]

# Units that must never start here: they act on the whole machine (systemd-tmpfiles
# empties /tmp at boot, udev re-triggers devices, sysctl, swap, fstab mounts). Masking
# sysinit.target and basic.target also makes any unit with default dependencies fail to
# start instead of pulling them in.
MASKED = ["sysinit.target", "basic.target", "local-fs.target", "local-fs-pre.target",
          "remote-fs.target", "swap.target", "sockets.target", "timers.target", "paths.target",
          "multi-user.target", "graphical.target", "default.target", "getty.target",
          "network.target", "systemd-tmpfiles-setup.service", "systemd-tmpfiles-clean.service",
          "systemd-tmpfiles-setup-dev.service", "systemd-udevd.service",
          "systemd-udev-trigger.service", "systemd-sysctl.service",
          "systemd-modules-load.service", "systemd-journald.service",
          "systemd-remount-fs.service", "systemd-binfmt.service"]

BOOT = r"""
set -e
mount -t proc proc /proc
# The machine's cgroup mounts go first: a fresh host has only its own.
umount -R /sys/fs/cgroup
if [ "$LAYOUT" = v2 ]; then
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
  for c in $CTRLS; do mkdir /sys/fs/cgroup/$c; mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c; done
  mkdir /sys/fs/cgroup/systemd; mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
  if [ "$LAYOUT" = hybrid ]; then
    mkdir /sys/fs/cgroup/unified; mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
  fi
  if [ -n "$NETCLS_HOLD" ]; then
    mkdir /sys/fs/cgroup/net_cls,net_prio
    mount -t cgroup -o net_cls,net_prio cgroup /sys/fs/cgroup/net_cls,net_prio
    ln -s net_cls,net_prio /sys/fs/cgroup/net_cls; ln -s net_cls,net_prio /sys/fs/cgroup/net_prio
    umount "$NETCLS_HOLD" && rmdir "$NETCLS_HOLD"
  fi
fi
mount -t tmpfs -o mode=755 tmpfs /run
# A private /tmp and /var/tmp, with only the directories in $CARRY (the tests' own, the
# brick build) carried over.
i=0
for d in $(echo "$CARRY" | tr ':' ' '); do
  mkdir -p /run/keep/$i && mount --bind "$d" /run/keep/$i; i=$((i+1))
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
i=0
for d in $(echo "$CARRY" | tr ':' ' '); do
  mkdir -p "$d" && mount --move /run/keep/$i "$d" && rmdir /run/keep/$i; i=$((i+1))
done
mount -t tmpfs -o mode=755 tmpfs /etc/systemd/system
mkdir -p /var/lib/systemd && mount -t tmpfs -o mode=755 tmpfs /var/lib/systemd
for u in $MASKED; do ln -s /dev/null /etc/systemd/system/$u; done
printf '[Unit]\nDescription=brick test host\nDefaultDependencies=no\n' \
  >/etc/systemd/system/brick-test.target
# systemd would add a cgroup2 mount of its own to a v1 tree (hybrid): the legacy mode has
# to be asked for, on the command line it reads.
cmdline=
[ "$LAYOUT" = v1 ] && cmdline="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1"
exec env -i container=brick-test SYSTEMD_LOG_LEVEL=warning PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  SYSTEMD_PROC_CMDLINE="$cmdline" """ + SYSTEMD + r""" --unit=brick-test.target
"""


# Runs first, in the private mount namespace but still in the machine's cgroup namespace:
# only there may a new hierarchy be created. This machine leaves net_cls/net_prio
# unmounted (its kernel has them); a typical hybrid host mounts them, so the hybrid layout
# does too. BOOT then mounts the same hierarchy inside the cgroup namespace.
OUTER = r"""
set -e
if [ "$LAYOUT" != v2 ]; then
  hold="$KEEP/.netcls-hold-$$"; mkdir "$hold"
  if mount -t cgroup -o net_cls,net_prio cgroup "$hold"; then export NETCLS_HOLD="$hold"
  else rmdir "$hold"; fi
fi
exec unshare --cgroup --pid --uts --ipc --net --fork bash -c "$BOOT"
"""


# A cgroup for the commands the tests run inside (brick among them), in every hierarchy.
MAKE_SHELL_CGROUP = r"""
for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  [ -e "$d/cgroup.procs" ] || continue
  mkdir -p "$d/brick-tests"
  for f in cpuset.cpus cpuset.mems; do
    [ -e "$d/$f" ] && [ ! -e "$d/cgroup.controllers" ] && cat "$d/$f" >"$d/brick-tests/$f"
  done
done
true
"""
ENTER_SHELL_CGROUP = r"""
for f in /sys/fs/cgroup/*/brick-tests/cgroup.procs /sys/fs/cgroup/brick-tests/cgroup.procs; do
  [ -e "$f" ] && echo $$ >"$f"
done
exec "$@"
"""


def machine_cgroups():
    """This machine's cgroup mounts: ({v1 controller: mountpoint}, name=systemd mountpoint
    or None, cgroup2 mountpoint or None). The first mount of each wins."""
    v1, named, v2 = {}, None, None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rest = left.split(), right.split()
            if len(fields) < 5 or len(rest) < 3:
                continue
            if rest[0] == "cgroup2" and v2 is None:
                v2 = fields[4]
            elif rest[0] == "cgroup":
                opts = rest[2].split(",")
                for c in V1_CONTROLLERS:
                    if c in opts:
                        v1.setdefault(c, fields[4])
                if "name=systemd" in opts and named is None:
                    named = fields[4]
    return v1, named, v2


def layout_unavailable(layout):
    """Why this machine cannot host the layout, or None. The host's private cgroups are
    children of the machine's, so the hierarchies it uses must be mounted here."""
    v1, named, v2 = machine_cgroups()
    if layout == "v2":
        return None if v2 else "this machine has no cgroup2 mount"
    missing = [c for c in V1_CONTROLLERS if c not in v1] + ([] if named else ["name=systemd"])
    if missing:
        return f"this machine has no v1 hierarchy for {', '.join(missing)}"
    if layout == "hybrid" and not v2:
        return "this machine has no cgroup2 mount"
    return None


def host_cgroup_dirs(name, layout):
    v1, named, v2 = machine_cgroups()
    dirs = [f"{v2}/{name}"] if v2 else []
    if layout != "v2":
        dirs += [f"{v1[c]}/{name}" for c in V1_CONTROLLERS] + [f"{named}/{name}"]
    return dirs


def rmdir_tree(top, timeout=10.0):
    """Remove a cgroup directory and its children, deepest first; retries EBUSY."""
    deadline = time.time() + timeout
    while os.path.isdir(top):
        subdirs = sorted((d for d, _, _ in os.walk(top)), key=len, reverse=True)
        busy = False
        for d in subdirs:
            try:
                os.rmdir(d)
            except FileNotFoundError:
                pass
            except OSError:
                busy = True
        if busy:
            if time.time() > deadline:
                raise AssertionError(f"cannot remove {top}: still busy")
            time.sleep(0.05)


class _Commands:
    """Running commands on a systemd host; prefix() says how to get there."""

    def prefix(self):
        return []

    def run(self, argv, check=True, timeout=60):
        # Output through files, not pipes: a created container inherits brick's stdio.
        full = [*self.prefix(), *argv]
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            rc = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                timeout=timeout).returncode
            out.seek(0)
            err.seek(0)
            p = subprocess.CompletedProcess(full, rc, out.read(), err.read())
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} -> {p.returncode}\nstdout: {p.stdout}\n"
                                 f"stderr: {p.stderr}")
        return p

    def sh(self, script, check=True):
        return self.run(["sh", "-c", script], check=check)

    def brick(self, *args, check=True, timeout=60):
        return self.run([self.brick_binary, "--root", self.state_root, *args], check=check,
                        timeout=timeout)

    def unit(self, unit, *props):
        """systemctl show -p ... as a dict."""
        out = self.run(["systemctl", "show", unit, *[f"-p{p}" for p in props]]).stdout
        result = {}
        for line in out.splitlines():
            k, _, v = line.partition("=")
            result.setdefault(k, []).append(v)
        return {k: v[0] if len(v) == 1 else v for k, v in result.items()}

    def read(self, path):
        return self.run(["cat", path]).stdout

    def exists(self, path):
        return self.run(["test", "-e", path], check=False).returncode == 0


class SystemdHost(_Commands):
    machine = False

    def __init__(self, layout, brick_binary, state_root, keep):
        self.layout = layout
        self.brick_binary = brick_binary
        self.state_root = state_root
        self.keep = keep          # the tests' directory, visible inside
        # What of the machine's /tmp and /var/tmp the host sees: keep, and brick's build.
        carry = [keep, os.path.dirname(os.path.realpath(brick_binary))]
        self.carry = [d for i, d in enumerate(carry) if d not in carry[:i] and
                      (d + "/").startswith(("/tmp/", "/var/tmp/"))]
        self.name = f"brick-sdhost-{uuid.uuid4().hex[:8]}"
        self.pid = None
        self.proc = None
        self.log = os.path.join(keep, f"{self.name}.log")

    # -- lifecycle --------------------------------------------------------------------
    def boot(self, timeout=30.0):
        try:
            return self._boot(timeout)
        except BaseException:
            self.shutdown()     # nothing of a host that did not come up may stay behind
            raise

    def _boot(self, timeout):
        for d in host_cgroup_dirs(self.name, self.layout):
            os.makedirs(d)
        if self.layout != "v2":
            top = machine_cgroups()[0]["cpuset"]
            for f in ("cpuset.cpus", "cpuset.mems"):
                with open(f"{top}/{f}") as src, open(f"{top}/{self.name}/{f}", "w") as dst:
                    dst.write(src.read())
        dirs = host_cgroup_dirs(self.name, self.layout)

        def enter_cgroups():
            for d in dirs:
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write("0")

        env = dict(os.environ, LAYOUT=self.layout, CTRLS=" ".join(V1_CONTROLLERS),
                   MASKED=" ".join(MASKED), KEEP=self.keep, BOOT=BOOT, NETCLS_HOLD="",
                   CARRY=":".join(self.carry))
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "bash", "-c", OUTER],
                env=env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=enter_cgroups)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"systemd host exited: {open(self.log).read()}")
            if self.pid is None:
                self.pid = self._find_init()
            if self.pid and os.path.exists(f"/proc/{self.pid}/root/run/systemd/private"):
                state = self._nsenter(["systemctl", "is-system-running"]).stdout.strip()
                if state in ("running", "degraded"):
                    # Commands run in a cgroup of this host, as a login shell's would,
                    # not in the machine's cgroup outside the namespace's root.
                    self._nsenter(["sh", "-c", MAKE_SHELL_CGROUP])
                    return self
            time.sleep(0.1)
        raise AssertionError(f"systemd host did not come up: {open(self.log).read()}")

    def _find_init(self):
        """The pid namespace's init: the child of the `unshare --cgroup ... --fork` that
        the setup script execs (before that, its children are mkdir and mount)."""
        try:
            with open(f"/proc/{self.proc.pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except FileNotFoundError:
            return None
        if argv[:2] != [b"unshare", b"--cgroup"]:
            return None
        for k in glob.glob(f"/proc/{self.proc.pid}/task/*/children"):
            kids = open(k).read().split()
            if kids:
                return int(kids[0])
        return None

    def shutdown(self):
        if self.proc and self.proc.poll() is None and not self.pid:
            self.proc.kill()    # still setting up: no systemd to halt yet
            self.proc.wait(timeout=10)
        if self.proc and self.proc.poll() is None:
            # SIGRTMIN+3 halts systemd in a container; SIGKILL of a pid namespace's init
            # kills everything in it, containers included.
            if self.pid:
                try:
                    os.kill(self.pid, signal.SIGRTMIN + 3)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        for d in host_cgroup_dirs(self.name, self.layout):
            if os.path.isdir(d):
                rmdir_tree(d)
        if self.layout != "v2":
            # The net_cls,net_prio hierarchy outlives the namespace while it has children.
            hold = os.path.join(self.keep, f".netcls-clean-{self.name}")
            os.makedirs(hold, exist_ok=True)
            subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            f"mount -t cgroup -o net_cls,net_prio cgroup {hold} && "
                            f"find {hold} -mindepth 1 -depth -type d -exec rmdir {{}} + ; "
                            f"umount {hold}"], capture_output=True)
            os.rmdir(hold)
        if os.path.exists(self.log):
            os.unlink(self.log)

    def start_dbus(self):
        """A system bus inside (podman talks to systemd through it, not the private
        socket). Debian's dbus units pull in sysinit.target, so these two do not."""
        self.sh("""mkdir -p /run/dbus
printf '[Unit]\\nDefaultDependencies=no\\n[Socket]\\nListenStream=/run/dbus/system_bus_socket\\n' \\
  >/etc/systemd/system/dbus.socket
printf '[Unit]\\nDefaultDependencies=no\\nRequires=dbus.socket\\n[Service]\\nExecStart=/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation\\n' \\
  >/etc/systemd/system/dbus.service
systemctl daemon-reload && systemctl start dbus.socket dbus.service""")
        deadline = time.time() + 10
        while "org.freedesktop.systemd1" not in self.sh("busctl --system list --no-pager",
                                                          check=False).stdout:
            if time.time() > deadline:
                raise AssertionError("systemd did not connect to the system bus")
            time.sleep(0.1)
        return True

    # -- running things inside ----------------------------------------------------------
    def _nsenter(self, argv):
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-p", "-C", "-u", "-i",
                               "-n", "--", *argv], capture_output=True, text=True, timeout=60)

    def prefix(self):
        """What runs a command inside: nsenter into every namespace, then the shell
        cgroup."""
        return ["nsenter", "-t", str(self.pid), "-m", "-p", "-C", "-u", "-i", "-n", "--",
                "sh", "-c", ENTER_SHELL_CGROUP, "sh"]


def machine_layout():
    v1, _, v2 = machine_cgroups()
    return "hybrid" if v1 and v2 else "v1" if v1 else "v2"


class MachineSystemd(_Commands):
    """The machine's own systemd, for a machine that runs one as PID 1: the interface of
    SystemdHost without namespaces. The tests make transient units of their own and may
    reload systemd; they stop no unit of the machine's."""
    machine = True

    def __init__(self, brick_binary, state_root, keep):
        self.layout = machine_layout()
        self.brick_binary = brick_binary
        self.state_root = state_root
        self.keep = keep
        self.pid = 1

    def boot(self):
        return self

    def shutdown(self):
        pass

    def start_dbus(self):
        """True when the machine's system bus reaches systemd (nothing is started)."""
        out = self.sh("busctl --system list --no-pager", check=False).stdout
        return "org.freedesktop.systemd1" in out
