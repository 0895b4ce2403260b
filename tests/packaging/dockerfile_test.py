#!/usr/bin/env python3
"""Checks the top-level Dockerfile without a Docker engine.

What it does (see dockerfile_test.sh for how CTest runs it):
  1. parses the Dockerfile into stages and checks the shape the project promises: a Debian 12
     build stage, a Debian 12 slim runtime stage, a non-root numeric USER, the exec-form
     ENTRYPOINT ["crossover"], COPY --from the build stage, no compilers or -dev packages at
     runtime;
  2. asks apt-cache whether every package named by an `apt-get install` in any stage exists;
  3. replays the build stage's commands (all but apt-get) in a clean temporary directory against
     an export of the tracked sources (`git ls-files`), with the stage's absolute paths
     (WORKDIR, the directory the runtime stage copies from) mapped into that directory;
     by default the build is limited to the `crossover` target and the install step is skipped,
     with CROSSOVER_DOCKERFILE_FULL=1 every command runs as written, install included;
  4. checks that everything CMake found while configuring (package config dirs, libraries,
     headers, tools) belongs to a Debian package the build stage installs (or to the base image);
  5. checks that every shared library the built binary (and, in full mode, the installed
     plugins) needs comes from a package the runtime stage installs (or the base image), and
     in full mode that the installed tree is what the runtime stage should carry, loads its
     plugins and dry-runs the quick-start example.

What it cannot exercise: pulling the base images, running apt-get inside them, the COPY
semantics of a real build context and starting the final image.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg, flush=True)


def info(msg):
    print(msg, flush=True)


# --------------------------------------------------------------------------- parsing
def parse_dockerfile(path):
    """Returns a list of stages: {"from": image, "name": alias or None, "instructions": [(KW, args)]}."""
    with open(path, encoding="utf-8") as f:
        raw = f.read().splitlines()
    logical = []
    buf = ""
    for line in raw:
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        logical.append(buf.strip())
        buf = ""
    if buf.strip():
        logical.append(buf.strip())

    stages = []
    for instr in logical:
        kw, _, args = instr.partition(" ")
        kw = kw.upper()
        args = args.strip()
        if kw == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--platform")]
            name = None
            if len(words) >= 3 and words[1].upper() == "AS":
                name = words[2]
            stages.append({"from": words[0], "name": name, "instructions": []})
        elif kw == "ARG" and not stages:
            continue
        else:
            if not stages:
                fail(f"instruction before the first FROM: {instr}")
                continue
            stages[-1]["instructions"].append((kw, args))
    return stages


APT_INSTALL = re.compile(r"apt-get\s+(?:-\S+\s+)*install\b(.*)")


def apt_installs(stage):
    """Package names and flags of every `apt-get install` in a stage's RUN lines."""
    pkgs, flag_sets = [], []
    for kw, args in stage["instructions"]:
        if kw != "RUN":
            continue
        for part in re.split(r"&&|;|\|\|", args):
            m = APT_INSTALL.search(part)
            if not m:
                continue
            words = shlex.split(m.group(1))
            flag_sets.append([w for w in words if w.startswith("-")])
            pkgs += [w for w in words if not w.startswith("-")]
    return pkgs, flag_sets


def is_apt_command(cmd):
    return re.search(r"\bapt-get\b|\bapt\b\s", cmd) is not None


# --------------------------------------------------------------------------- apt / dpkg helpers
def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def apt_closure(pkgs):
    """Every package (and virtual package) `apt-get install pkgs` may pull, hard dependencies only."""
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
             "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + pkgs)
    names = set()
    for line in r.stdout.splitlines():
        if line and not line.startswith(" "):
            names.add(line.strip().strip("<>").split(":")[0])
        elif "Depends:" in line:
            names.add(line.split("Depends:")[1].strip().strip("<>").split(":")[0])
    return names


def base_image_packages():
    """Approximation of a Debian minbase image (what debian:12 and debian:12-slim start from):
    the installed packages of priority `required` or marked Essential, and apt's closure."""
    r = run(["dpkg-query", "-W", "-f", "${Package}\t${Priority}\t${Essential}\n"])
    base = {"apt"}
    for line in r.stdout.splitlines():
        name, prio, ess = (line.split("\t") + ["", ""])[:3]
        if prio == "required" or ess == "yes":
            base.add(name)
    return base | apt_closure(sorted(base))


