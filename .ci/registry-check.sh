#!/usr/bin/env bash
# Installs Warren the way its users do, end to end:
#   1. a private npm registry (verdaccio) on 127.0.0.1, in a temporary folder;
#   2. `npm run release -- --registry <it>` publishes every package of this checkout (lerna publish
#      from-package; each package builds itself in prepack); then `lerna version <next minor>` in a
#      temporary clone (no commit, tag or push) must leave every package, peer range, example and
#      the lockfile in step (scripts/sync-versions.mjs --check);
#   3. in a temporary folder outside the repository: `npx @warren/cli new`, `npm install`, `npm test`,
#      `npm start` on the embedded broker (stopped after its ready line, must exit 0);
#   4. the same service on RabbitMQ (AMQP_URL): starts, consumes a message sent through its publisher;
#   5. its tests again with typescript@latest (7.x) and with class-validator 0.14.
#
# Standalone: `bash .ci/registry-check.sh` from anywhere (runs `npm ci` if node_modules is missing).
# Env: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), KEEP_WORK=1 keeps the temp folder.
# Needs the npm registry for verdaccio and the service's third-party dependencies.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"
VERDACCIO_VERSION=6.8.0
START=$(date +%s)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/warren-registry-check.XXXXXX")"
VERDACCIO_PID=""
SERVICE_PID=""

