# One image per service from one multi-stage build: docker build --build-arg APP=orders .
# The Node.js line of .nvmrc and package.json engines (a test keeps the three in step).
ARG NODE_IMAGE=node:24-slim

# Build every app once; the stage is shared (and cached) by the four images.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json nest-cli.json ./
COPY libs libs
COPY apps apps
# --omit=optional as well: typescript and ts-node are optional peers of typeorm and
# @nestjs/swagger, which --omit=dev alone keeps.
RUN npx nest build --all && npm prune --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts

# Production dependencies and one app's compiled code, as the unprivileged user node.
FROM ${NODE_IMAGE} AS runtime
ARG APP
RUN test -n "${APP}" || (echo "build with --build-arg APP=orders|users|inventory|email" && exit 1)
# Listen on every interface of the container; the deployment decides what is published.
ENV NODE_ENV=production APP=${APP} HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/apps/${APP} ./dist
COPY deploy/healthcheck.mjs ./healthcheck.mjs
USER node
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=6 CMD ["node", "/app/healthcheck.mjs"]
# The flags of scripts/service-node-flags.json (README, Operations, says why each).
CMD ["sh", "-c", "exec node --enable-source-maps --max-semi-space-size=4 dist/apps/${APP}/src/main.js"]
