# Hoist as a container: one self-contained binary (every default compiled in) on a slim
# Debian, run as an unprivileged user in the production environment. Configuration comes
# from HOIST_* variables, or from files mounted under /etc/hoist (configs/production.toml,
# routes.toml), which are read when present. See README.md, "Deploying".

# Build: a release binary from the locked dependency versions.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p hoist-server

# Run: CA certificates for TLS to AWS, nothing else.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin hoist
COPY --from=build /src/target/release/hoist-server /usr/local/bin/hoist-server
# No environment named would also mean production; naming it keeps `docker inspect` honest.
ENV HOIST_ENV=production \
    HOIST_SERVER__BIND=0.0.0.0:8080
WORKDIR /etc/hoist
USER hoist
EXPOSE 8080
# Liveness only: /heartbeat answers while the process serves. Load balancers use /ready.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["hoist-server", "healthcheck"]
ENTRYPOINT ["hoist-server"]
CMD ["serve"]
