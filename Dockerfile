# syntax=docker/dockerfile:1
# The `chernomorsk` binary on distroless/cc: glibc, libgcc, CA certificates and time zones, no
# shell, no package manager, a non-root user. `deploy/check-image.sh` rebuilds this runtime stage
# from the same Debian packages without Docker and starts the binary in it.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the target directory are cache mounts: a rebuild after a change compiles only
# the workspace's own crates. The binary is copied out in the same step, as the mount is not kept.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p bot --bin chernomorsk \
    && install -D target/release/chernomorsk /out/chernomorsk \
    && mkdir -p /out/data/photos /out/data/backups

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/chernomorsk /usr/local/bin/chernomorsk
# A new named volume starts as a copy of this directory, owned by the non-root user (65532).
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATABASE_URL=sqlite:///data/chernomorsk.db?mode=rwc \
    PHOTO_DIR=/data/photos \
    BACKUP_DIR=/data/backups \
    PANEL_ADDR=0.0.0.0:8080 \
    RUST_LOG=info
USER 65532:65532
WORKDIR /data
VOLUME /data
EXPOSE 8080
# No curl in the image: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/chernomorsk", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/chernomorsk"]
CMD ["serve"]
