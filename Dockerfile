# syntax=docker/dockerfile:1
# trunkgate container: multi-stage build, slim non-root runtime that works on a read-only root
# filesystem. Config and certificates are mounted under /etc/trunkgate; the only writable path
# is the data volume (/var/lib/trunkgate: the SQLite store, when used). The store's key file is on a
# read-only mount of its own (/run/secrets/trunkgate/store.key), never on the data volume.
#
# Base image: Node 24 LTS on Debian bookworm (slim), pinned by digest so a rebuild gets the same
# bytes. How to bump (e.g. for a Node or Debian security release):
#   docker buildx imagetools inspect node:24-bookworm-slim     # prints "Digest: sha256:…" (the index)
#   put that digest below, `docker build .`, run the suite, commit.
# The digest below is the node:24-bookworm-slim index digest (Node 24.18.0) as pinned by several
# public projects; the machine this file was written on has no registry access, so verify it with
# the command above before the first production build.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS build
# better-sqlite3 builds its native addon when no prebuilt binary fits: the toolchain for that.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TRUNKGATE_CONFIG=/etc/trunkgate/config.yaml
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY certs/digicert-global-root-g2.pem certs/baltimore-cybertrust-root.pem ./certs/
COPY config/container.yaml /etc/trunkgate/config.yaml
RUN mkdir -p /var/lib/trunkgate && chown 10001:10001 /var/lib/trunkgate
USER 10001:10001
VOLUME ["/var/lib/trunkgate"]
# SIP over TLS, HTTPS reverse proxy, provisioning API, admin (/metrics, /healthz, /readyz).
EXPOSE 5061 8443 8444 9090
STOPSIGNAL SIGTERM
# `trunkgate health` reads admin.listen from the same configuration (and TRUNKGATE__ overrides)
# the server uses, so the probe follows the admin port wherever the config puts it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "/app/dist/src/main.js", "health", "--timeout-ms", "3000"]
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["start"]
