#!/bin/sh
# Compiles the Envoy protos installed by fetch-envoy-protos.sh into one
# FileDescriptorSet (protoc --include_imports --descriptor_set_out), so that
# programs read Envoy's API without parsing .proto files at start.
#
# Usage: envoy-descriptor-set.sh DIR [OUT] [PROTOC]
#   DIR     directory laid out by fetch-envoy-protos.sh
#   OUT     output file (default DIR/envoy-api.pb)
#   PROTOC  the protoc to run (default: protoc on the PATH)
#
# Every .proto of envoy-api/ and xds/ is compiled whose imports all exist:
# the package also ships legacy v2 files that import protos it lacks (Envoy
# removed the v2 API), and those are left out. Exits non-zero when protoc
# fails; OUT is replaced only on success.
set -eu

dir=${1:?usage: envoy-descriptor-set.sh DIR [OUT] [PROTOC]}
out=${2:-$dir/envoy-api.pb}
protoc=${3:-protoc}
roots="envoy-api xds googleapis protoc-gen-validate protobuf"

case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
cd "$dir"
list=$(mktemp "${TMPDIR:-/tmp}/envoy-descriptor-set.XXXXXX")
trap 'rm -f "$list" "$out.tmp"' EXIT INT TERM

# One line per file: "ROOT RELATIVE-PATH", then every import of the file as
# "ROOT RELATIVE-PATH IMPORT". awk keeps the files whose imports, followed
# transitively, all exist under one of the roots.
for root in $roots; do
    [ -d "$root" ] || continue
    (cd "$root" && find . -name '*.proto' | sed 's#^\./##' | sort) | while read -r f; do
        echo "$root $f"
        sed -n 's/^[[:space:]]*import[[:space:]]\{1,\}\(public[[:space:]]\{1,\}\|weak[[:space:]]\{1,\}\)\{0,1\}"\([^"]*\)".*/\2/p' \
            "$root/$f" | while read -r i; do echo "$root $f $i"; done
    done
done | awk '
    NF == 2 { root[$2] = $1; order[++n] = $2; next }
    NF == 3 { imports[$2] = imports[$2] " " $3 }
    function ok(f,    parts, k, i, good) {
        if (f in state) return state[f]
        if (!(f in root)) { state[f] = 0; return 0 }
        state[f] = 1  # a cycle counts as good; protoc reports real cycles
        good = 1
        k = split(imports[f], parts, " ")
        for (i = 1; i <= k; i++) if (!ok(parts[i])) good = 0
        state[f] = good
        return good
    }
    END {
        for (i = 1; i <= n; i++) {
            f = order[i]
            if ((root[f] == "envoy-api" || root[f] == "xds") && ok(f)) print f
        }
    }' >"$list"

includes=
for root in $roots; do
    [ -d "$root" ] && includes="$includes -I$root"
done
# shellcheck disable=SC2086,SC2046
"$protoc" $includes --include_imports --descriptor_set_out="$out.tmp" $(cat "$list")
mv "$out.tmp" "$out"
echo "envoy-descriptor-set: $(wc -l <"$list") files and their imports compiled into $out"
