#!/usr/bin/python3
"""Start-path benchmark: brick vs crun vs runc vs a bare unshare+chroot floor.

One invocation, interleaved rounds (brick, crun, runc, floor, brick, ...), each round
timing `run` of a static /bin/true and the split create/start/delete. Prints medians,
ratios to crun, peak RSS and minor faults (wait4 rusage of the runtime process, which
includes every descendant it reaped), and syscall counts from a separate, untimed
`strace -f -c` pass. Writes the same numbers (and the raw samples) as JSON.

usage: bench/startbench.py [-n N] [--brick PATH] [--json FILE] [--strace-n K]
                           [--runtimes brick,crun,runc,floor] [--keep]

Everything runs in a private mount namespace with /sys/fs/cgroup/unified unmounted,
for every runtime alike: crun 1.8.1 refuses this hybrid host otherwise.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BRICK = os.path.join(HERE, "..", "build", "brick")
UNIFIED = "/sys/fs/cgroup/unified"
PODMAN_SECCOMP = "/usr/share/containers/seccomp.json"
# podman's default capability set, as brick's defaults: the profile's caps-conditional
# rules are resolved against it, as podman does.
PODMAN_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
               "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
               "CAP_SETUID", "CAP_SYS_CHROOT"]
MEMORY_LIMIT = 512 * 1024 * 1024
PIDS_LIMIT = 2048  # brick's default


def die(msg):
    sys.exit(f"startbench: {msg}")


def enter_private_mount_ns():
    """Re-exec under `unshare -m` and hide the cgroup2 mount (for every runtime)."""
    if os.environ.get("STARTBENCH_IN_NS") != "1":
        env = dict(os.environ, STARTBENCH_IN_NS="1")
        os.execvpe("unshare", ["unshare", "-m", "--propagation", "private", sys.executable,
                               os.path.abspath(__file__)] + sys.argv[1:], env)
    if os.path.ismount(UNIFIED):
        subprocess.run(["umount", "-l", UNIFIED], check=True)


def docker_to_oci_seccomp(path, caps, arch="amd64"):
    """podman's seccomp.json is in docker's format: resolve includes/excludes for our
    caps and arch and emit the OCI linux.seccomp form."""
    d = json.load(open(path))
    archs = []
    for a in d.get("archMap", []):
        if a["architecture"] == "SCMP_ARCH_X86_64":
            archs = [a["architecture"]] + a.get("subArchitectures", [])
    out = {"defaultAction": d["defaultAction"], "architectures": archs, "syscalls": []}
    if "defaultErrnoRet" in d:
        out["defaultErrnoRet"] = d["defaultErrnoRet"]
    capset = set(caps)
    for s in d["syscalls"]:
        inc, exc = s.get("includes") or {}, s.get("excludes") or {}
        if inc.get("caps") and not set(inc["caps"]) <= capset:
            continue
        if inc.get("arches") and arch not in inc["arches"]:
            continue
        if exc.get("caps") and set(exc["caps"]) & capset:
            continue
        if exc.get("arches") and arch in exc["arches"]:
            continue
        r = {"names": s["names"], "action": s["action"]}
        if s.get("args"):
            r["args"] = s["args"]
        if "errnoRet" in s:
            r["errnoRet"] = s["errnoRet"]
        out["syscalls"].append(r)
    return out


def make_rootfs(path):
    bb = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p)), None)
    if not bb:
        die("busybox not installed (Debian package busybox-static)")
    for d in ("bin", "proc", "dev", "sys", "tmp", "etc", "root"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy(bb, os.path.join(path, "bin", "busybox"))
    os.symlink("busybox", os.path.join(path, "bin", "true"))
    os.symlink("busybox", os.path.join(path, "bin", "sh"))


def make_bundles(work, brick):
    rootfs = os.path.join(work, "rootfs")
    make_rootfs(rootfs)
    bundles = {}
    # brick: its own `brick spec` defaults, only the command changed.
    b = os.path.join(work, "brick-bundle")
    os.makedirs(b)
    subprocess.run([brick, "spec", "--bundle", b], check=True)
    cfg = json.load(open(os.path.join(b, "config.json")))
    cfg["process"]["args"] = ["/bin/true"]
    cfg["root"]["path"] = rootfs
    json.dump(cfg, open(os.path.join(b, "config.json"), "w"), indent=1)
    bundles["brick"] = b
    # crun and runc: crun's spec + podman's seccomp profile + memory and pids limits.
    if shutil.which("crun"):
        b = os.path.join(work, "oci-bundle")
        os.makedirs(b)
        subprocess.run(["crun", "spec"], cwd=b, check=True)
        cfg = json.load(open(os.path.join(b, "config.json")))
        cfg["process"]["args"] = ["/bin/true"]
        cfg["process"]["terminal"] = False
        cfg["process"]["capabilities"] = {k: list(PODMAN_CAPS) for k in
                                          ("bounding", "effective", "permitted")}
        cfg["root"] = {"path": rootfs, "readonly": True}
        lx = cfg.setdefault("linux", {})
        lx["seccomp"] = docker_to_oci_seccomp(PODMAN_SECCOMP, PODMAN_CAPS)
        res = lx.setdefault("resources", {})
        res["memory"] = {"limit": MEMORY_LIMIT}
        res["pids"] = {"limit": PIDS_LIMIT}
        json.dump(cfg, open(os.path.join(b, "config.json"), "w"), indent=1)
        bundles["crun"] = bundles["runc"] = b
    return rootfs, bundles


class Runtime:
    def __init__(self, name, argv0, root, bundle):
        self.name, self.argv0, self.root, self.bundle = name, argv0, root, bundle

    def base(self):
        return [self.argv0, "--root", self.root]

    def run(self, cid):
        return self.base() + ["run", "--bundle", self.bundle, cid]

    def create(self, cid):
        return self.base() + ["create", "--bundle", self.bundle, cid]

    def start(self, cid):
        return self.base() + ["start", cid]

    def delete(self, cid):
        return self.base() + ["delete", "--force", cid]


class Floor:
    """The kernel's share: new namespaces + chroot + exec, no runtime at all."""
    name = "floor"

    def __init__(self, rootfs):
        self.rootfs = rootfs

    def run(self, cid):
        return ["unshare", "-m", "-u", "-i", "-n", "-p", "-f", "chroot", self.rootfs, "/bin/true"]


