#!/usr/bin/env python3
"""Compare brick's version order with the real tools on generated pairs.

dpkg: every pair through dpkg's own libdpkg (libdpkg-dev), and a sample through the
      `dpkg --compare-versions` binary itself (a process per pair is slow).
rpm:  rpm's own rpm.vercmp through one `rpm --eval` lua call for all pairs.
Pairs come from a fixed seed and include epochs, '~', '^', '+', letters, leading zeros.
Exit 77 (meson: skipped) when the reference tool is absent.
"""
import os
import random
import tempfile
import shutil
import subprocess
import sys

tool, kind = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
rng = random.Random(20240611 if kind == "dpkg" else 4181)


def piece():
    r = rng.random()
    if r < 0.45:
        return str(rng.choice([0, 1, 2, 3, 9, 10, 11, 20, 100, 2023]))
    if r < 0.55:
        return "0" + str(rng.randint(0, 12))
    if r < 0.75:
        return rng.choice(["a", "b", "rc", "beta", "alpha", "p", "git", "z", "A", "dfsg"])
    return str(rng.randint(0, 5))


def upstream(seps):
    n = rng.randint(1, 4)
    out = str(rng.randint(0, 12))
    for _ in range(n):
        out += rng.choice(seps) + piece()
    return out


def dpkg_version():
    v = upstream([".", ".", ".", "~", "+", "", "-" if False else "."])
    if rng.random() < 0.2:
        v = f"{rng.randint(0, 3)}:{v}"
    if rng.random() < 0.7:
        rev = str(rng.randint(0, 5))
        if rng.random() < 0.4:
            rev += rng.choice(["+deb12u1", "+deb11u2", "~bpo12+1", ".1", "ubuntu0.22.04.1", "+b1"])
        v += "-" + rev
    return v


def rpm_version():
    v = upstream([".", ".", ".", "~", "^", "+", "_", ""])
    if rng.random() < 0.2:
        v = f"{rng.randint(0, 3)}:{v}"
    if rng.random() < 0.7:
        rel = str(rng.randint(0, 5)) + rng.choice(["", ".el9", ".el9_2", ".fc39", "~rc1", "^1", ".1"])
        v += "-" + rel
    return v


gen = dpkg_version if kind == "dpkg" else rpm_version
pairs = []
for i in range(count):
    a = gen()
    # a third of the pairs are near misses of each other
    b = gen() if i % 3 else a + rng.choice(["", "~", "^1", ".0", "a", "+1", "~rc1"])
    if kind == "dpkg" and "^" in b:
        b = b.replace("^", "+")
    pairs.append((a, b))

out = subprocess.run([tool, kind], input="".join(f"{a} {b}\n" for a, b in pairs),
                     capture_output=True, text=True, check=True).stdout.split()
mine = [int(x) for x in out]
assert len(mine) == len(pairs)


def dpkg_binary(pairs):
    ref = []
    for a, b in pairs:
        if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0:
            ref.append(-1)
        elif subprocess.run(["dpkg", "--compare-versions", a, "eq", b]).returncode == 0:
            ref.append(0)
        else:
            ref.append(1)
    return ref


def dpkg_library(pairs):
    """dpkg's own libdpkg (libdpkg-dev), compiled into a small filter."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dpkg_reference.c")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libdpkg"],
                           capture_output=True, text=True)
    if flags.returncode != 0 or not shutil.which("cc"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "dpkg_reference")
        subprocess.run(["cc", "-o", exe, src] + flags.stdout.split(), check=True)
        out = subprocess.run([exe], input="".join(f"{a} {b}\n" for a, b in pairs),
                             capture_output=True, text=True, check=True).stdout.split()
    return [int(x) for x in out]


if kind == "dpkg":
    if not shutil.which("dpkg"):
        print("dpkg not installed")
        sys.exit(77)
    # The dpkg binary itself on a sample (a process per comparison is slow here)...
    sample = list(range(0, len(pairs), max(1, len(pairs) // 150)))
    ref_bin = dpkg_binary([pairs[i] for i in sample])
    bad_bin = [(pairs[i], mine[i], r) for i, r in zip(sample, ref_bin) if mine[i] != r]
    for (a, b), m, r in bad_bin[:20]:
        print(f"MISMATCH dpkg binary: {a} vs {b}: brick {m}, dpkg {r}")
    print(f"dpkg --compare-versions: {len(sample) - len(bad_bin)} of {len(sample)} agree")
    if bad_bin:
        sys.exit(1)
    # ...and every pair through dpkg's own library when libdpkg-dev is there.
    ref = dpkg_library(pairs)
    if ref is None:
        print("libdpkg-dev not installed: only the sample was compared")
        pairs, mine, ref = [pairs[i] for i in sample], [mine[i] for i in sample], ref_bin
else:
    if not shutil.which("rpm"):
        print("rpm not installed (Debian package rpm, see tests/packages/scan.txt)")
        sys.exit(77)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("local p={" + ",\n".join(f'{{"{a}","{b}"}}' for a, b in pairs) + "}\n"
                "local o={} for i,x in ipairs(p) do o[#o+1]=tostring(rpm.vercmp(x[1],x[2])) end\n"
                "print(table.concat(o,' '))\n")
        script = f.name
    try:
        res = subprocess.run(["rpm", "--eval", "%{lua: dofile('" + script + "')}"],
                             capture_output=True, text=True, check=True).stdout.split()
    finally:
        os.unlink(script)
    ref = [(-1 if int(x) < 0 else 1 if int(x) > 0 else 0) for x in res]
    assert len(ref) == len(pairs), (len(ref), len(pairs))

bad = [(a, b, m, r) for (a, b), m, r in zip(pairs, mine, ref) if m != r]
for a, b, m, r in bad[:20]:
    print(f"MISMATCH {kind}: {a} vs {b}: brick {m}, reference {r}")
print(f"{kind}: {len(pairs) - len(bad)} of {len(pairs)} pairs agree")
sys.exit(1 if bad else 0)
