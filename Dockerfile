# syntax=docker/dockerfile:1
# vigil: multi-stage build on node:20-slim. The runtime image holds compiled JS (no tsx at run
# time), production dependencies only, onnxruntime's linux/x64 binaries only, and runs as a
# non-root user; it writes only to --storage.path (/data), so a read-only root fs works.
# test/e2e/production-tree.test.ts builds the same tree without Docker and runs it.

FROM node:20-slim AS build
WORKDIR /src
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY cmd ./cmd
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:20-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -path '*/linux/*' -mindepth 3 -maxdepth 3 -type d ! -name x64 -exec rm -rf {} + \
 && npm cache clean --force

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY cmd/vigil-bin.mjs ./cmd/vigil-bin.mjs
COPY rules ./rules
COPY models ./models
RUN mkdir -p /data && chown 1000:1000 /data
# Numeric user (the image's "node" user) so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 9477
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:9477/-/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cmd/vigil.js"]
CMD ["run", "--storage.path=/data"]