DEVNULL = os.open(os.devnull, os.O_RDWR)


def timed(argv, errlog):
    """Spawn argv (posix_spawn: no copy of this process) and reap it: wall ms, status."""
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_DUP2, DEVNULL, 0),
                                        (os.POSIX_SPAWN_DUP2, DEVNULL, 1),
                                        (os.POSIX_SPAWN_DUP2, errlog, 2)])
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    return (t1 - t0) / 1e6, os.waitstatus_to_exitcode(status), ru


def rusage_of(argv, out, errlog):
    """Peak RSS (KiB) and minor faults of argv and the descendants it reaped, as
    /usr/bin/time sees them: a spawn from this (large) Python process would report
    Python's own high-water mark, since the child shares its mm until exec."""
    code = subprocess.run(["/usr/bin/time", "-f", "%M %R", "-o", out] + argv, stdin=DEVNULL,
                          stdout=DEVNULL, stderr=errlog).returncode
    rss, flt = open(out).read().split()[-2:]
    return code, int(rss), int(flt)


def strace_count(argv, out):
    """Total syscalls (all threads/processes) and the per-syscall table."""
    subprocess.run(["strace", "-f", "-c", "-S", "calls", "-o", out] + argv,
                   stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL, check=False)
    return parse_strace(out)


def parse_strace(out):
    per, total = {}, None
    if not os.path.exists(out):
        return None, per
    for line in open(out):
        t = line.split()
        if len(t) >= 5 and re.match(r"^[\d.]+$", t[0]):
            if t[-1] == "total":
                total = int(t[3])
            else:
                per[t[-1]] = int(t[3])
    return total, per


