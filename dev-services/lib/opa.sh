# shellcheck shell=bash
# Open Policy Agent, serving the policy bundle from policies-rego/bundle: the production policies and their data
# only (their tests live in policies-rego/test/ and are never served).

OPA_VERSION=1.22.3
OPA_BIN="$TOOLS_DIR/bin/opa"
# STACK_OPA_BUNDLE overrides the bundle directory (for trying the stack before policies-rego/bundle exists).
OPA_BUNDLE_DIR=${STACK_OPA_BUNDLE:-$REPO_ROOT/policies-rego/bundle}

opa_installed() {
  [[ -x "$OPA_BIN" ]] || return 1
  local version
  version=$("$OPA_BIN" version 2>/dev/null) || return 1
  grep -qx "Version: $OPA_VERSION" <<<"$version"
}

install_opa() {
  if opa_installed; then
    info "$(printf '%-12s %s already in %s' opa "$OPA_VERSION" "${OPA_BIN#"$REPO_ROOT"/}")"
    return 0
  fi
  command -v go >/dev/null || die "opa: Go is needed to build OPA $OPA_VERSION (go install), and 'go' is not on PATH"
  step "building OPA $OPA_VERSION with go install (a few minutes the first time)"
  local t0
  t0=$(now_ms)
  mkdir -p "$TOOLS_DIR/bin"
  run_logged "opa build" env GOBIN="$TOOLS_DIR/bin" go install "github.com/open-policy-agent/opa@v$OPA_VERSION" \
    || die "opa: 'go install github.com/open-policy-agent/opa@v$OPA_VERSION' failed"
  opa_installed || die "opa: $OPA_BIN does not report version $OPA_VERSION after install"
  info "$(printf '%-12s %s installed in %ss' opa "$OPA_VERSION" "$(elapsed_s "$t0")")"
}

# The gateway keys its decision cache on the bundle manifest's revision alone, and `opa run --watch` reloads edited
# policies under the revision they were stamped with. Policies edited without `policies-rego/check --stamp` would
# leave the gateways serving cached decisions of the old policies until those expire, so say so.
warn_unstamped_bundle() {
  [[ -z ${STACK_OPA_BUNDLE:-} ]] || return 0 # another bundle: its revision is its builder's business
  local stamped files
  stamped=$(jq -r '.revision // ""' "$OPA_BUNDLE_DIR/.manifest" 2>/dev/null) || return 0
  files=$("$REPO_ROOT/policies-rego/revision") || return 0
  [[ $stamped == "$files" ]] \
    || warn "opa: policies-rego/bundle is revision $files but its manifest says '$stamped'; gateways keep decisions of the old policies until they expire. Run: policies-rego/check --stamp"
}

opa_healthy() {
  # ?bundles: healthy only once the bundle is activated
  curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$OPA_PORT/health?bundles"
}

up_opa() {
  opa_installed || die "opa: $OPA_BIN missing or not version $OPA_VERSION (run 'dev-services/stack install')"
  warn_unstamped_bundle
  if service_pid opa >/dev/null && opa_healthy; then
    report_running opa "$OPA_PORT"
    return 0
  fi
  stop_service opa 5
  [[ -d "$OPA_BUNDLE_DIR" ]] \
    || die "opa: policy bundle directory $OPA_BUNDLE_DIR does not exist (set STACK_OPA_BUNDLE to use another)"
  ensure_port_free opa "$OPA_PORT"
  local t0
  t0=$(now_ms)
  # --skip-version-check: OPA would otherwise call GitHub for a version check; this stack talks to loopback only.
  # --watch: reload the bundle directory when policies change, so policy edits need no restart.
  # Request logs are emitted at debug, below the info log level: at info OPA logs every request.
  # STACK_OPA_REQUEST_LOG_LEVEL=info shows them.
  start_bg opa "$REPO_ROOT" "$OPA_BIN" run --server \
    --addr "127.0.0.1:$OPA_PORT" \
    --skip-version-check \
    --log-format text --log-level info --log-level-request "${STACK_OPA_REQUEST_LOG_LEVEL:-debug}" \
    --watch \
    --bundle "$OPA_BUNDLE_DIR"
  wait_healthy opa 30 opa_healthy
  report_started opa "$OPA_PORT" "$(elapsed_s "$t0")"
}

down_opa() { stop_service opa 10; }

status_opa() { opa_healthy; }
