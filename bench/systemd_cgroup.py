#!/usr/bin/python3
"""The systemd cgroup driver's cost: `run --systemd-cgroup` of /bin/true, brick vs runc (and
crun where it runs), interleaved, against a real systemd 252 booted in private namespaces
(tests/integration/systemd_host.py) with a system bus, on the hybrid or pure v2 layout.

usage: sudo /usr/bin/python3 bench/systemd_cgroup.py [-n 20] [--layout v2|hybrid]
                                                    [--brick build/brick]

Every runtime gets the same bundle (`crun spec`, process /bin/true, no terminal, a
deny-all device rule) and cgroupsPath "system.slice:<runtime>:<id>"; runc and crun reach
systemd through the system bus, brick through systemd's private socket. A runtime that
fails is reported with its first error (crun 1.8.1 refuses the hybrid layout and, on v2,
cannot raise RLIMIT_MEMLOCK for its device program without CAP_SYS_RESOURCE here)."""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from conftest import make_rootfs  # noqa: E402
from systemd_host import SystemdHost  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--layout", choices=["v2", "hybrid"], default="v2")
    ap.add_argument("--brick", default=os.path.join(HERE, "..", "build", "brick"))
    args = ap.parse_args()
    runtimes = {"brick": os.path.abspath(args.brick), "runc": shutil.which("runc"),
                "crun": shutil.which("crun")}
    runtimes = {k: v for k, v in runtimes.items() if v}
    work = tempfile.mkdtemp(prefix="brick-sdbench-", dir="/tmp")
    host = SystemdHost(args.layout, runtimes["brick"], os.path.join(work, "state"), work)
    host.boot()
    try:
        host.start_dbus()
        rootfs = os.path.join(work, "rootfs")
        make_rootfs(rootfs)
        spec_dir = os.path.join(work, "spec")
        os.makedirs(spec_dir)
        host.run(["crun", "spec", "--bundle", spec_dir] if "crun" in runtimes
                 else [runtimes["brick"], "spec", "--bundle", spec_dir])
        cfg = json.load(open(os.path.join(spec_dir, "config.json")))
        cfg["root"]["path"] = rootfs
        cfg["process"].update(terminal=False, args=["/bin/true"])
        cfg["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
        # One shell loop inside the systemd host times every run, so entering the
        # namespaces is not part of any sample.
        lines = []
        for name, path in runtimes.items():
            bundle = os.path.join(work, f"bundle-{name}")
            os.makedirs(bundle)
            cfg["linux"]["cgroupsPath"] = f"system.slice:{name}:bench"
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(cfg, f)
            root = os.path.join(work, f"root-{name}")
            lines.append(f"s=$(date +%s%N); {path} --root {root} --systemd-cgroup run --bundle "
                         f"{bundle} bench >/dev/null 2>{work}/err-{name}; rc=$?; "
                         f"e=$(date +%s%N); echo {name} $(( (e-s)/1000 )) $rc; "
                         f"[ $rc = 0 ] || {path} --root {root} delete --force bench 2>/dev/null")
        loop = f"for i in $(seq {args.n + 1}); do\n" + "\n".join(lines) + "\ndone"
        out = host.sh(loop, check=False).stdout.split("\n")
        samples = {k: [] for k in runtimes}
        errors = {}
        seen = {k: 0 for k in runtimes}
        for line in out:
            if not line.strip():
                continue
            name, us, rc = line.split()
            seen[name] += 1
            if rc != "0":
                err = open(os.path.join(work, f"err-{name}")).read().strip().splitlines()
                errors.setdefault(name, err[-1] if err else f"exit {rc}")
            elif seen[name] > 1:                 # round 1 warms caches, unrecorded
                samples[name].append(int(us) / 1000)
        base = statistics.median(samples["runc"]) if samples.get("runc") else None
        print(f"N={args.n}, layout {args.layout}, `run --systemd-cgroup` of /bin/true, "
              f"interleaved, median ms")
        for name in runtimes:
            if not samples[name]:
                print(f"{name:6} failed: {errors.get(name, '?')}")
                continue
            med = statistics.median(samples[name])
            ratio = f"{med / base:.2f}x runc" if base else ""
            print(f"{name:6} {med:7.1f} ms  {ratio}")
        left = host.sh("systemctl list-units --all --no-legend --plain '*-*.scope'",
                       check=False).stdout.strip()
        if left:
            print(f"units left behind: {left}")
    finally:
        host.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
