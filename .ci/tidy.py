#!/usr/bin/env python3
"""clang-tidy over the given files, skipping those already found clean.

    .ci/tidy.py BUILD_DIR FILE...

Each file is checked with the compile command CMake recorded for it in
BUILD_DIR/compile_commands.json and the repository's .clang-tidy. A file is
not checked again while what clang-tidy would see is unchanged: the key is a
hash of its preprocessed text (every header it includes, with its comments,
since a NOLINT comment changes what clang-tidy reports, and without line
markers), its compile flags, the configuration and clang-tidy's version, with
the checkout's and the build's paths taken out so that any clone on the same
machine shares the cache. Only clean results are kept (in
${XDG_CACHE_HOME:-~/.cache}/crossover-tidy), so a finding is reported on every
run until it is fixed. Two files are checked at a time (JOBS to change it).
Exit status 1 when any file has a finding.
"""

import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys

TIDY = os.environ.get("CLANG_TIDY", "clang-tidy-14")


def compile_commands(build_dir):
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as f:
        entries = json.load(f)
    return {os.path.realpath(e["file"]): e for e in entries}


def preprocess_command(entry):
    """The compile command with its output replaced by preprocessed text on stdout."""
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a == "-c":
            continue
        out.append(a)
    return out + ["-E", "-P", "-C", "-o", "-"]


def cache_key(entry, root, build_dir, config, version):
    text = subprocess.run(preprocess_command(entry), cwd=entry["directory"], check=True,
                          capture_output=True).stdout
    flags = entry.get("command", " ".join(entry.get("arguments", [])))
    h = hashlib.sha256()
    for part in (version, config, flags.replace(build_dir, "@BUILD@").replace(root, "@ROOT@"),
                 os.path.relpath(entry["file"], root)):
        h.update(part.encode() + b"\0")
    h.update(text.replace(build_dir.encode(), b"@BUILD@").replace(root.encode(), b"@ROOT@"))
    return h.hexdigest()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    build_dir = os.path.realpath(sys.argv[1])
    root = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
    files = [os.path.realpath(f) for f in sys.argv[2:]]
    commands = compile_commands(build_dir)
    with open(os.path.join(root, ".clang-tidy"), encoding="utf-8") as f:
        config = f.read()
    version = subprocess.run([TIDY, "--version"], check=True, capture_output=True,
                             text=True).stdout
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                         "crossover-tidy")
    os.makedirs(cache, exist_ok=True)

    def check(path):
        entry = commands.get(path)
        if entry is None:
            return path, None, "not in compile_commands.json (not built in this configuration)"
        try:
            key = cache_key(entry, root, build_dir, config, version)
        except subprocess.CalledProcessError as e:
            return path, None, "cannot preprocess: " + e.stderr.decode(errors="replace")
        marker = os.path.join(cache, key)
        if os.path.exists(marker):
            return path, True, ""
        run = subprocess.run([TIDY, "-p", build_dir, "--quiet", path], capture_output=True,
                             text=True)
        report = "\n".join(line for line in (run.stdout + run.stderr).splitlines()
                           if "warnings generated" not in line and line.strip())
        if run.returncode == 0 and "warning:" not in report and "error:" not in report:
            with open(marker, "w", encoding="utf-8") as f:
                f.write(os.path.relpath(path, root) + "\n")
            return path, False, ""
        return path, None, report

    failed = 0
    cached = 0
    jobs = int(os.environ.get("JOBS", "2"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for path, was_cached, report in pool.map(check, files):
            rel = os.path.relpath(path, root)
            if was_cached is None:
                failed += 1
                print(f"{rel}: {report}")
            elif was_cached:
                cached += 1
    print(f"clang-tidy: {len(files)} files, {cached} unchanged since a clean check, "
          f"{failed} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
