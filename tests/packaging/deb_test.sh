#!/bin/bash
# Builds the Debian package from a complete build tree with CPack and inspects it:
#   - file name crossover_<version>_<arch>.deb;
#   - control fields (package, version, architecture, section, maintainer, description) and the
#     dependencies dpkg-shlibdeps computed (libc6, libstdc++6, libyaml-cpp0.7 at least);
#   - the file list: bin/crossover, every plugin of the build tree, every SDK header, the CMake
#     package config, the man page and the example pipeline, nothing outside /usr;
#   - the unpacked tree: the binary runs from there and finds its plugins relative to itself,
#     find_package(crossover) configures against it, the man page renders without warnings and
#     documents every flag `crossover --help` and `--help-legacy` print.
# Environment (set by CTest): CROSSOVER_BUILD_DIR, CROSSOVER_SOURCE_DIR, CROSSOVER_VERSION,
# CROSSOVER_PLUGIN_SUBDIR. Exit status 77: the check cannot run here (skipped).
set -u
build=${CROSSOVER_BUILD_DIR:?}
src=${CROSSOVER_SOURCE_DIR:?}
version=${CROSSOVER_VERSION:?}
plugin_subdir=${CROSSOVER_PLUGIN_SUBDIR:-lib/crossover/plugins}

for tool in cpack dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed (package dpkg-dev)"; exit 77; }
done

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crossover-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

arch=$(dpkg --print-architecture)
deb="$tmp/crossover_${version}_${arch}.deb"

if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1; then
    cat "$tmp/cpack.log"
    fail "cpack -G DEB failed (is the whole project built?)"
    exit 1
fi
if [ ! -f "$deb" ]; then
    fail "cpack did not write $(basename "$deb"); it wrote: $(cd "$tmp" && ls -- *.deb 2>/dev/null)"
    exit 1
fi
ok "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# ---------------------------------------------------------------- control fields
dpkg-deb -I "$deb" >"$tmp/info" || fail "dpkg-deb -I failed"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = crossover ] || fail "Package is '$(field Package)', expected crossover"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', expected $arch"
[ "$(field Section)" = net ] || fail "Section is '$(field Section)', expected net"
[ -n "$(field Maintainer)" ] || fail "no Maintainer field"
field Description | grep -q 'Envoy' || fail "Description does not say what the package is: $(field Description)"
depends=$(field Depends)
for dep in libc6 libstdc++6 libyaml-cpp0.7; do
    # shlibdeps writes versioned entries: "libyaml-cpp0.7 (>= 0.7.0)"
    echo "$depends" | tr ',' '\n' | sed 's/^ *//' | grep -q "^$dep\( \|$\)" \
        || fail "Depends lacks $dep (dpkg-shlibdeps did not run?): $depends"
done
if echo "$depends" | grep -q -- '-dev\b'; then
    fail "Depends names a -dev package: $depends"
fi
ok "control: $(field Package) $(field Version) $(field Architecture); Depends: $depends"

# ---------------------------------------------------------------- file list
dpkg-deb -c "$deb" >"$tmp/contents" || fail "dpkg-deb -c failed"
# "mode owner/group size date time ./path[ -> target]"
awk '{print $6}' "$tmp/contents" | sed 's|^\./|/|; s|/$||' | sort >"$tmp/files"
has() { grep -qxF "$1" "$tmp/files" || fail "the package lacks $1"; }

has /usr/bin/crossover
grep -E '^-rwxr-xr-x root/root .* \./usr/bin/crossover$' "$tmp/contents" >/dev/null \
    || fail "/usr/bin/crossover is not an executable owned by root: $(grep 'usr/bin/crossover' "$tmp/contents")"
other_bins=$(grep '^/usr/bin/.' "$tmp/files" | grep -vxF /usr/bin/crossover)
[ -z "$other_bins" ] || fail "unexpected files in /usr/bin (test executables?): $other_bins"