def owning_packages(path):
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/") or p.startswith("/usr/bin/") or p.startswith("/usr/sbin/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/") or p.startswith("/bin/"):
            candidates.append("/usr" + p)
    owners = set()
    for p in dict.fromkeys(candidates):
        r = run(["dpkg-query", "-S", p])
        if r.returncode != 0:
            continue
        for line in r.stdout.splitlines():
            # "pkg1:amd64, pkg2: /path" ; diversions start with "diversion by"
            if line.startswith("diversion"):
                continue
            head = line.rsplit(": ", 1)[0]
            for pkg in head.split(","):
                owners.add(pkg.strip().split(":")[0])
    return owners


def needed_libraries(elf):
    """Resolved paths of the shared libraries an ELF file loads (via ldd)."""
    r = run(["ldd", elf])
    if r.returncode != 0:
        fail(f"ldd {elf}: {r.stderr.strip() or r.stdout.strip()}")
        return []
    paths = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            fail(f"{elf}: {line}")
            continue
        m = re.match(r"\S+\s+=>\s+(/\S+)", line) or re.match(r"(/\S+)\s+\(", line)
        if m:
            paths.append(m.group(1))
    return paths


# --------------------------------------------------------------------------- checks
def check_shape(stages):
    if len(stages) < 2:
        fail(f"expected a multi-stage Dockerfile (build + runtime), found {len(stages)} stage(s)")
        return None, None
    build, runtime = stages[0], stages[-1]
    if build["from"] not in ("debian:12", "debian:bookworm"):
        fail(f"build stage must start FROM debian:12 (bookworm), found {build['from']}")
    if runtime["from"] not in ("debian:12-slim", "debian:bookworm-slim"):
        fail(f"runtime stage must start FROM debian:12-slim, found {runtime['from']}")
    if not build["name"]:
        fail("build stage has no name (FROM ... AS build)")

    users = [a for k, a in runtime["instructions"] if k == "USER"]
    if not users:
        fail("runtime stage has no USER: the image would run as root")
    else:
        uid = users[-1].split(":")[0]
        if not uid.isdigit() or uid == "0":
            fail(f"runtime USER must be a numeric non-root uid (so runAsNonRoot can verify it), found {users[-1]}")
        elif uid != "65532":
            fail(f"runtime USER is {uid}; the Helm chart and docs assume 65532")

    entry = [a for k, a in runtime["instructions"] if k == "ENTRYPOINT"]
    if not entry:
        fail("runtime stage has no ENTRYPOINT")
    else:
        try:
            value = json.loads(entry[-1])
        except json.JSONDecodeError:
            value = None
        if value != ["crossover"]:
            fail(f'ENTRYPOINT must be the exec form ["crossover"], found {entry[-1]}')

    copies = [a for k, a in runtime["instructions"] if k == "COPY" and "--from=" in a]
    if not copies:
        fail("runtime stage copies nothing from the build stage")
    for a in copies:
        src = re.search(r"--from=(\S+)", a).group(1)
        if src != build["name"]:
            fail(f"runtime COPY --from={src} does not name the build stage {build['name']}")
    for k, a in runtime["instructions"]:
        if k in ("COPY", "ADD") and "--from=" not in a:
            fail(f"runtime stage copies from the build context ({k} {a}); only build outputs belong there")

    pkgs, flags = apt_installs(runtime)
    for f in flags:
        if "--no-install-recommends" not in f:
            fail("runtime apt-get install without --no-install-recommends")
    for p in pkgs:
        if p.endswith("-dev") or p in ("g++", "gcc", "cmake", "make", "build-essential", "npm", "nodejs"):
            fail(f"runtime stage installs build-only package {p}")
    return build, runtime


def check_packages_exist(stages):
    rel = ""
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release", encoding="utf-8") as f:
            m = re.search(r'^VERSION_ID="?([^"\n]*)', f.read(), re.M)
            rel = m.group(1) if m else ""
    if rel != "12":
        info(f"note: this machine is not Debian 12 (VERSION_ID={rel!r}); package names are checked "
             "against its own apt lists")
    for st in stages:
        pkgs, _ = apt_installs(st)
        if not pkgs:
            fail(f"stage FROM {st['from']} installs no packages")
        for p in pkgs:
            r = run(["apt-cache", "show", "--no-all-versions", p])
            if r.returncode != 0 or "Package:" not in r.stdout:
                fail(f"apt package {p} (stage FROM {st['from']}) does not exist: "
                     f"{(r.stderr or r.stdout).strip()}")
            else:
                ver = re.search(r"^Version: (.*)$", r.stdout, re.M)
                info(f"ok: {p} {ver.group(1) if ver else ''}")


