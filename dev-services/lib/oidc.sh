# shellcheck shell=bash
# OIDC issuer for tests: mock-oauth2-server (no.nav.security:mock-oauth2-server) with issuer id "portcullis",
# configured by dev-services/oidc/mock-oauth2.json, started through the small launcher
# dev-services/oidc/PortcullisMockOidc.java (stock server plus per-client token lifetimes).

OIDC_CP="$TOOLS_DIR/oidc/classes:$TOOLS_DIR/oidc/lib/*"
OIDC_CONFIG="$DEV_DIR/oidc/mock-oauth2.json"
OIDC_LAUNCHER_SRC="$DEV_DIR/oidc/PortcullisMockOidc.java"
OIDC_LAUNCHER_CLASS="$TOOLS_DIR/oidc/classes/PortcullisMockOidc.class"

# The launcher is compiled against the fetched jars: recompile when either the source or the jars changed.
oidc_launcher_current() {
  [[ -s "$OIDC_LAUNCHER_CLASS" && "$OIDC_LAUNCHER_CLASS" -nt "$OIDC_LAUNCHER_SRC" \
     && "$OIDC_LAUNCHER_CLASS" -nt "$TOOLS_DIR/oidc/.pom.sha256" ]]
}

oidc_installed() { jars_installed oidc && oidc_launcher_current; }

install_oidc() {
  install_jars oidc
  oidc_launcher_current && return 0
  command -v javac >/dev/null || die "mock-oidc: javac (a JDK 17+) is needed to compile $OIDC_LAUNCHER_SRC"
  rm -rf "$TOOLS_DIR/oidc/classes"
  mkdir -p "$TOOLS_DIR/oidc/classes"
  javac --release 17 -nowarn -d "$TOOLS_DIR/oidc/classes" -cp "$TOOLS_DIR/oidc/lib/*" "$OIDC_LAUNCHER_SRC" \
    || die "mock-oidc: compiling $OIDC_LAUNCHER_SRC failed"
  info "$(printf '%-12s launcher compiled into %s' mock-oidc "${TOOLS_DIR#"$REPO_ROOT"/}/oidc/classes")"
}

# Healthy = discovery answers for our issuer id, with the issuer URL the apps expect.
oidc_healthy() {
  local issuer
  issuer=$(curl -fs --max-time 2 "$MOCK_OIDC_ISSUER/.well-known/openid-configuration" | jq -r .issuer) || return 1
  [[ "$issuer" == "$MOCK_OIDC_ISSUER" ]]
}

up_oidc() {
  oidc_installed || die "mock-oidc: jars or launcher missing under ${TOOLS_DIR#"$REPO_ROOT"/} (run 'dev-services/stack install')"
  if service_pid mock-oidc >/dev/null && oidc_healthy; then
    report_running mock-oidc "$MOCK_OIDC_PORT"
    return 0
  fi
  stop_service mock-oidc 10
  ensure_port_free mock-oidc "$MOCK_OIDC_PORT"
  jq -e . "$OIDC_CONFIG" >/dev/null || die "mock-oidc: $OIDC_CONFIG is not valid JSON"
  local t0
  t0=$(now_ms)
  start_bg mock-oidc "$STACK_DIR" env \
    JSON_CONFIG_PATH="$OIDC_CONFIG" SERVER_HOSTNAME=127.0.0.1 SERVER_PORT="$MOCK_OIDC_PORT" \
    "$JAVA_BIN" -Xms32m -Xmx192m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true "$STACK_MARKER" \
    -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -cp "$OIDC_CP" PortcullisMockOidc
  wait_healthy mock-oidc 60 oidc_healthy
  report_started mock-oidc "$MOCK_OIDC_PORT" "$(elapsed_s "$t0")"
}

down_oidc() { stop_service mock-oidc 10; }

status_oidc() { oidc_healthy; }

# oidc_token NAME: a client-credentials token from the mock issuer. The mock accepts any client secret; the
# client id selects the identity (dev-services/oidc/mock-oauth2.json).
oidc_token() {
  local response
  response=$(curl -sS --max-time 10 -X POST "$MOCK_OIDC_ISSUER/token" \
    -d grant_type=client_credentials --data-urlencode "client_id=$1" -d client_secret=unused) \
    || die "mock-oidc: token request to $MOCK_OIDC_ISSUER/token failed (is the stack up?)"
  jq -er .access_token <<<"$response" 2>/dev/null \
    || die "mock-oidc: no access token for '$1': $(jq -r '.error_description // .error // .' <<<"$response" 2>/dev/null)"
}
