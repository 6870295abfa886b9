# syntax=docker/dockerfile:1
# The operator's container image, for machines with Docker (or any BuildKit/Buildah front end):
#   docker build -t oidc-sso-operator:0.1.0 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
# `make image` (scripts/image/build.sh) builds the same image without Docker: the same release binary
# at /oidc-sso-operator, glibc from Debian 12, the CA bundle, user 65532:65532, the same entrypoint,
# cmd and labels. Both run with a read-only root filesystem (nothing is written outside /tmp mounts).

ARG RUST_VERSION=1.95

# --- build: the release binary (fat LTO, see Cargo.toml), linked against Debian 12's glibc -----------
FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# Manifests first: the dependency download is cached until Cargo.lock changes.
COPY Cargo.toml Cargo.lock ./
# Cargo.toml declares its test targets explicitly: cargo reads their paths even for `--bin`.
COPY src ./src
COPY tests ./tests
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin oidc-sso-operator \
 && install -m 0755 target/release/oidc-sso-operator /oidc-sso-operator

# --- runtime: distroless cc (glibc, libgcc, CA certificates, nonroot user 65532), no shell ------------
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="oidc-sso-operator" \
      org.opencontainers.image.description="Kubernetes operator that renders and rolls OpenMetadata Custom OIDC SSO settings from one OidcSsoConfig resource" \
      org.opencontainers.image.source="https://github.com/oidc-sso-operator/oidc-sso-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /oidc-sso-operator /oidc-sso-operator
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/oidc-sso-operator"]
CMD ["run"]
