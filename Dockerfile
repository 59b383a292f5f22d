# Outflow in a container: the packed release (see README, "Installing a release") on Node.js 20.
#   docker build -t outflow .
#   docker run -d -p 8080:8080 -v outflow-home:/var/lib/outflow -e OUTFLOW_ADMIN_PASSWORD=… outflow
# Checked by test/ops.test.ts (parsed; hadolint is neither on npm nor in Debian).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The build tools (vite, esbuild) are development dependencies: this stage only.
RUN npm ci --no-audit --no-fund
COPY . .
# Builds the web app and the CLI bundle (prepare), then the tarball a release is.
RUN npm pack --pack-destination /tmp/release

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    OUTFLOW_HOME=/var/lib/outflow \
    OUTFLOW_LOG_FORMAT=json
COPY --from=build /tmp/release/ /tmp/release/
# The install scripts npm 11 must be told about by name (npm 10, in this image, runs them anyway).
RUN npm install -g --no-audit --no-fund --allow-scripts=better-sqlite3,ssh2,cpu-features,msgpackr-extract /tmp/release/outflow-*.tgz \
    && rm -rf /tmp/release \
    && npm cache clean --force \
    && groupadd --system --gid 10001 outflow \
    && useradd --system --uid 10001 --gid outflow --home-dir /var/lib/outflow --shell /usr/sbin/nologin outflow \
    && mkdir -p /var/lib/outflow \
    && chown outflow:outflow /var/lib/outflow \
    && chmod 0700 /var/lib/outflow
USER outflow
VOLUME ["/var/lib/outflow"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `outflow serve` drains on SIGTERM (runs stop at a batch boundary and resume at the next start): give it time
# with `docker stop --time 90`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["outflow"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