def strace_split(r, cid, work):
    """create's trace follows the init, which lives until start releases it: start runs
    (traced on its own) while create's strace still waits. create's count therefore
    includes the init's last steps (open fifo, exec /bin/true), for every runtime alike."""
    outs = {p: os.path.join(work, f"strace-{r.name}-{p}") for p in ("create", "start", "delete")}
    bg = subprocess.Popen(["strace", "-f", "-c", "-S", "calls", "-o", outs["create"]] +
                          r.create(cid), stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline and bg.poll() is None:
        st = subprocess.run(r.base() + ["state", cid], capture_output=True, text=True)
        if st.returncode == 0 and json.loads(st.stdout).get("status") == "created":
            break
        time.sleep(0.05)
    res = {}
    res["start"], _ = strace_count(r.start(cid), outs["start"])
    try:
        bg.wait(timeout=30)
    except subprocess.TimeoutExpired:
        bg.kill()
        bg.wait()
    res["create"], _ = parse_strace(outs["create"])
    res["delete"], _ = strace_count(r.delete(cid), outs["delete"])
    return res


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def summarize(samples):
    return {"median": statistics.median(samples), "p10": pct(samples, 0.1),
            "p90": pct(samples, 0.9), "n": len(samples)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100, help="rounds (default 100)")
    ap.add_argument("--brick", default=os.environ.get("BRICK", DEFAULT_BRICK))
    ap.add_argument("--json", default="startbench.json", help="JSON output file")
    ap.add_argument("--strace-n", type=int, default=3, help="strace passes per runtime")
    ap.add_argument("--rusage-n", type=int, default=10, help="/usr/bin/time passes per runtime")
    ap.add_argument("--runtimes", default="brick,crun,runc,floor")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    a.brick = os.path.abspath(a.brick)
    a.json = os.path.abspath(a.json)
    if not os.access(a.brick, os.X_OK):
        die(f"{a.brick}: not built")
    enter_private_mount_ns()

    work = tempfile.mkdtemp(prefix="brick-startbench-")
    os.chmod(work, 0o755)  # the containers' mapped root must reach the rootfs
    errlog = os.open(os.path.join(work, "stderr.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    rootfs, bundles = make_bundles(work, a.brick)
    want = a.runtimes.split(",")
    rts = []
    for name in want:
        if name == "floor":
            rts.append(Floor(rootfs))
            continue
        exe = a.brick if name == "brick" else shutil.which(name)
        if not exe or name not in bundles:
            print(f"startbench: {name} not installed, skipped", file=sys.stderr)
            continue
        rts.append(Runtime(name, exe, os.path.join(work, f"state-{name}"), bundles[name]))

    phases = ("run", "create", "start", "delete", "csd")
    res = {r.name: {p: [] for p in phases} | {"rss_run": [], "minflt_run": [], "rss_csd": [],
                                             "minflt_csd": [], "failures": 0} for r in rts}
    tag = f"sb{os.getpid()}"

    def fail(r, what, code):
        res[r.name]["failures"] += 1
        if res[r.name]["failures"] <= 3:
            print(f"startbench: {r.name} {what} exited {code} (see {work}/stderr.log)",
                  file=sys.stderr)

    # one warm-up round (page cache, seccomp caches), not recorded
    for i in range(-1, a.n):
        for r in rts:
            ms, code, ru = timed(r.run(f"{tag}-{r.name}-r{i}"), errlog)
            if code != 0:
                fail(r, "run", code)
            elif i >= 0:
                res[r.name]["run"].append(ms)
        for r in rts:
            if isinstance(r, Floor):
                continue
            cid = f"{tag}-{r.name}-s{i}"
            t, ok = {}, True
            for p in ("create", "start", "delete"):
                ms, code, _ = timed(getattr(r, p)(cid), errlog)
                if code != 0:
                    fail(r, p, code)
                    ok = False
                t[p] = ms
            if ok and i >= 0:
                for p in t:
                    res[r.name][p].append(t[p])
                res[r.name]["csd"].append(sum(t.values()))
        if i >= 0 and (i + 1) % 10 == 0:
            print(f"startbench: round {i + 1}/{a.n}", file=sys.stderr)

    # untimed rusage pass through /usr/bin/time (runtime + reaped children)
    tout = os.path.join(work, "time.out")
    for k in range(a.rusage_n):
        for r in rts:
            code, rss, flt = rusage_of(r.run(f"{tag}-{r.name}-ru{k}"), tout, errlog)
            if code == 0:
                res[r.name]["rss_run"].append(rss)
                res[r.name]["minflt_run"].append(flt)
            if isinstance(r, Floor):
                continue
            cid, rss, flt = f"{tag}-{r.name}-rus{k}", 0, 0
            for p in ("create", "start", "delete"):
                code, prss, pflt = rusage_of(getattr(r, p)(cid), tout, errlog)
                rss, flt = max(rss, prss), flt + pflt
            res[r.name]["rss_csd"].append(rss)
            res[r.name]["minflt_csd"].append(flt)

    # untimed strace pass: syscalls of the runtime and everything it forks
    sys_calls = {}
    for r in rts:
        runs, tables = [], []
        for k in range(a.strace_n):
            total, per = strace_count(r.run(f"{tag}-{r.name}-st{k}"),
                                      os.path.join(work, f"strace-{r.name}-{k}"))
            if total is not None:
                runs.append(total)
                tables.append(per)
        split = {}
        if not isinstance(r, Floor):
            split = strace_split(r, f"{tag}-{r.name}-sts", work)
        sys_calls[r.name] = {"run": statistics.median(runs) if runs else None,
                             "split": split,
                             "top_run": sorted(tables[-1].items(), key=lambda kv: -kv[1])[:15]
                             if tables else []}

    out = {"n": a.n, "brick": a.brick, "host": os.uname().release,
           "note": "private mount ns with cgroup2 (unified) unmounted for all runtimes",
           "runtimes": {}}
    base = res.get("crun", {}).get("run") and statistics.median(res["crun"]["run"])
    base_csd = res.get("crun", {}).get("csd") and statistics.median(res["crun"]["csd"])
    for r in rts:
        d = res[r.name]
        o = {p: summarize(d[p]) for p in phases if d[p]}
        o["peak_rss_kib"] = {"run": max(d["rss_run"]) if d["rss_run"] else None,
                             "run_median": statistics.median(d["rss_run"]) if d["rss_run"] else None,
                             "csd": max(d["rss_csd"]) if d["rss_csd"] else None}
        o["minflt"] = {"run": statistics.median(d["minflt_run"]) if d["minflt_run"] else None,
                       "csd": statistics.median(d["minflt_csd"]) if d["minflt_csd"] else None}
        o["syscalls"] = sys_calls.get(r.name)
        o["failures"] = d["failures"]
        if base and d["run"]:
            o["run_ratio_to_crun"] = statistics.median(d["run"]) / base
        if base_csd and d["csd"]:
            o["csd_ratio_to_crun"] = statistics.median(d["csd"]) / base_csd
        o["samples"] = {p: d[p] for p in phases}
        out["runtimes"][r.name] = o

    def f(x, fmt="{:.1f}"):
        return "-" if x is None else fmt.format(x)

    hdr = (f"{'runtime':8} {'run ms':>8} {'x crun':>7} {'p10-p90':>13} {'create':>7} "
           f"{'start':>7} {'delete':>7} {'c+s+d':>7} {'x crun':>7} {'RSS KiB':>8} "
           f"{'minflt':>7} {'syscalls':>8} {'c/s/d sys':>15} {'fail':>4}")
    print(f"\nN={a.n} rounds, interleaved; medians in ms; RSS = peak of runtime + children "
          f"(run, /usr/bin/time %M); minflt = faults of run incl. children; syscalls = strace -f -c")
    print(hdr)
    for name, o in out["runtimes"].items():
        med = lambda p: o[p]["median"] if p in o else None  # noqa: E731
        sc = o["syscalls"] or {}
        split = sc.get("split") or {}
        csd_sys = "/".join(str(split.get(p, "-")) for p in ("create", "start", "delete")) \
            if split else "-"
        p1090 = f"{o['run']['p10']:.0f}-{o['run']['p90']:.0f}" if "run" in o else "-"
        print(f"{name:8} {f(med('run')):>8} {f(o.get('run_ratio_to_crun'), '{:.2f}'):>7} "
              f"{p1090:>13} {f(med('create')):>7} {f(med('start')):>7} {f(med('delete')):>7} "
              f"{f(med('csd')):>7} {f(o.get('csd_ratio_to_crun'), '{:.2f}'):>7} "
              f"{f(o['peak_rss_kib']['run'], '{:d}'):>8} {f(o['minflt']['run'], '{:.0f}'):>7} "
              f"{f(sc.get('run'), '{:.0f}'):>8} {csd_sys:>15} {o['failures']:>4}")
    with open(a.json, "w") as fp:
        json.dump(out, fp, indent=1)
    print(f"\nJSON: {a.json}")
    if a.keep:
        print(f"work dir kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
