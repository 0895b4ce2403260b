# crossover container image.
#
#   docker build -t crossover .
#   docker run --rm crossover --help
#   docker run --rm -v "$PWD/examples/quickstart:/in:ro" crossover run /in/pipeline.yaml --onetime --dry-run
#
# The build stage compiles with the same Debian packages CI uses; the runtime stage holds only
# the binary, its plugins and the shared libraries they load. tests/packaging/dockerfile_test.sh
# checks this file without a Docker engine: keep one command per RUN line in the build stage.

FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      cmake \
      g++ \
      libboost-test-dev \
      libgrpc++-dev \
      libpoco-dev \
      libprotobuf-dev \
      libssl-dev \
      libyaml-cpp-dev \
      make \
      nodejs \
      npm \
      pkgconf \
      prometheus-cpp-dev \
      protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Warnings are errors in CI's builds; here they are only reported, as GCC 12 at -O3 emits false
# -Wrestrict positives on std::string concatenation.
RUN cmake -S . -B build -DCROSSOVER_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release -DCROSSOVER_WERROR=OFF
RUN cmake --build build --parallel "$(nproc)"
RUN cmake --install build --prefix /out --strip
# The runtime image carries no SDK headers, CMake package files or docs.
RUN rm -rf /out/include /out/lib/cmake /out/share/doc /out/share/man

FROM debian:12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libgrpc++1.51 \
      libpococrypto80 \
      libpocofoundation80 \
      libpocojson80 \
      libpoconet80 \
      libpoconetssl80 \
      libpocoutil80 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libprotobuf32 \
      libssl3 \
      libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 65532 crossover \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin crossover \
 && install -d -o 65532 -g 65532 /srv/runtime
# /out holds bin/crossover and lib/crossover/plugins: the binary finds its plugins relative to
# itself, so the tree works under /usr/local as it does anywhere else.
COPY --from=build /out/ /usr/local/
USER 65532:65532
WORKDIR /srv/runtime
EXPOSE 9090
ENTRYPOINT ["crossover"]
CMD ["--help"]
