# syntax=docker/dockerfile:1
# One image with every binary of the portal suite; k8s/ runs each Deployment's
# binary from it (`<binary> migrate`, then `<binary> serve`).
#   docker build -t portal:dev .

ARG RUST_VERSION=1
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the target dir between builds; the binaries
# are copied out of the target dir because a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
        -p gateway -p identity-svc -p access-svc -p case-svc -p partner-svc -p notify-svc \
    && mkdir -p /out \
    && cp target/release/gateway target/release/identity-svc target/release/access-svc \
        target/release/case-svc target/release/partner-svc target/release/notify-svc /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home portal \
    && mkdir -p /app/data \
    && chown portal:portal /app/data
COPY --from=builder /out/ /usr/local/bin/
WORKDIR /app
# Numeric, so that Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 10001:10001
EXPOSE 50051 50061 50062 50063 50064 50065
# Without arguments: the all-in-one gateway on 127.0.0.1, which is only reachable from
# inside the container; Kubernetes always names the binary and sets PORTAL__LISTEN.
CMD ["gateway"]
