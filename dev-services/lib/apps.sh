# shellcheck shell=bash
# The three Portcullis apps, from their Quarkus fast-jar builds (<module>/target/quarkus-app/quarkus-run.jar).

APPS=(gateway admin-api recorder)

app_port() {
  case $1 in
    gateway) printf '%s' "$GATEWAY_HTTP_PORT" ;;
    admin-api) printf '%s' "$ADMIN_API_HTTP_PORT" ;;
    recorder) printf '%s' "$RECORDER_HTTP_PORT" ;;
    *) return 1 ;;
  esac
}

app_jar() { printf '%s/%s/target/quarkus-app/quarkus-run.jar' "$REPO_ROOT" "$1"; }

app_healthy() {
  curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$(app_port "$1")/q/health/ready"
}

# Alive, if perhaps not ready (a dependency is away, the app waits for it): restarting it would not help, and would
# drop its live sessions.
app_alive() {
  curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$(app_port "$1")/q/health/live"
}

# An app needs a build when its jar is missing or older than any of its sources (or the shared ones), so `up`
# never starts stale code.
app_stale() {
  local jar
  jar=$(app_jar "$1")
  [[ -s "$jar" ]] || return 0
  [[ -n "$(find "$REPO_ROOT/$1/src" "$REPO_ROOT/$1/pom.xml" "$REPO_ROOT/contract/src" "$REPO_ROOT/pom.xml" \
    -newer "$jar" -type f -print -quit 2>/dev/null)" ]]
}

build_apps_if_missing() {
  local app missing=()
  for app in "${APPS[@]}"; do
    app_stale "$app" && missing+=("$app")
  done
  ((${#missing[@]} == 0)) && return 0
  step "building the apps (missing or older than their sources: ${missing[*]}): mvn -B -q -DskipTests package"
  local t0
  t0=$(now_ms)
  (cd "$REPO_ROOT" && "$MVN" -B -q -DskipTests package) || die "apps: 'mvn -B -q -DskipTests package' failed"
  for app in "${missing[@]}"; do
    [[ -s "$(app_jar "$app")" ]] || die "apps: $(app_jar "$app") still missing after the build"
  done
  info "$(printf '%-12s built in %ss' apps "$(elapsed_s "$t0")")"
}

# up_app NAME ISSUER_URL
up_app() {
  local app=$1 issuer=$2 port
  port=$(app_port "$app")
  if service_pid "$app" >/dev/null && app_alive "$app"; then
    app_healthy "$app" || warn "$app is running but not ready: see http://127.0.0.1:$port/q/health/ready"
    report_running "$app" "$port"
    return 0
  fi
  stop_service "$app" 20
  ensure_port_free "$app" "$port"
  local t0 extra=()
  t0=$(now_ms)
  # The gateway serves the dev certificate of the stack (the one PostgreSQL uses) on its PostgreSQL and Kubernetes
  # listeners, and keeps its event journal under .stack/, so that `down --purge` really starts over.
  if [[ "$app" == gateway ]]; then
    extra+=("-Dportcullis.postgres.tls-cert=$TLS_DIR/server.crt" "-Dportcullis.postgres.tls-key=$TLS_DIR/server.key"
      "-Dportcullis.kubernetes.tls-cert=$TLS_DIR/server.crt" "-Dportcullis.kubernetes.tls-key=$TLS_DIR/server.key"
      "-Dportcullis.ssh.host-key=$SSH_GATEWAY_HOST_KEY" "-Dportcullis.ssh.ca-key=$SSH_GATEWAY_CA_KEY"
      "-Dportcullis.recording.journal-dir=$STACK_DIR/journal/gateway"
      "-Dportcullis.approval.how-to-approve=dev-services/stack approve {id}")
  fi
  start_bg "$app" "$REPO_ROOT/$app" "$JAVA_BIN" "$STACK_MARKER" \
    "-Dquarkus.config.locations=$STACK_ENV_FILE,$SECRETS_FILE" \
    "-Dportcullis.oidc-issuer=$issuer" \
    "${extra[@]}" \
    -jar "$(app_jar "$app")"
  wait_healthy "$app" 180 app_healthy "$app"
  report_started "$app" "$port" "$(elapsed_s "$t0")"
}

down_apps() {
  local i
  for ((i = ${#APPS[@]} - 1; i >= 0; i--)); do
    stop_service "${APPS[i]}" 30
  done
}

# Registers demo-prod and demo-dev through the admin API, as portcullis-admin. 409 = already registered.
register_demo_connections() {
  local token
  token=$(issuer_token portcullis-admin)
  local name db env code body_file
  for name in demo-prod demo-dev; do
    case $name in
      demo-prod) db=$DEMO_PROD_DB env=prod ;;
      demo-dev) db=$DEMO_DEV_DB env=dev ;;
    esac
    # The password reaches jq through the environment and curl through a short-lived 0600 file in .stack/conf:
    # never on a command line.
    body_file=$(mktemp "$CONF_DIR/connection.XXXXXX")
    DEMO_DB_PASSWORD=$DEMO_DB_PASSWORD jq -n \
      --arg name "$name" --arg host 127.0.0.1 --argjson port "$PG_PORT" --arg database "$db" \
      --arg username "$DEMO_DB_USER" --arg env "$env" \
      '{name: $name, type: "postgres", host: $host, port: $port, database: $database, username: $username,
        password: env.DEMO_DB_PASSWORD, tls_mode: "require", tags: {env: $env}}' >"$body_file"
    code=$(printf 'header = "Authorization: Bearer %s"\n' "$token" \
      | curl -sS -o "$LOG_DIR/register-$name.response" -w '%{http_code}' --max-time 15 -K - \
          -H 'Content-Type: application/json' --data-binary "@$body_file" \
          "http://127.0.0.1:$ADMIN_API_HTTP_PORT/connections") || code=000
    rm -f "$body_file"
    case $code in
      200 | 201) info "$(printf '%-12s registered connection %s' admin-api "$name")" ;;
      409) info "$(printf '%-12s connection %s already registered' admin-api "$name")" ;;
      *) fail_service admin-api "registering connection $name returned HTTP $code (response: $LOG_DIR/register-$name.response)" ;;
    esac
  done
}

