#!/usr/bin/env bash
# Installs everything needed to build crossover and run its tests on Debian 12.
# Run as root (or with sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }

apt-get update -qq
apt_install \
  g++ cmake make pkg-config git ca-certificates \
  libpoco-dev libssl-dev libyaml-cpp-dev libboost-test-dev \
  libprotobuf-dev libprotoc-dev protobuf-compiler prometheus-cpp-dev \
  libgrpc++-dev \
  nodejs \
  python3 python3-yaml openssl \
  clang-format clang-tidy clang libclang-rt-14-dev \
  dpkg-dev file ccache

# Debian's nodejs ships npm as a separate package; builds of nodejs from
# other repositories bundle it and conflict with Debian's npm package.
if ! command -v npm >/dev/null 2>&1; then
  apt_install npm
fi
