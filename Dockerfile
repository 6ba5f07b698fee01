# One image for all four apps (gateway, order, store, delivery). The build is identical for each;
# only the entry point differs, chosen by APP:
#
#   docker build --build-arg APP=store -t food-2pc-store .
#   docker run -e APP=order food-2pc-store      # APP may also be overridden at run time
#
# docker-compose.yml passes `args: { APP: <name> }` for every service.

# ---------------------------------------------------------------------------------------------
# build: install every dependency, compile TypeScript, then drop the dev dependencies so the
# runtime stage can copy node_modules as is. Both stages run Node 24 (LTS), the line
# scripts/node24.sh tests, on Debian 13 (trixie).
# ---------------------------------------------------------------------------------------------
FROM node:24-trixie-slim AS build
WORKDIR /app

# Manifests first: the `npm ci` layer stays cached until the dependencies change.
COPY package.json package-lock.json ./
RUN npm ci

COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts

# Produces dist/apps/<app>/src/main.js and dist/scripts/*.js (tsc-alias rewrites the @app/* libraries
# to relative paths, so nothing resolves tsconfig paths at run time), and copies the live page's
# HTML, CSS and script from apps/ next to the gateway's code.
RUN npm run build \
 && npm prune --omit=dev

# ---------------------------------------------------------------------------------------------
# runtime: production dependencies and compiled code only; no sources, no compiler.
# ---------------------------------------------------------------------------------------------
FROM node:24-trixie-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

# Owned by root and read-only for the app user: the apps never write to their own directory.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# Which app this image starts: gateway | order | store | delivery.
ARG APP
ENV APP=${APP}

# The official node image ships the unprivileged `node` user (uid 1000).
USER node

# `exec` makes node PID 1, so it receives docker's SIGTERM directly and the apps' shutdown hooks
# (enableShutdownHooks) close RabbitMQ and MySQL connections cleanly on `docker compose stop`.
# The V8 flags scripts/system.ts gives the apps (APP_NODE_FLAGS there says why; a test keeps them equal).
CMD ["sh", "-c", "exec node --max-old-space-size=512 --max-semi-space-size=8 dist/apps/$APP/src/main.js"]