# Registers the stack's Kubernetes cluster as demo-k8s-prod (env prod) and demo-k8s-dev (env dev), reached with the
# gateway's client certificate (.stack/kube/gateway.crt, which may only impersonate) and checked against the
# cluster's CA. Straight into the registry, sealed as the admin API seals (dev-services/kube/SealCredential.java), so
# that the gateway's tests can register them without an admin API process; an operator registers a cluster through
# the admin API (type kubernetes). Idempotent; the NOTIFY trigger tells the gateway.
register_demo_kube_connections() {
  local jar name env forwards remote sealed
  jar=$(ls "$REPO_ROOT"/contract/target/portcullis-contract-*-SNAPSHOT.jar 2>/dev/null | grep -v -- -tests | head -1)
  [[ -n "$jar" ]] || die "kube connections: no contract jar in contract/target (mvn -DskipTests package)"
  load_secrets
  for name in demo-k8s-prod demo-k8s-dev; do
    case $name in
      demo-k8s-prod) env=prod ;;
      demo-k8s-dev) env=dev ;;
    esac
    sealed=$(cat "$KUBE_DIR/gateway.crt" "$KUBE_DIR/gateway.key" \
      | PORTCULLIS_SECRET_KEY=$PORTCULLIS_SECRET_KEY "$JAVA_BIN" -cp "$jar" "$DEV_DIR/kube/SealCredential.java" "$name") \
      || die "kube connections: sealing the credential of $name failed"
    psql_super -d "$PORTCULLIS_DB" -v name="$name" -v port="$KUBE_APISERVER_PORT" -v sealed="$sealed" -v env="$env" -v forwards="$forwards" -v remote="$remote" \
      -v ca="$(cat "$KUBE_PKI_DIR/ca.crt")" <<'SQL' || die "kube connections: registering $name failed"
