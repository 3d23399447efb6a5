# shellcheck shell=bash
# Keycloak for the full demo: the Quarkus distribution from Maven Central, start-dev with a dev-file (H2) database
# under .stack/keycloak, and the realm dev-services/keycloak/portcullis-realm.json imported on first start.
# Client secrets and user passwords in the realm file are ${...} placeholders fed from .stack/secrets.properties.

KC_VERSION=$(sed -n '/<artifactId>keycloak-quarkus-dist<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p}' \
  "$DEV_DIR/keycloak/pom.xml")
KC_HOME="$TOOLS_DIR/keycloak/keycloak-$KC_VERSION"
KC_REALM_FILE="$DEV_DIR/keycloak/portcullis-realm.json"
KC_DATA="$STACK_DIR/keycloak"
# Keycloak 26 needs Java 21+; the apps and the rest of the stack stay on the default Java 17.
KEYCLOAK_JAVA_HOME=${KEYCLOAK_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

keycloak_installed() { [[ -x "$KC_HOME/bin/kc.sh" ]]; }

install_keycloak() {
  if keycloak_installed; then
    [[ -n "${VERBOSE_INSTALL:-}" ]] && info "$(printf '%-12s %s already in %s' keycloak "$KC_VERSION" "${KC_HOME#"$REPO_ROOT"/}")"
    return 0
  fi
  step "fetching Keycloak $KC_VERSION (about 180 MB)"
  local t0 dist="$TOOLS_DIR/keycloak/dist"
  t0=$(now_ms)
  mkdir -p "$dist"
  run_logged "keycloak download" "$MVN" -B -q -f "$DEV_DIR/keycloak/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$dist" -DincludeTypes=zip \
    || die "keycloak: fetching org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip with Maven failed"
  run_logged "keycloak unzip" unzip -q -o "$dist/keycloak-quarkus-dist-$KC_VERSION.zip" -d "$TOOLS_DIR/keycloak" \
    || die "keycloak: unpacking the distribution failed"
  rm -rf "$dist"   # the zip stays in the local Maven repository
  keycloak_installed || die "keycloak: $KC_HOME/bin/kc.sh missing after unpacking"
  info "$(printf '%-12s %s installed in %ss' keycloak "$KC_VERSION" "$(elapsed_s "$t0")")"
}

keycloak_java_home() {
  local candidate
  for candidate in "$KEYCLOAK_JAVA_HOME" /usr/lib/jvm/*; do
    [[ -x "$candidate/bin/java" ]] || continue
    if (( $(java_major "$candidate/bin/java") >= 21 )); then
      printf '%s' "$candidate"
      return 0
    fi
  done
  return 1
}

keycloak_healthy() {
  local issuer
  issuer=$(curl -fs --max-time 3 "$KEYCLOAK_ISSUER/.well-known/openid-configuration" | jq -r .issuer) || return 1
  [[ "$issuer" == "$KEYCLOAK_ISSUER" ]]
}

up_keycloak() {
  keycloak_installed || die "keycloak: not installed in ${KC_HOME#"$REPO_ROOT"/} (run 'dev-services/stack install --keycloak')"
  if service_pid keycloak >/dev/null && keycloak_healthy; then
    report_running keycloak "$KEYCLOAK_PORT"
    return 0
  fi
  stop_service keycloak 20
  ensure_port_free keycloak "$KEYCLOAK_PORT"
  local java_home
  java_home=$(keycloak_java_home) \
    || die "keycloak: needs Java 21 or newer; none found (set KEYCLOAK_JAVA_HOME to a JDK 21+ home)"
  local t0
  t0=$(now_ms)
  mkdir -p "$KC_DATA" "$KC_HOME/data/import"
  # Keycloak imports the realm only into a new database: users added to the file later (carol) need a fresh one.
  if [[ -e "$KC_DATA/keycloakdb.mv.db" && "$KC_REALM_FILE" -nt "$KC_DATA/keycloakdb.mv.db" ]]; then
    warn "keycloak: ${KC_REALM_FILE#"$REPO_ROOT"/} changed since the realm was imported, and Keycloak does not import"
    warn "  it again; to get its users (such as carol): dev-services/stack down, rm -rf .stack/keycloak, dev-services/stack up"
  fi
  cp "$KC_REALM_FILE" "$KC_HOME/data/import/portcullis-realm.json"
  # The placeholders of the realm file are resolved from the environment at import time; only Keycloak gets
  # these variables. JAVA_OPTS_KC_HEAP replaces Keycloak's default heap sizing (a share of all RAM).
  start_bg keycloak "$KC_DATA" env \
    JAVA_HOME="$java_home" \
    JAVA_OPTS_KC_HEAP="-Xms128m -Xmx768m" \
    JAVA_OPTS_APPEND="$STACK_MARKER" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin \
    KC_BOOTSTRAP_ADMIN_PASSWORD="$KEYCLOAK_ADMIN_PASSWORD" \
    KC_AGENT_CI_SECRET="$KC_AGENT_CI_SECRET" \
    KC_AGENT_BACKUP_SECRET="$KC_AGENT_BACKUP_SECRET" \
    KC_PORTCULLIS_ADMIN_SECRET="$KC_PORTCULLIS_ADMIN_SECRET" \
    KC_AGENT_WRONG_AUD_SECRET="$KC_AGENT_WRONG_AUD_SECRET" \
    KC_AGENT_SHORT_LIVED_SECRET="$KC_AGENT_SHORT_LIVED_SECRET" \
    KC_ALICE_PASSWORD="$KC_ALICE_PASSWORD" \
    KC_BOB_PASSWORD="$KC_BOB_PASSWORD" \
    KC_CAROL_PASSWORD="$KC_CAROL_PASSWORD" \
    "$KC_HOME/bin/kc.sh" start-dev \
    --http-host=127.0.0.1 \
    --http-port="$KEYCLOAK_PORT" \
    --hostname="http://127.0.0.1:$KEYCLOAK_PORT" \
    --db=dev-file \
    --db-url="jdbc:h2:file:$KC_DATA/keycloakdb;NON_KEYWORDS=VALUE" \
    --import-realm
  # The first start also builds (augments) the server, which takes a while on two cores.
  wait_healthy keycloak 300 keycloak_healthy
  report_started keycloak "$KEYCLOAK_PORT" "$(elapsed_s "$t0")"
}

down_keycloak() { stop_service keycloak 30; }

status_keycloak() { keycloak_healthy; }

# keycloak_token NAME: machines use the client-credentials grant with their client secret; people (alice, bob, carol)
# use the password grant on the public portcullis-cli client. Secrets go to curl on stdin, never on argv.
keycloak_token() {
  local name=$1 secret_var response
  case $name in
    alice | bob | carol)
      secret_var="KC_${name^^}_PASSWORD"
      response=$(printf '%s' "${!secret_var}" | curl -sS --max-time 10 -X POST \
        "$KEYCLOAK_ISSUER/protocol/openid-connect/token" \
        -d grant_type=password -d client_id=portcullis-cli -d scope=openid \
        --data-urlencode "username=$name" --data-urlencode "password@-") || true ;;
    *)
      secret_var="KC_$(tr 'a-z-' 'A-Z_' <<<"$name")_SECRET"
      response=$(printf '%s' "${!secret_var}" | curl -sS --max-time 10 -X POST \
        "$KEYCLOAK_ISSUER/protocol/openid-connect/token" \
        -d grant_type=client_credentials --data-urlencode "client_id=$name" --data-urlencode "client_secret@-") || true ;;
  esac
  [[ -n "$response" ]] || die "keycloak: token request to $KEYCLOAK_ISSUER failed (is it running?)"
  jq -er .access_token <<<"$response" 2>/dev/null \
    || die "keycloak: no access token for '$name': $(jq -r '.error_description // .error // .' <<<"$response" 2>/dev/null)"
}
