# shellcheck shell=bash
# Fetches a service's jars from Maven Central into .tools/<svc>/lib with `mvn dependency:copy-dependencies` on a
# fetch-only pom under dev-services/<svc>/. A stamp (the pom's checksum) makes it idempotent and re-fetches after
# a version bump in the pom.

MVN=${MVN:-mvn}

_pom_stamp() { sha256sum "$1" | cut -d' ' -f1; }

jars_installed() {
  local svc=$1
  local pom="$DEV_DIR/$svc/pom.xml" stamp="$TOOLS_DIR/$svc/.pom.sha256"
  [[ -r "$stamp" && "$(<"$stamp")" == "$(_pom_stamp "$pom")" ]] && compgen -G "$TOOLS_DIR/$svc/lib/*.jar" >/dev/null
}

# install_jars SVC [EXTRA MVN ARGS...]
install_jars() {
  local svc=$1
  shift
  local pom="$DEV_DIR/$svc/pom.xml" dest="$TOOLS_DIR/$svc"
  if jars_installed "$svc"; then
    info "$(printf '%-12s jars already in %s' "$svc" "${dest#"$REPO_ROOT"/}/lib")"
    return 0
  fi
  command -v "$MVN" >/dev/null || die "$svc: Maven ('$MVN') is needed to fetch jars and is not on PATH"
  local t0
  t0=$(now_ms)
  rm -rf "${dest:?}/lib"
  mkdir -p "$dest"
  run_logged "$svc jars" "$MVN" -B -q -f "$pom" dependency:copy-dependencies \
    -DoutputDirectory="$dest/lib" -DincludeScope=runtime "$@" \
    || die "$svc: fetching jars with Maven failed (mvn -f ${pom#"$REPO_ROOT"/} dependency:copy-dependencies)"
  _pom_stamp "$pom" >"$dest/.pom.sha256"
  info "$(printf '%-12s jars fetched into %s in %ss' "$svc" "${dest#"$REPO_ROOT"/}/lib" "$(elapsed_s "$t0")")"
}