INSERT INTO connections (name, type, host, port, secret, tls_mode, tls_ca_pem, tags)
VALUES (:'name', 'kubernetes', '127.0.0.1', :'port'::int, decode(:'sealed', 'base64'), 'verify-full', :'ca',
        jsonb_build_object('env', :'env'))
ON CONFLICT (name) DO UPDATE SET type = excluded.type, host = excluded.host, port = excluded.port, database = NULL,
  username = NULL, secret = excluded.secret, tls_mode = excluded.tls_mode, tls_ca_pem = excluded.tls_ca_pem,
  tags = excluded.tags, updated_at = now();
SQL
    info "$(printf '%-12s registered connection %s (kubernetes)' gateway "$name")"
  done
}

# Registers the stack's sshd as demo-box (env dev) and demo-box-prod (env prod): the gateway logs in as the user who
# runs the stack with its own key (.stack/ssh/gateway_login_ed25519, sealed), and accepts only the target's host key
# registered here (settings.host_key). demo-box lists one forward destination (tag ssh_forwards), 127.0.0.1:8080, and
# one remote forward listen address (tag ssh_remote_forwards), 127.0.0.1:9000, for the README's ssh -L and -R walkthrough. Straight into the registry, sealed as the admin API seals. Idempotent; the NOTIFY
# trigger tells the gateway.
register_demo_ssh_connections() {
  local jar name env forwards remote sealed
  jar=$(ls "$REPO_ROOT"/contract/target/portcullis-contract-*-SNAPSHOT.jar 2>/dev/null | grep -v -- -tests | head -1)
  [[ -n "$jar" ]] || die "ssh connections: no contract jar in contract/target (mvn -DskipTests package)"
  load_secrets
  for name in demo-box demo-box-prod; do
    case $name in
      demo-box) env=dev forwards=127.0.0.1:8080 remote=127.0.0.1:9000 ;;
      demo-box-prod) env=prod forwards= remote= ;;
    esac
    sealed=$(PORTCULLIS_SECRET_KEY=$PORTCULLIS_SECRET_KEY "$JAVA_BIN" -cp "$jar" "$DEV_DIR/kube/SealCredential.java" "$name" \
      <"$SSH_GATEWAY_LOGIN_KEY") || die "ssh connections: sealing the key of $name failed"
    psql_super -d "$PORTCULLIS_DB" -v name="$name" -v port="$SSH_TARGET_PORT" -v sealed="$sealed" -v env="$env" -v forwards="$forwards" -v remote="$remote" \
      -v login="$(id -un)" -v host_key="$(awk '{print $1" "$2}' "$SSH_TARGET_HOST_KEY.pub")" <<'SQL' \
      || die "ssh connections: registering $name failed"
INSERT INTO connections (name, type, host, port, username, secret, tls_mode, tags, settings)
VALUES (:'name', 'ssh', '127.0.0.1', :'port'::int, :'login', decode(:'sealed', 'base64'), 'disable',
        jsonb_strip_nulls(jsonb_build_object('env', :'env', 'ssh_forwards', NULLIF(:'forwards', ''), 'ssh_remote_forwards', NULLIF(:'remote', ''))),
        jsonb_build_object('host_key', :'host_key'))
ON CONFLICT (name) DO UPDATE SET type = excluded.type, host = excluded.host, port = excluded.port, database = NULL,
  username = excluded.username, secret = excluded.secret, tls_mode = excluded.tls_mode, tls_ca_pem = NULL,
  tags = excluded.tags, settings = excluded.settings, updated_at = now();
SQL
    info "$(printf '%-12s registered connection %s (ssh)' gateway "$name")"
  done
}
