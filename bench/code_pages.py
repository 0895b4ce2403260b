#!/usr/bin/env python3
"""How much of a process's resident code ran, and how much the kernel mapped around it.

    code_pages.py PROFILE SMAPS
    code_pages.py --self-test

PROFILE is a callgrind profile written with --dump-instr=yes over a process's whole life
(valgrind --tool=callgrind --dump-instr=yes BIN ...); SMAPS is /proc/PID/smaps of the same
command line run without valgrind, read while it is idle. For each object (the binary, each
library and plugin) the table gives:

  resident code   Rss of its executable mapping in SMAPS;
  code that ran   the 4 KiB pages holding an instruction that ran (PROFILE);
  64 KiB windows  the 64 KiB-aligned blocks of the process's address space holding those
                  pages: Linux maps the pages of a file-backed mapping that are in the page
                  cache in such blocks around each page fault ("fault-around", 64 KiB by
                  default), so a page that ran brings its neighbours into the resident set.

The offsets in the profile are relative to each object's start; the start of the object's
first mapping in SMAPS places them in the address space of the real process, so the windows
are the ones that process had. Python 3 standard library only.
"""
import collections
import os
import re
import sys
import tempfile

PAGE = 4096
WINDOW = 64 * 1024

MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \S+\s*(.*)$")
OBJECT = re.compile(r"^c?ob=\((\d+)\)(?: (.*))?$")


def read_profile(path):
    """Returns {object path: set of offsets of instructions that ran}."""
    names, ran = {}, collections.defaultdict(set)
    current, last = None, 0
    with open(path, errors="replace") as f:
        for line in f:
            first = line[:1]
            if first in "0123456789+-*":
                token = line.split()[0]
                if token.startswith(("+", "-")):
                    step = int(token[1:], 0)
                    last = last + step if token[0] == "+" else last - step
                elif token != "*":
                    last = int(token, 0)
                if current is not None:
                    ran[current].add(last)
                continue
            match = OBJECT.match(line.rstrip("\n"))
            if match:
                if match.group(2) is not None:
                    names[match.group(1)] = match.group(2)
                if line.startswith("ob="):
                    current = match.group(1)
            # "calls=N TARGET" names the callee's position; it does not move the caller's.
    return {names.get(k, k): v for k, v in ran.items()}


def read_smaps(path):
    """Returns {object path: (start of its first mapping, Rss KiB of its r-xp mappings)}."""
    objects, current = {}, None
    with open(path) as f:
        for line in f:
            match = MAPPING.match(line)
            if match:
                name = match.group(5).strip()
                current = None
                if name.startswith("/"):
                    start = int(match.group(1), 16) - int(match.group(4), 16)
                    base, rss = objects.get(name, (start, 0))
                    objects[name] = (base, rss)
                    if match.group(3) == "r-xp":
                        current = name
                continue
            if current and line.startswith("Rss:"):
                base, rss = objects[current]
                objects[current] = (base, rss + int(line.split()[1]))
    return objects


def table(profile, smaps):
    """Rows (object, resident code KiB, code that ran KiB, 64 KiB windows KiB), largest first."""
    rows = []
    for name, (base, resident) in smaps.items():
        offsets = profile.get(name, set())
        pages = {(base + o) // PAGE for o in offsets}
        windows = {(base + o) // WINDOW for o in offsets}
        rows.append((os.path.basename(name), resident, len(pages) * PAGE // 1024,
                     len(windows) * WINDOW // 1024))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows


def render(rows):
    out = ["| object | resident code KiB | code that ran KiB | 64 KiB windows around it KiB |",
           "|---|---|---|---|"]
    for name, resident, ran, windows in rows:
        if resident or ran:
            out.append(f"| {name} | {resident} | {ran} | {windows} |")
    totals = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    out.append(f"| **total** | {totals[0]} | {totals[1]} | {totals[2]} |")
    return "\n".join(out)


SELF_TEST_PROFILE = """# callgrind format
positions: instr line
events: Ir
ob=(1) /lib/liba.so
fn=(1) f
0x1000 0 3
+4 0 1
cob=(2) /lib/libb.so
cfn=(2) g
calls=1 0x2000 0
* 0 9
+0x1000 0 2
ob=(2)
fn=(2)
0x2000 0 5
+0x10000 0 5
"""
SELF_TEST_SMAPS = """7f0000000000-7f0000001000 r--p 00000000 fe:00 1 /lib/liba.so
Rss:                   4 kB
7f0000001000-7f0000003000 r-xp 00001000 fe:00 1 /lib/liba.so
Rss:                   8 kB
7f000000f000-7f0000010000 r--p 00000000 fe:00 2 /lib/libb.so
Rss:                   4 kB
7f0000010000-7f0000040000 r-xp 00001000 fe:00 2 /lib/libb.so
Rss:                 128 kB
7f0000040000-7f0000041000 rw-p 00000000 00:00 0
Rss:                   4 kB
"""


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        profile, smaps = os.path.join(tmp, "cg"), os.path.join(tmp, "smaps")
        with open(profile, "w") as f:
            f.write(SELF_TEST_PROFILE)
        with open(smaps, "w") as f:
            f.write(SELF_TEST_SMAPS)
        ran = read_profile(profile)
        # liba: 0x1000, 0x1004, the call site again (*), then 0x2004; the call's target
        # (0x2000 of libb) is not liba's.
        assert ran["/lib/liba.so"] == {0x1000, 0x1004, 0x2004}, ran
        assert ran["/lib/libb.so"] == {0x2000, 0x12000}, ran
        maps = read_smaps(smaps)
        assert maps["/lib/liba.so"] == (0x7F0000000000, 8), maps
        assert maps["/lib/libb.so"] == (0x7F000000F000, 128), maps
        rows = {r[0]: r for r in table(ran, maps)}
        # liba: pages 0x1 and 0x2 of the address space's first 64 KiB window.
        assert rows["liba.so"] == ("liba.so", 8, 8, 64), rows
        # libb starts at 0x...f000: offsets 0x2000 and 0x12000 land in two windows.
        assert rows["libb.so"] == ("libb.so", 128, 8, 128), rows
        text = render(table(ran, maps))
        assert "| **total** | 136 | 16 | 192 |" in text, text
    print("code_pages.py: self-test passed")


def main(argv):
    if argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    print(render(table(read_profile(argv[1]), read_smaps(argv[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
