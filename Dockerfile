# fraudstress worker image: `stress-runner` on PATH, run as a non-root user, /results writable.
#
#   docker build -t registry.example/fraudstress:1 .
#   docker push registry.example/fraudstress:1
#
# The image `stress-runner k8s --image ...` names must be one built from this file (see
# docs/distributed.md). These development machines have no container runtime, so this file is
# checked by reading, not by building, here.

# --- build: the toolchain pinned in rust-toolchain.toml --------------------------------------------
FROM rust:1.95.0-bookworm AS build
# aws-lc-sys (rustls' crypto provider, through the AWS SDK) is a C build that wants cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p stress-runner \
 && install -m 0755 target/release/stress-runner /usr/local/bin/stress-runner

# --- run: slim Debian, no compiler, no shell tools beyond the base -------------------------------
FROM debian:bookworm-slim
# ca-certificates: the platform roots for https:// targets and the AWS endpoints.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 fraudstress \
 && useradd --system --uid 10001 --gid fraudstress --home-dir /results --shell /usr/sbin/nologin fraudstress \
 && mkdir -p /results \
 && chown fraudstress:fraudstress /results
COPY --from=build /usr/local/bin/stress-runner /usr/local/bin/stress-runner
USER 10001:10001
WORKDIR /results
VOLUME ["/results"]
ENTRYPOINT ["stress-runner"]
CMD ["--help"]