def export_sources(src, dest):
    r = run(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    if r.returncode != 0:
        print("SKIP: the source directory is not a git checkout: " + r.stderr.strip())
        sys.exit(77)
    files = [f for f in r.stdout.split("\0") if f]
    ignore = []
    di = os.path.join(src, ".dockerignore")
    if os.path.exists(di):
        with open(di, encoding="utf-8") as f:
            ignore = [l.strip().rstrip("/") for l in f if l.strip() and not l.startswith("#")]
    count = 0
    for rel in files:
        top = rel.split("/")[0]
        if any(re.fullmatch(pat.replace(".", r"\.").replace("*", ".*"), top) for pat in ignore):
            continue
        s = os.path.join(src, rel)
        if not os.path.lexists(s):
            continue  # deleted in the work tree
        d = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.islink(s):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d)
        count += 1
    info(f"exported {count} files to {dest}")


def replay(build, runtime, src, tmp, full):
    """Runs the build stage's commands with its absolute paths mapped under tmp."""
    roots = set()
    for k, a in build["instructions"]:
        if k == "WORKDIR":
            roots.add(a.split("/")[1])
    for k, a in runtime["instructions"]:
        if k == "COPY" and "--from=" in a:
            words = [w for w in a.split() if not w.startswith("--")]
            for w in words[:-1]:
                roots.add(w.split("/")[1])
    roots.discard("")

    def mapped(text):
        for root in sorted(roots):
            text = re.sub(r"(?<![\w.~/-])/" + re.escape(root) + r"(?=/|\s|$|\")",
                          os.path.join(tmp, root).replace("\\", "\\\\"), text)
        return text

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": os.path.join(tmp, "home"), "LANG": "C.UTF-8"}
    os.makedirs(env["HOME"], exist_ok=True)
    cwd = tmp
    installed = False
    build_dir = None
    for k, a in build["instructions"]:
        if k == "ARG":
            name, _, val = a.partition("=")
            if val:
                env[name] = val.strip('"')
        elif k == "ENV":
            name, _, val = a.partition("=")
            env[name] = val.strip('"')
        elif k == "WORKDIR":
            cwd = mapped(a) if a.startswith("/") else os.path.join(cwd, a)
            os.makedirs(cwd, exist_ok=True)
        elif k == "COPY":
            words = [w for w in a.split() if not w.startswith("--")]
            if words[:-1] != ["."]:
                fail(f"the replay only understands `COPY . DEST` in the build stage, found COPY {a}")
                return None
            dest = mapped(words[-1]) if words[-1].startswith("/") else os.path.join(cwd, words[-1])
            export_sources(src, dest)
        elif k == "RUN":
            if is_apt_command(a):
                info(f"skip (package install, checked with apt-cache): RUN {a[:60]}...")
                continue
            cmd = mapped(a)
            if re.search(r"\bcmake\s+--install\b", a):
                installed = True
            if installed and not full:
                info(f"skip (install step; set CROSSOVER_DOCKERFILE_FULL=1 to run it): RUN {a}")
                continue
            m = re.search(r"\bcmake\s+--build\s+(\S+)", a)
            if m:
                build_dir = m.group(1)
                if not full:
                    cmd += " --target crossover"
            m = re.search(r"\bcmake\b.*\s-B\s*(\S+)", a)
            if m:
                build_dir = m.group(1)
            info(f"+ {cmd}")
            r = subprocess.run(["sh", "-c", cmd], cwd=cwd, env=env)
            if r.returncode != 0:
                fail(f"build-stage command failed with status {r.returncode}: RUN {a}")
                return None
    if build_dir is None:
        fail("the build stage runs no `cmake -B DIR` / `cmake --build DIR`")
        return None
    return os.path.join(cwd, build_dir) if not os.path.isabs(build_dir) else build_dir


def check_cmake_provenance(build_dir, build_pkgs, base, tmp):
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if not os.path.exists(cache):
        fail(f"no CMakeCache.txt in {build_dir}")
        return
    allowed = apt_closure(build_pkgs) | base
    checked = 0
    with open(cache, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"([A-Za-z0-9_.+-]+):(\w+)=(.*)$", line.strip())
            if not m:
                continue
            name, _, value = m.groups()
            interesting = (name.endswith(("_DIR", "_INCLUDE_DIR", "_LIBRARY", "_LIBRARY_RELEASE",
                                          "_EXECUTABLE"))
                           or name in ("CMAKE_CXX_COMPILER", "CMAKE_MAKE_PROGRAM"))
            if not interesting or not value.startswith("/") or value.startswith(tmp):
                continue
            if "NOTFOUND" in value or not os.path.exists(value):
                continue
            owners = owning_packages(value)
            checked += 1
            if not owners:
                fail(f"CMake found {name}={value}, which no Debian package provides: "
                     "the image would not have it")
            elif not owners & allowed:
                fail(f"CMake found {name}={value} from package(s) {', '.join(sorted(owners))}, "
                     "which the build stage does not install")
    info(f"checked the Debian origin of {checked} paths CMake found")
    if checked == 0:
        fail("CMakeCache.txt names no package paths: the provenance check checked nothing")


