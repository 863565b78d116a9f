# syntax=docker/dockerfile:1
# Builds the image action.yml points at: a static binary on an empty base.
# Built natively on each architecture by .github/workflows/release.yml.

# The builder by tag; its digest is looked up by the release itself, where a
# registry answers, rather than written here unchecked. A release resolves the
# tag once, builds every architecture from that digest (--build-arg
# BUILDER_IMAGE=rust:…@sha256:…) and records it in the image's labels, the
# index's annotations and the job summary (.github/workflows/release.yml).
ARG BUILDER_IMAGE=rust:1.95-slim-bookworm
FROM ${BUILDER_IMAGE} AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 ca-certificates=20230311+deb12u1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Dependencies first, in a layer of their own, so that a source change does
# not rebuild the AWS SDK.
COPY Cargo.toml Cargo.lock ./
COPY sim/Cargo.toml sim/Cargo.toml
COPY bench/Cargo.toml bench/Cargo.toml
RUN mkdir -p src sim/src bench/src \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && echo 'fn main() {}' > sim/src/main.rs && touch sim/src/lib.rs \
 && echo 'fn main() {}' > bench/src/main.rs \
 && target="$(uname -m)-unknown-linux-musl" \
 && rustup target add "$target" \
 && cargo build --release --locked --package ecs-deploy --target "$target" \
 && rm -rf src sim/src bench/src
COPY src src
RUN target="$(uname -m)-unknown-linux-musl" \
 && touch src/main.rs src/lib.rs \
 && cargo build --release --locked --package ecs-deploy --target "$target" \
 && cp "target/$target/release/ecs-deploy" /ecs-deploy

FROM scratch
# No USER line: container actions run as root so that they can write the
# runner's file-command files.
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /ecs-deploy /ecs-deploy
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/ecs-deploy"]