plugin_count=0
for so in "$build/lib/crossover/plugins"/*.so; do
    [ -e "$so" ] || continue
    has "/usr/$plugin_subdir/$(basename "$so")"
    plugin_count=$((plugin_count + 1))
done
[ "$plugin_count" -gt 0 ] || fail "the build tree has no plugins in $build/lib/crossover/plugins"
packaged_plugins=$(grep -c "^/usr/$plugin_subdir/.*\.so$" "$tmp/files")
[ "$packaged_plugins" -eq "$plugin_count" ] \
    || fail "the package has $packaged_plugins plugins, the build tree $plugin_count"

header_count=0
for h in "$src"/core/include/crossover/*.h; do
    has "/usr/include/crossover/$(basename "$h")"
    header_count=$((header_count + 1))
done
[ "$header_count" -gt 0 ] || fail "no SDK headers found in $src/core/include/crossover"

cmake_dir=$(grep -E '/crossoverConfig\.cmake$' "$tmp/files" | head -n1)
[ -n "$cmake_dir" ] || fail "the package has no crossoverConfig.cmake"
cmake_dir=${cmake_dir%/crossoverConfig.cmake}
for f in crossoverConfig.cmake crossoverConfigVersion.cmake crossoverTargets.cmake CrossoverPlugin.cmake; do
    has "$cmake_dir/$f"
done

has /usr/share/man/man1/crossover.1.gz
has /usr/share/doc/crossover/README.md
has /usr/share/doc/crossover/examples/quickstart/pipeline.yaml

outside=$(grep -v '^/usr\(/\|$\)' "$tmp/files" | grep -v '^$')
[ -z "$outside" ] || fail "files outside /usr: $outside"
bad_owner=$(awk '$2 != "root/root" {print $6}' "$tmp/contents")
[ -z "$bad_owner" ] || fail "files not owned by root/root: $bad_owner"
ok "file list: $(wc -l <"$tmp/files") entries, $plugin_count plugins, $header_count headers"

# ---------------------------------------------------------------- unpacked tree
root="$tmp/root"
dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x failed"
bin="$root/usr/bin/crossover"
if out=$("$bin" --version 2>&1); then
    echo "$out" | grep -qF "$version" || fail "crossover --version does not print $version: $out"
else
    fail "the packaged binary does not run: $out"
fi
# Run from a directory the build tree is not in: plugins must come from the unpacked tree.
# Run from a directory the build tree is not in: every plugin must be loaded from the unpacked
# tree (`crossover plugins` prints "KIND NAME  (PATH)" per plugin).
if out=$(cd "$tmp" && "$bin" plugins 2>&1); then
    loaded=0
    for so in "$root/usr/$plugin_subdir"/*.so; do
        [ -e "$so" ] || continue
        if echo "$out" | grep -qF "($so)"; then
            loaded=$((loaded + 1))
        else
            fail "crossover plugins did not load $so: $out"
        fi
    done
    echo "$out" | grep -qF "$build/" && fail "the packaged binary loaded plugins from the build tree: $out"
    [ "$loaded" -gt 0 ] && ok "the packaged binary loads its $loaded plugins from the unpacked tree"
else
    fail "crossover plugins fails from the unpacked package: $out"
fi

# find_package(crossover) against the unpacked tree (configure only).
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(consumer LANGUAGES CXX)
find_package(crossover REQUIRED)
if(NOT TARGET crossover::sdk)
  message(FATAL_ERROR "crossover::sdk target missing")
endif()
if(NOT COMMAND crossover_add_plugin)
  message(FATAL_ERROR "crossover_add_plugin() missing")
endif()
message(STATUS "crossover plugin dir: ${CROSSOVER_INSTALLED_PLUGIN_DIR}")
EOF
if cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$root/usr" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/consumer.log" 2>&1; then
    grep -q "crossover plugin dir: $root/usr/$plugin_subdir" "$tmp/consumer.log" \
        || fail "find_package(crossover) points the plugin dir elsewhere: $(grep 'plugin dir' "$tmp/consumer.log")"
    ok "find_package(crossover) configures against the unpacked package"
else
    cat "$tmp/consumer.log"
    fail "find_package(crossover) fails against the unpacked package"
fi

# Depends covers every package whose shared libraries the binary and the plugins load.
for elf in "$bin" "$root/usr/$plugin_subdir"/*.so; do
    [ -e "$elf" ] || continue
    # Direct dependencies only (DT_NEEDED), as dpkg-shlibdeps reads them; ldd gives their paths.
    resolved=$(ldd "$elf" 2>/dev/null)
    for soname in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        # The dynamic loader appears in ldd's output as a path (no "=>"); libc6 owns it.
        lib=$(echo "$resolved" | awk -v n="$soname" '($1 == n && $2 == "=>") {print $3}
                                                     ($2 ~ /^\(/ && $1 ~ ("/" n "$")) {print $1}')
        [ -n "$lib" ] && [ "$lib" != "not" ] || { fail "$(basename "$elf") needs $soname, which does not resolve here"; continue; }
        pkgs=$( { dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null \
                  || dpkg-query -S "${lib#/usr}" 2>/dev/null; } | sed 's/: .*//; s/:[a-z0-9_]*//g; s/,/ /g')
        [ -n "$pkgs" ] || { fail "$(basename "$elf") loads $lib, which no installed package owns"; continue; }
        found=0
        for p in $pkgs; do
            echo "$depends" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qxF "$p" && found=1
        done
        [ "$found" -eq 1 ] || fail "$(basename "$elf") loads $lib (package $pkgs), which Depends does not name: $depends"
    done
done

# Man page: renders cleanly and documents every flag of --help and --help-legacy.
man_src="$tmp/crossover.1"
if gzip -dc "$root/usr/share/man/man1/crossover.1.gz" >"$man_src" 2>/dev/null; then
    cmp -s "$man_src" "$src/packaging/crossover.1" || fail "the packaged man page differs from packaging/crossover.1"
    if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
        warnings=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$man_src" 2>&1 >/dev/null)
        [ -z "$warnings" ] || fail "man page warnings: $warnings"
    fi
    flags=$( { "$bin" --help; "$bin" --help-legacy; } 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
    [ -n "$flags" ] || fail "crossover --help printed no flags"
    # In roff a dash is written \-; undo that to compare.
    man_text=$(sed 's/\\-/-/g' "$man_src")
    missing=""
    for f in $flags; do
        echo "$man_text" | grep -q -- "$f\b" || missing="$missing $f"
    done
    [ -z "$missing" ] || fail "the man page does not document:$missing"
    ok "man page documents $(echo "$flags" | wc -l) flags"
else
    fail "the packaged man page is not gzip data"
fi

if [ "$failures" -ne 0 ]; then
    echo "deb check FAILED with $failures problem(s)"
    exit 1
fi
echo "deb check passed"