def check_runtime_libraries(elves, runtime_pkgs, base):
    allowed = apt_closure(runtime_pkgs) | base
    for elf in elves:
        libs = needed_libraries(elf)
        if not libs:
            fail(f"{elf}: ldd reports no libraries")
        for lib in libs:
            owners = owning_packages(lib)
            if not owners:
                fail(f"{elf} loads {lib}, which no Debian package provides")
            elif not owners & allowed:
                fail(f"{elf} loads {lib} from {', '.join(sorted(owners))}, which the runtime stage "
                     "does not install")
        info(f"ok: runtime libraries of {os.path.basename(elf)} ({len(libs)})")


def smoke_test_image_tree(out, sos, src):
    """Runs the tree the runtime stage copies, as the image's ENTRYPOINT would."""
    binary = os.path.join(out, "bin", "crossover")
    r = run([binary, "plugins"], cwd="/")
    if r.returncode != 0:
        fail(f"`crossover plugins` fails in the image tree: {r.stderr.strip()}")
    for so in sos:
        if f"({so})" not in r.stdout:
            fail(f"`crossover plugins` in the image tree does not load {so}")
    example = os.path.join(src, "examples", "quickstart", "pipeline.yaml")
    if os.path.exists(example):
        r = run([binary, "run", example, "--onetime", "--dry-run"], cwd="/", timeout=60)
        if r.returncode != 0 or not r.stdout.strip():
            fail(f"the image tree cannot dry-run the quick start (status {r.returncode}): "
                 f"{r.stderr.strip()[-500:]}")
        else:
            info("ok: the image tree dry-runs examples/quickstart/pipeline.yaml")


def main():
    src = os.environ.get("CROSSOVER_SOURCE_DIR") or os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    full = os.environ.get("CROSSOVER_DOCKERFILE_FULL") == "1"
    dockerfile = os.path.join(src, "Dockerfile")
    if not os.path.exists(dockerfile):
        fail(f"{dockerfile} does not exist")
        return finish()
    for tool in ("apt-cache", "dpkg-query", "git", "ldd", "cmake"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} is not available here")
            sys.exit(77)

    stages = parse_dockerfile(dockerfile)
    build, runtime = check_shape(stages)
    if build is None:
        return finish()
    check_packages_exist(stages)
    base = base_image_packages()
    build_pkgs, _ = apt_installs(build)
    runtime_pkgs, _ = apt_installs(runtime)

    keep = os.environ.get("CROSSOVER_KEEP_TMP") == "1"
    tmp = tempfile.mkdtemp(prefix="crossover-dockerfile-")
    try:
        build_dir = replay(build, runtime, src, tmp, full)
        if build_dir:
            check_cmake_provenance(build_dir, build_pkgs, base, tmp)
            elves = []
            binary = os.path.join(build_dir, "bin", "crossover")
            if not os.path.exists(binary):
                fail(f"the build stage did not produce {binary}")
            else:
                elves.append(binary)
            if full:
                out = os.path.join(tmp, "out")
                if not os.path.exists(os.path.join(out, "bin", "crossover")):
                    fail("the install step left no bin/crossover in /out")
                plugins = os.path.join(out, "lib", "crossover", "plugins")
                sos = sorted(os.path.join(plugins, f) for f in os.listdir(plugins)
                             if f.endswith(".so")) if os.path.isdir(plugins) else []
                if not sos:
                    fail("the install step left no plugins in /out/lib/crossover/plugins")
                for unwanted in ("include", "lib/cmake", "share/doc", "share/man"):
                    if os.path.exists(os.path.join(out, unwanted)):
                        fail(f"/out/{unwanted} would be copied into the runtime image")
                elves = [os.path.join(out, "bin", "crossover")] + sos
                smoke_test_image_tree(out, sos, os.path.join(tmp, "src"))
            elif elves:
                r = run([binary, "--version"])
                if r.returncode != 0:
                    fail(f"the built binary does not run: {r.stderr.strip()}")
            check_runtime_libraries(elves, runtime_pkgs, base)
    finally:
        if keep:
            info(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def finish():
    if FAILURES:
        print(f"Dockerfile check FAILED with {len(FAILURES)} problem(s)")
        return 1
    print("Dockerfile check passed" + ("" if os.environ.get("CROSSOVER_DOCKERFILE_FULL") == "1"
                                        else " (build limited to the crossover target, install not run)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
