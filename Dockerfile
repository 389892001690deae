# syntax=docker/dockerfile:1
# trunkgate container: multi-stage build, slim non-root runtime that works on a read-only root
# filesystem. Config and certificates are mounted under /etc/trunkgate; the only writable path
# is the data volume (/var/lib/trunkgate: SQLite store and its key, when used).

FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# better-sqlite3 builds its native addon here (python3, make, g++ are in this image).
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
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
EXPOSE 5061 8443 9090
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["start"]