log() { printf '\n== [%ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
fail() { printf '\nregistry check FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local status=$?
  [ -n "$SERVICE_PID" ] && kill "$SERVICE_PID" 2>/dev/null || true
  [ -n "$VERDACCIO_PID" ] && kill "$VERDACCIO_PID" 2>/dev/null || true
  if [ "$status" -ne 0 ] || [ "${KEEP_WORK:-}" = 1 ]; then
    echo "work folder kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT

case "$WORK" in "$REPO"/*) fail "the temporary folder $WORK lies inside the repository";; esac

# --- 1. the registry --------------------------------------------------------------------------
log "verdaccio $VERDACCIO_VERSION in $WORK/verdaccio"
mkdir -p "$WORK/verdaccio"
cat > "$WORK/verdaccio/package.json" <<EOF
{ "private": true, "dependencies": { "verdaccio": "$VERDACCIO_VERSION" }, "overrides": { "node-fetch": "2.7.0" } }
EOF
(cd "$WORK/verdaccio" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
REGISTRY="http://127.0.0.1:$PORT/"
cat > "$WORK/verdaccio/config.yaml" <<EOF
storage: ./storage
auth:
  htpasswd:
    file: ./htpasswd
    max_users: 10
uplinks: {}
packages:
  '@warren/*':
    access: \$all
    publish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
log: { type: stdout, format: pretty, level: warn }
EOF
(cd "$WORK/verdaccio" && exec node node_modules/verdaccio/bin/verdaccio --config ./config.yaml --listen "127.0.0.1:$PORT" >verdaccio.log 2>&1) &
VERDACCIO_PID=$!
for _ in $(seq 1 60); do
  curl -sf "${REGISTRY}-/ping" >/dev/null 2>&1 && break
  kill -0 "$VERDACCIO_PID" 2>/dev/null || { cat "$WORK/verdaccio/verdaccio.log" >&2; fail "verdaccio exited"; }
  sleep 0.5
done
curl -sf "${REGISTRY}-/ping" >/dev/null || fail "verdaccio did not answer on $REGISTRY"

# A user for publishing; its token goes in an npmrc of this run only (the user's own is untouched).
TOKEN=$(curl -sf -X PUT -H 'content-type: application/json' \
  -d '{"name":"warren-ci","password":"warren-ci-password"}' \
  "${REGISTRY}-/user/org.couchdb.user:warren-ci" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
[ -n "$TOKEN" ] && [ "$TOKEN" != undefined ] || fail "could not create a registry user"
export NPM_CONFIG_USERCONFIG="$WORK/npmrc"
cat > "$NPM_CONFIG_USERCONFIG" <<EOF
@warren:registry=$REGISTRY
//127.0.0.1:$PORT/:_authToken=$TOKEN
EOF
# A cache of this run only: npx must not reuse a @warren/cli installed by an earlier run.
export NPM_CONFIG_CACHE="$WORK/npm-cache"
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# --- 2. publish from the checkout -------------------------------------------------------------
# lerna publishes from a clean working tree only: a checkout with uncommitted changes publishes its
# HEAD from a fresh clone instead (slower: npm ci there).
SRC="$REPO"
if [ -n "$(git -C "$REPO" status --porcelain)" ]; then
  log "uncommitted changes: publishing HEAD ($(git -C "$REPO" rev-parse --short HEAD)) from a fresh clone"
  git clone --quiet "$REPO" "$WORK/clone"
  SRC="$WORK/clone"
  (cd "$SRC" && env -u NPM_CONFIG_CACHE npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$SRC"
if [ ! -x node_modules/.bin/lerna ]; then log "npm ci (no node_modules)"; npm ci --no-audit --no-fund; fi
log "npm run release -- --registry $REGISTRY"
npm run release -- --registry "$REGISTRY"
for pkg in core testing cli postgres; do
  version=$(npm view "@warren/$pkg" version --registry "$REGISTRY")
  expected=$(node -p "require('./packages/$pkg/package.json').version")
  [ "$version" = "$expected" ] || fail "@warren/$pkg is $version on the registry, expected $expected"
  # A package packed without its build ships only package.json, README and LICENSE.
  files=$(npm pack "@warren/$pkg@$version" --dry-run --json --registry "$REGISTRY" 2>/dev/null \
    | node -e 'const [p] = JSON.parse(require("fs").readFileSync(0)); const f = p.files.map((x) => x.path); console.log(f.includes("dist/src/index.js") && f.includes("dist/src/index.d.ts") ? f.length : 0)')
  [ "${files:-0}" -gt 0 ] || fail "@warren/$pkg@$version has no dist/src/index.js and .d.ts: was it built before packing?"
  echo "@warren/$pkg@$version published ($files files)"
done
for example in examples/*/; do
  name=$(node -p "require('./${example}package.json').name")
  if npm view "$name" version --registry "$REGISTRY" >/dev/null 2>&1; then fail "$name (an example) was published"; fi
done

# lerna version, dry: in a clone of this commit, the next minor version (a minor bump is the one that
# leaves `^0.1.0` peer ranges behind). lerna.json allows versioning on main only, so the clone's
# branch is called main; nothing is committed, tagged or pushed, and the clone is thrown away.
NEXT=$(node -p "const [major, minor] = require('./lerna.json').version.split('.').map(Number); major + '.' + (minor + 1) + '.0'")
log "lerna version $NEXT in a temporary clone (no commit, tag or push)"
git clone --quiet "$SRC" "$WORK/version-clone"
(
  cd "$WORK/version-clone"
  git checkout --quiet -B main
  "$SRC/node_modules/.bin/lerna" version "$NEXT" --yes --no-push --no-git-tag-version --no-changelog --loglevel=warn
  node scripts/sync-versions.mjs --check
) || fail "lerna version $NEXT did not leave the Warren packages in step"
rm -rf "$WORK/version-clone"

# --- 3. a new service outside the repository ------------------------------------------------------
SERVICE="regcheck-$$"
mkdir -p "$WORK/app"
cd "$WORK/app"
log "npx @warren/cli new $SERVICE (in $WORK/app)"
npx --yes @warren/cli new "$SERVICE"
cd "$SERVICE"
grep -q '"@warren/core": "\^' package.json || fail "the new service does not depend on a published @warren/core range"
log "npm install"
npm install --no-audit --no-fund
[ "$(find node_modules -path '*/@warren/core/package.json' | wc -l)" -eq 1 ] || fail "more than one copy of @warren/core installed"
log "npm test (typescript $(npx tsc --version))"
npm test

# The process running dist/src/main.js among the descendants of a pid.
service_node_pid() {
  local child
  for child in $(ps -o pid= --ppid "$1"); do
    if ps -o args= -p "$child" | grep -q '^node .*dist/src/main.js'; then echo "$child"; return; fi
    service_node_pid "$child"
  done
}

# Starts the service, waits for its ready line, optionally runs a command, then stops it with
# SIGTERM and expects exit code 0. Output goes to $1.
run_service() {
  local out="$1"; shift
  npm start >"$out" 2>&1 &
  SERVICE_PID=$!
  for _ in $(seq 1 120); do
    grep -q '"warren started"' "$out" && break
    kill -0 "$SERVICE_PID" 2>/dev/null || { cat "$out" >&2; fail "npm start exited before its ready line"; }
    sleep 0.5
  done
  grep -q '"warren started"' "$out" || { cat "$out" >&2; fail "npm start printed no ready line within 60 s"; }
  if [ $# -gt 0 ]; then "$@" || { cat "$out" >&2; fail "$* failed"; }; fi
  # npm start runs `sh -c "tsc && node …"`: SIGTERM goes to the node process, as an orchestrator's
  # would; sh and npm then exit with its status.
  local node_pid
  node_pid=$(service_node_pid "$SERVICE_PID")
  [ -n "$node_pid" ] || fail "no node process under npm start"
  kill -TERM "$node_pid"
  local status=0
  wait "$SERVICE_PID" || status=$?
  SERVICE_PID=""
  grep -q '"warren stopped"' "$out" || { cat "$out" >&2; fail "the service did not log that it stopped"; }
  [ "$status" -eq 0 ] || { cat "$out" >&2; fail "npm start exited $status after SIGTERM"; }
}

log "npm start on the embedded broker"
AMQP_URL_SAVED="$AMQP_URL"
unset AMQP_URL
run_service "$WORK/start-memory.log"
grep -q 'embedded in-memory broker' "$WORK/start-memory.log" || fail "npm start did not say it runs on the embedded broker"
export AMQP_URL="$AMQP_URL_SAVED"

# Sends one valid task through the service's own publisher class, from a script in the service.
cat > "$WORK/send-task.js" <<'EOF'
const fromService = (id) => require(require.resolve(id, { paths: [process.cwd()] }));
fromService('reflect-metadata');
const path = require('node:path');
const dir = process.cwd();
const { Warren, silentLogger } = fromService('@warren/core');
const { TaskEvents } = require(path.join(dir, 'dist/src/handlers/task-events.publisher.js'));
(async () => {
  const app = await Warren.start({ name: 'registry-check-sender', publishers: [TaskEvents], logger: silentLogger });
  try {
    await app.get(TaskEvents).submitted({ taskId: '7c1e0f8e-5a4e-4f4e-9d59-3c2b7a1d2e6f', title: 'registry check', priority: 1 });
  } finally {
    await app.close();
  }
})().catch((error) => { console.error(error); process.exit(1); });
EOF
wait_for_log() {
  for _ in $(seq 1 40); do grep -q "$2" "$1" && return 0; sleep 0.5; done
  echo "no \"$2\" in $1" >&2
  return 1
}
wait_for_task() {
  node "$WORK/send-task.js"
  for _ in $(seq 1 40); do grep -q 'registry check" accepted' "$WORK/start-rabbitmq.log" && return 0; sleep 0.5; done
  echo "the service did not log the task it was sent" >&2
  return 1
}
delete_queues() {
  node -e '
    const { AmqpTransport } = require(require.resolve("@warren/core", { paths: [process.cwd()] }));
    const t = new AmqpTransport({ url: process.env.AMQP_URL });
    const name = process.argv[1];
    (async () => { await t.connect(5000); for (const q of [`${name}.task-submitted`, `${name}.task-submitted.dlq`]) await t.deleteQueue(q).catch(() => undefined); await t.close(); })()
      .catch((e) => { console.error(e.message); process.exit(1); });' "$SERVICE"
}
log "npm start on RabbitMQ ($(node -e 'console.log(process.argv[1].replace(/:[^:@/]*@/, ":***@"))' "$AMQP_URL")), one task sent and handled"
run_service "$WORK/start-rabbitmq.log" wait_for_task
grep -q 'NO BROKER CONFIGURED' "$WORK/start-rabbitmq.log" && fail "the service ignored AMQP_URL"
log "npm test with AMQP_URL set"
npm test
delete_queues

# --- 5. TypeScript 7 and class-validator 0.14 ---------------------------------------------------------
log "npm test with typescript@latest"
npm install --no-audit --no-fund -D typescript@latest
echo "typescript $(npx tsc --version)"
case "$(npx tsc --version)" in *" 7."*) ;; *) fail "typescript@latest is not 7.x";; esac
npm test
log "npm test with class-validator 0.14"
npm install --no-audit --no-fund class-validator@~0.14.1 2>&1 | tee "$WORK/cv14.log"
grep -q ERESOLVE "$WORK/cv14.log" && fail "class-validator 0.14 conflicts with a peer range"
npm test

# --- 6. docs/getting-started.md's project, as the page writes it ------------------------------------
log "the getting-started project (docs/snippets/project) outside the repository"
mkdir -p "$WORK/getting-started"
cp -r "$SRC/docs/snippets/project/." "$WORK/getting-started/"
rm -rf "$WORK/getting-started/dist" "$WORK/getting-started/node_modules"
cd "$WORK/getting-started"
npm install --no-audit --no-fund
echo "typescript $(npx tsc --version)"
npm test
unset AMQP_URL
run_service "$WORK/start-getting-started.log" wait_for_log "$WORK/start-getting-started.log" 'charged order'
export AMQP_URL="$AMQP_URL_SAVED"
log "the getting-started project with typescript 6"
npm install --no-audit --no-fund -D typescript@6
echo "typescript $(npx tsc --version)"
npm test

log "registry check passed in $(( $(date +%s) - START )) s"
echo "registry check: 1 passed, 0 failed"
