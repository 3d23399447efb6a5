# shellcheck shell=bash
# Dev TLS: a private CA and a server certificate for 127.0.0.1/localhost, generated once into .stack/tls/.
# PostgreSQL serves it; the gateway reuses server.crt/server.key as its own dev certificate, and verify-full tests
# trust ca.crt.

ensure_tls() {
  if [[ -s "$TLS_DIR/ca.crt" && -s "$TLS_DIR/ca.key" && -s "$TLS_DIR/server.crt" && -s "$TLS_DIR/server.key" ]]; then
    return 0
  fi
  mkdir -p "$TLS_DIR"
  local old_umask tmp
  old_umask=$(umask)
  umask 077
  tmp=$(mktemp -d "$TLS_DIR/.gen.XXXXXX")

  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 3650 \
    -subj "/O=Portcullis dev stack/CN=Portcullis dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$tmp/ca.crt"

  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/server.key" 2>/dev/null
  openssl req -new -key "$tmp/server.key" -subj "/O=Portcullis dev stack/CN=localhost" -out "$tmp/server.csr"
  cat >"$tmp/server.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  # 825 days: the longest validity that macOS/iOS clients still accept for a TLS server certificate
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$tmp/server.ext" -out "$tmp/server.crt" 2>/dev/null

  openssl verify -CAfile "$tmp/ca.crt" "$tmp/server.crt" >/dev/null || die "generated TLS certificate does not verify"
  mv "$tmp/ca.key" "$tmp/ca.crt" "$tmp/server.key" "$tmp/server.crt" "$TLS_DIR/"
  rm -rf "$tmp"
  chmod 600 "$TLS_DIR/ca.key" "$TLS_DIR/server.key"
  chmod 644 "$TLS_DIR/ca.crt" "$TLS_DIR/server.crt"
  umask "$old_umask"
  info "tls          generated CA and server certificate in ${TLS_DIR#"$REPO_ROOT"/}"
}
