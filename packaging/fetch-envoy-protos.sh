#!/bin/sh
# Installs Envoy's v3 API .proto files (and the protos they import) from a
# pinned version of the npm package @grpc/grpc-js-xds into DEST:
#
#   DEST/envoy-api/            envoy/...
#   DEST/xds/                  xds/..., udpa/...
#   DEST/googleapis/           google/api, google/rpc
#   DEST/protoc-gen-validate/  validate/validate.proto, patched (see below)
#   DEST/protobuf/             google/protobuf/*.proto (well-known types)
#   DEST/VERSION               the npm package version
#   DEST/envoy-api.pb          all of it compiled into one FileDescriptorSet
#                              (envoy-descriptor-set.sh; needs protoc)
#
# Usage: fetch-envoy-protos.sh DEST [--version V] [--wkt DIR] [--tarball FILE]
#   --version  npm package version (default 1.14.1)
#   --wkt      directory holding google/protobuf/*.proto (default /usr/include)
#   --tarball  use an already downloaded `npm pack` tarball instead of npm
#
# The package's validate/validate.proto predates the Envoy protos beside it
# and lacks StringRules.ignore_empty (field 26), which Envoy fields use: the
# copy installed here adds it, so a strict importer accepts every file.
#
# Exits 0 on success, 2 when npm (or the registry) is unavailable, 1 on other
# errors. DEST is replaced only when everything succeeded.
set -eu

version=1.14.1
wkt=/usr/include
tarball=
dest=

while [ $# -gt 0 ]; do
    case "$1" in
        --version) version=$2; shift 2 ;;
        --wkt) wkt=$2; shift 2 ;;
        --tarball) tarball=$2; shift 2 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        -*) echo "fetch-envoy-protos: unknown option $1" >&2; exit 1 ;;
        *) dest=$1; shift ;;
    esac
done
if [ -z "$dest" ]; then
    echo "usage: fetch-envoy-protos.sh DEST [--version V] [--wkt DIR] [--tarball FILE]" >&2
    exit 1
fi

if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$version" ]; then
    echo "fetch-envoy-protos: $dest already holds @grpc/grpc-js-xds@$version"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/envoy-protos.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

if [ -z "$tarball" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "fetch-envoy-protos: npm not found; Envoy protos not installed" >&2
        exit 2
    fi
    if ! (cd "$work" && npm pack --loglevel=error "@grpc/grpc-js-xds@$version" >npm-pack.log 2>&1); then
        echo "fetch-envoy-protos: 'npm pack @grpc/grpc-js-xds@$version' failed:" >&2
        grep -m 3 -E 'npm (error|ERR!) (code|errno|network|404|notarget)' "$work/npm-pack.log" >&2 ||
            tail -n 5 "$work/npm-pack.log" >&2 || true
        exit 2
    fi
    tarball=$(ls "$work"/*.tgz)
fi

mkdir "$work/x"
tar -xzf "$tarball" -C "$work/x"
deps="$work/x/package/deps"
for d in envoy-api xds googleapis protoc-gen-validate; do
    if [ ! -d "$deps/$d" ]; then
        echo "fetch-envoy-protos: $tarball has no deps/$d" >&2
        exit 1
    fi
done

out="$work/out"
mkdir -p "$out"
# Keep only .proto files (and licences): the package ships generated code too.
for d in envoy-api xds googleapis; do
    (cd "$deps/$d" && find . -name '*.proto' -o -name 'LICENSE*') | while read -r f; do
        mkdir -p "$out/$d/$(dirname "$f")"
        cp "$deps/$d/$f" "$out/$d/$f"
    done
done
mkdir -p "$out/protoc-gen-validate/validate"
cp "$deps/protoc-gen-validate/validate/validate.proto" "$out/protoc-gen-validate/validate/"
if [ -f "$deps/protoc-gen-validate/LICENSE" ]; then
    cp "$deps/protoc-gen-validate/LICENSE" "$out/protoc-gen-validate/"
fi

validate="$out/protoc-gen-validate/validate/validate.proto"
if ! grep -q 'ignore_empty' "$validate"; then
    # Add `optional bool ignore_empty = 26;` as the last field of StringRules.
    awk '
        /^message StringRules[ {]/ { in_rules = 1 }
        in_rules && /^}/ {
            print "";
            print "    // IgnoreEmpty specifies that the validation rules of this field should be";
            print "    // evaluated only if the field is not empty (added by crossover: newer";
            print "    // Envoy protos use it).";
            print "    optional bool ignore_empty = 26;";
            in_rules = 0; patched = 1
        }
        { print }
        END { if (!patched) exit 3 }
    ' "$validate" >"$validate.new"
    mv "$validate.new" "$validate"
fi

if [ -f "$wkt/google/protobuf/any.proto" ]; then
    mkdir -p "$out/protobuf/google/protobuf"
    cp "$wkt"/google/protobuf/*.proto "$out/protobuf/google/protobuf/"
else
    echo "fetch-envoy-protos: no well-known types under $wkt (install libprotobuf-dev)" >&2
    exit 1
fi

echo "$version" >"$out/VERSION"
# Envoy's API as one FileDescriptorSet beside the protos: what the plugins
# read at start (protobuf-compiler provides protoc).
if command -v protoc >/dev/null 2>&1; then
    sh "$(dirname "$0")/envoy-descriptor-set.sh" "$out" "$out/envoy-api.pb" >/dev/null
else
    echo "fetch-envoy-protos: protoc not found (install protobuf-compiler): no envoy-api.pb" >&2
fi
rm -rf "$dest.tmp"
mkdir -p "$(dirname "$dest")"
cp -R "$out" "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-envoy-protos: installed @grpc/grpc-js-xds@$version protos into $dest"
