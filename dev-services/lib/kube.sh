# shellcheck shell=bash
# A real Kubernetes control plane without containers: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler, with kwok simulating one node (its pods are Running without ever running anything; kubectl exec
# runs on the host, kubectl logs reads prepared files, port-forward goes to a loopback port).
#
# Nothing here is downloaded as a release binary: everything is built from source through the Go module proxy
# into .tools/kube/bin/, with Go's module and build caches in .tools/go/ (rm -rf .tools resets it all).
# Run-time state (PKI, etcd data, kubeconfigs, kwok config) lives in .stack/kube/, logs in .stack/logs/kube-*.log.

KUBE_VERSION=1.36.3   # kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
ETCD_VERSION=3.6.17
KWOK_VERSION=0.8.0

KUBE_TOOLS_DIR="$TOOLS_DIR/kube"
KUBE_BIN_DIR="$KUBE_TOOLS_DIR/bin"
KUBE_SRC_DIR="$KUBE_TOOLS_DIR/src"          # generated go.mod/go.sum, one module per upstream project
KUBE_KWOK_SHARE_DIR="$KUBE_TOOLS_DIR/kwok"  # kwok's default stages and ClusterRole, copied from its module
KUBE_GO_DIR="$TOOLS_DIR/go"                 # GOMODCACHE and GOCACHE of these builds
KUBECTL="$KUBE_BIN_DIR/kubectl"

KUBE_DIR="$STACK_DIR/kube"
KUBE_PKI_DIR="$KUBE_DIR/pki"
KUBE_ADMIN_KUBECONFIG="$KUBE_DIR/admin.kubeconfig"
KUBE_EXEC_DIR="$KUBE_DIR/exec"
KUBE_LOGS_DIR="$KUBE_DIR/logs"
KUBE_NODE_NAME=kwok-node-0                  # the Node in kube/cluster.yaml

# The processes, in start order; each has a pid file and a log named kube-<component>.
KUBE_COMPONENTS=(etcd apiserver controller-manager scheduler kwok)

# ---------------------------------------------------------------------------------------------------------------
# install: go build from the module proxy
# ---------------------------------------------------------------------------------------------------------------
# kube_go ARGS...: go with this stack's caches. -modcacherw: Go makes the module cache read-only, which would make
# `rm -rf .tools` fail for a non-root user. nice: the builds take both cores for minutes.
kube_go() {
  env GOMODCACHE="$KUBE_GO_DIR/mod" GOCACHE="$KUBE_GO_DIR/cache" \
    GOFLAGS="-mod=mod -modcacherw -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off \
    nice -n 15 go "$@"
}

# kube_binary_version NAME: the version the built binary reports, in the form the version pins use
kube_binary_version() {
  local bin="$KUBE_BIN_DIR/$1" out
  [[ -x "$bin" ]] || return 1
  case $1 in
    etcd) out=$("$bin" --version 2>/dev/null) && awk '/^etcd Version:/ {print $3}' <<<"$out" ;;
    kubectl) out=$("$bin" version --client 2>/dev/null) && awk '/^Client Version:/ {sub(/^v/, "", $3); print $3}' <<<"$out" ;;
    kwok) out=$("$bin" --version 2>/dev/null) && awk '{sub(/^v/, "", $3); print $3}' <<<"$out" ;;
    *) out=$("$bin" --version 2>/dev/null) && awk '/^Kubernetes/ {sub(/^v/, "", $2); print $2}' <<<"$out" ;;
  esac
}

kube_binary_ok() {
  local want
  case $1 in
    etcd) want=$ETCD_VERSION ;;
    kwok) want=$KWOK_VERSION ;;
    *) want=$KUBE_VERSION ;;
  esac
  [[ "$(kube_binary_version "$1" 2>/dev/null)" == "$want" ]]
}

KUBE_K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

kube_installed() {
  local bin
  for bin in "${KUBE_K8S_BINARIES[@]}" etcd kwok; do
    kube_binary_ok "$bin" || return 1
  done
  [[ -s "$KUBE_KWOK_SHARE_DIR/stages.yaml" && -s "$KUBE_KWOK_SHARE_DIR/rbac.yaml" ]]
}

# kube_module_init DIR MODULE: a fresh main module in DIR (go.mod rewritten on every build, so a version bump in
# this file takes effect).
kube_module_init() {
  local dir=$1
  rm -f "$dir/go.mod" "$dir/go.sum"
  mkdir -p "$dir"
  (cd "$dir" && kube_go mod init "portcullis.devstack/$2") || return 1
  # the same language version as the upstream modules, so the same GODEBUG defaults apply
  (cd "$dir" && kube_go mod edit -go=1.26.0)
}

# k8s.io/kubernetes cannot be built with `go install ...@version`: its go.mod requires its staging modules
# (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces them with ./staging directories, and replaces in a
# dependency are ignored. So the main module here re-does those replaces with the published staging versions
# (v0.<minor>.<patch>): exactly the modules that k8s.io/kubernetes requires at v0.0.0.
build_kube_k8s() {
  local dir="$KUBE_SRC_DIR/kubernetes" gomod staging m minor patch
  local ld_pkg ldflags=(-s -w)
  IFS=. read -r _ minor patch <<<"$KUBE_VERSION"
  kube_module_init "$dir" kubernetes || return 1
  (cd "$dir" && kube_go mod edit -require="k8s.io/kubernetes@v$KUBE_VERSION") || return 1
  gomod=$(cd "$dir" && kube_go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | jq -r .GoMod) || return 1
  staging=$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$gomod")
  [[ -n "$staging" ]] || { echo "no v0.0.0 staging requirements in $gomod" >&2; return 1; }
  for m in $staging; do
    (cd "$dir" && kube_go mod edit -replace="$m=$m@v0.$minor.$patch") || return 1
  done
  for m in "${KUBE_K8S_BINARIES[@]}"; do
    (cd "$dir" && kube_go mod edit -tool="k8s.io/kubernetes/cmd/$m") || return 1
  done
  (cd "$dir" && kube_go mod tidy) || return 1
  # Without these stamps every binary reports v0.0.0, and kubectl sends that in its User-Agent.
  for ld_pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=(-X "$ld_pkg.gitVersion=v$KUBE_VERSION" -X "$ld_pkg.gitMajor=1" -X "$ld_pkg.gitMinor=$minor"
      -X "$ld_pkg.gitTreeState=clean")
  done
  local pkgs=()
  for m in "${KUBE_K8S_BINARIES[@]}"; do
    kube_binary_ok "$m" || pkgs+=("k8s.io/kubernetes/cmd/$m")
  done
  (cd "$dir" && kube_go build -trimpath -ldflags="${ldflags[*]}" -o "$KUBE_BIN_DIR/" "${pkgs[@]}")
}

# etcd's modules also replace each other with ../ paths, so it gets a main module of its own too; the server
# module's root package is etcd's main.
build_kube_etcd() {
  local dir="$KUBE_SRC_DIR/etcd"
  kube_module_init "$dir" etcd || return 1
  (cd "$dir" && kube_go mod edit -require="go.etcd.io/etcd/server/v3@v$ETCD_VERSION" \
    -tool=go.etcd.io/etcd/server/v3) || return 1
  (cd "$dir" && kube_go mod tidy) || return 1
  (cd "$dir" && kube_go build -trimpath -ldflags="-s -w" -o "$KUBE_BIN_DIR/etcd" go.etcd.io/etcd/server/v3)
}

# kwok has no replaces, but its default stages (kustomize/stage/...) are needed from its module anyway.
build_kube_kwok() {
  local dir="$KUBE_SRC_DIR/kwok"
  kube_module_init "$dir" kwok || return 1
  (cd "$dir" && kube_go mod edit -require="sigs.k8s.io/kwok@v$KWOK_VERSION" -tool=sigs.k8s.io/kwok/cmd/kwok) || return 1
  (cd "$dir" && kube_go mod tidy) || return 1
  (cd "$dir" && kube_go build -trimpath -ldflags="-s -w" -o "$KUBE_BIN_DIR/kwok" sigs.k8s.io/kwok/cmd/kwok)
}

# kwok reads stages only from its --config (a config file is not defaulted): these are the ones kwokctl uses by
# default. node/fast makes a node Ready, pod/fast makes pods Running (and finishes deleted ones), and
# heartbeat-with-lease keeps the node Ready through a Lease rather than status updates. rbac.yaml is the
# ClusterRole kwok's own deployment gives it.
install_kube_kwok_share() {
  local dir stage f
  dir=$(cd "$KUBE_TOOLS_DIR" && kube_go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | jq -r .Dir) || return 1
  [[ -d "$dir/kustomize/stage" ]] || { echo "no kustomize/stage in $dir" >&2; return 1; }
  mkdir -p "$KUBE_KWOK_SHARE_DIR"
  {
    printf '# kwok v%s default stages, copied from its module by dev-services/lib/kube.sh\n' "$KWOK_VERSION"
    for stage in node/fast pod/fast node/heartbeat-with-lease; do
      for f in "$dir/kustomize/stage/$stage"/*.yaml; do
        [[ "$(basename "$f")" == kustomization.yaml ]] && continue
        printf -- '---\n# kustomize/stage/%s/%s\n' "$stage" "$(basename "$f")"
        cat "$f"
      done
    done
  } >"$KUBE_KWOK_SHARE_DIR/stages.yaml.tmp"
  cp "$dir/kustomize/rbac/role.yaml" "$KUBE_KWOK_SHARE_DIR/rbac.yaml.tmp"
  mv "$KUBE_KWOK_SHARE_DIR/stages.yaml.tmp" "$KUBE_KWOK_SHARE_DIR/stages.yaml"
  mv "$KUBE_KWOK_SHARE_DIR/rbac.yaml.tmp" "$KUBE_KWOK_SHARE_DIR/rbac.yaml"
}

install_kube() {
  if kube_installed; then
    info "$(printf '%-12s kubernetes v%s, etcd v%s, kwok v%s already in %s' kube "$KUBE_VERSION" "$ETCD_VERSION" \
      "$KWOK_VERSION" "${KUBE_BIN_DIR#"$REPO_ROOT"/}")"
    return 0
  fi
  local t0 bin build=0
  t0=$(now_ms)
  for bin in "${KUBE_K8S_BINARIES[@]}" etcd kwok; do
    kube_binary_ok "$bin" || build=1
  done
  if ((build)); then
    command -v go >/dev/null || die "kube: Go 1.26+ is needed to build Kubernetes from source, and 'go' is not on PATH"
    # GOTOOLCHAIN=local: an older Go must not quietly download a newer toolchain
    local go_version
    go_version=$(go env GOVERSION)
    if [[ ! "$go_version" =~ ^go1\.([0-9]+) ]] || ((BASH_REMATCH[1] < 26)); then
      die "kube: Kubernetes v$KUBE_VERSION needs Go 1.26 or newer to build, and 'go' is $go_version"
    fi
    step "building Kubernetes v$KUBE_VERSION, etcd v$ETCD_VERSION and kwok v$KWOK_VERSION from source" \
      "(15-20 minutes on 2 cores and 5 GB in .tools/go the first time; output in .stack/logs/install.log)"
  fi
  command -v jq >/dev/null || die "kube: jq is needed (run 'dev-services/stack install')"
  mkdir -p "$KUBE_BIN_DIR" "$KUBE_SRC_DIR" "$KUBE_GO_DIR" "$LOG_DIR"
  for bin in "${KUBE_K8S_BINARIES[@]}"; do
    if ! kube_binary_ok "$bin"; then
      run_logged "kube: build kubernetes" build_kube_k8s || die "kube: building Kubernetes v$KUBE_VERSION failed"
      break
    fi
  done
  if ! kube_binary_ok etcd; then
    run_logged "kube: build etcd" build_kube_etcd || die "kube: building etcd v$ETCD_VERSION failed"
  fi
  if ! kube_binary_ok kwok; then
    run_logged "kube: build kwok" build_kube_kwok || die "kube: building kwok v$KWOK_VERSION failed"
  fi
  if [[ ! -s "$KUBE_KWOK_SHARE_DIR/stages.yaml" || ! -s "$KUBE_KWOK_SHARE_DIR/rbac.yaml" ]]; then
    run_logged "kube: kwok stages" install_kube_kwok_share || die "kube: copying kwok's default stages and RBAC failed"
  fi
  for bin in "${KUBE_K8S_BINARIES[@]}" etcd kwok; do
    kube_binary_ok "$bin" \
      || die "kube: $KUBE_BIN_DIR/$bin reports version '$(kube_binary_version "$bin" 2>/dev/null || true)' after the build"
  done
  info "$(printf '%-12s kubernetes v%s, etcd v%s, kwok v%s built in %ss' kube "$KUBE_VERSION" "$ETCD_VERSION" \
    "$KWOK_VERSION" "$(elapsed_s "$t0")")"
}

# ---------------------------------------------------------------------------------------------------------------
# PKI: CAs of the cluster's own, not .stack/tls's (nothing else should trust a client certificate they sign)
# ---------------------------------------------------------------------------------------------------------------
# kube_ca NAME CN SIGNED...: a CA key and certificate, made once. A new CA first deletes the certificates SIGNED
# by the old one, so they are made again.
kube_ca() {
  local name=$1 cn=$2 signed
  shift 2
  [[ -s "$KUBE_PKI_DIR/$name.crt" && -s "$KUBE_PKI_DIR/$name.key" ]] && return 0
  for signed in "$@"; do
    rm -f "$KUBE_PKI_DIR/$signed.crt" "$KUBE_PKI_DIR/$signed.key"
  done
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KUBE_PKI_DIR/$name.key" 2>/dev/null
  openssl req -x509 -new -key "$KUBE_PKI_DIR/$name.key" -sha256 -days 3650 \
    -subj "/O=Portcullis dev stack/CN=$cn" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$KUBE_PKI_DIR/$name.crt"
}

# [KUBE_CA=NAME] kube_cert NAME SUBJECT server|client [SAN]: NAME.key and NAME.crt signed by the cluster CA (or the
# CA named by KUBE_CA), made once.
kube_cert() {
  local name=$1 subject=$2 kind=$3 san=${4:-} ca=${KUBE_CA:-ca} tmp
  [[ -s "$KUBE_PKI_DIR/$name.crt" && -s "$KUBE_PKI_DIR/$name.key" ]] && return 0
  tmp=$(mktemp -d "$KUBE_PKI_DIR/.gen.XXXXXX")
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/$name.key" 2>/dev/null
  openssl req -new -key "$tmp/$name.key" -subj "$subject" -out "$tmp/$name.csr"
  {
    printf 'basicConstraints = critical, CA:FALSE\n'
    printf 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n'
    if [[ $kind == server ]]; then
      printf 'keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n'
      printf 'subjectAltName = %s\n' "$san"
    else
      printf 'keyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n'
    fi
  } >"$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$KUBE_PKI_DIR/$ca.crt" -CAkey "$KUBE_PKI_DIR/$ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$tmp/$name.ext" -out "$tmp/$name.crt" 2>/dev/null
  openssl verify -CAfile "$KUBE_PKI_DIR/$ca.crt" "$tmp/$name.crt" >/dev/null || die "kube: generated $name.crt does not verify"
  mv "$tmp/$name.key" "$tmp/$name.crt" "$KUBE_PKI_DIR/"
  rm -rf "$tmp"
}

KUBE_CLUSTER_CERTS=(apiserver controller-manager-serving scheduler-serving kubelet-serving apiserver-kubelet-client
  admin controller-manager scheduler kwok gateway)

kube_ensure_pki() {
  mkdir -p "$KUBE_PKI_DIR"
  chmod 700 "$KUBE_PKI_DIR"
  local old_umask
  old_umask=$(umask)
  umask 077
  kube_ca ca "Portcullis dev Kubernetes CA" "${KUBE_CLUSTER_CERTS[@]}"
  # The aggregation layer's CA is a separate one, as kubeadm makes it: the apiserver believes X-Remote-User headers
  # from any client certificate this CA signs.
  kube_ca front-proxy-ca "Portcullis dev Kubernetes front-proxy CA" front-proxy-client
  # 10.96.0.1 and kubernetes.default.*: the in-cluster name of the apiserver (the kubernetes Service), for clients
  # that follow in-cluster conventions.
  kube_cert apiserver "/CN=kube-apiserver" server \
    "IP:127.0.0.1, DNS:localhost, IP:10.96.0.1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local"
  kube_cert controller-manager-serving "/CN=kube-controller-manager" server "IP:127.0.0.1, DNS:localhost"
  kube_cert scheduler-serving "/CN=kube-scheduler" server "IP:127.0.0.1, DNS:localhost"
  # kwok's kubelet API; the apiserver checks it against the CA (--kubelet-certificate-authority)
  kube_cert kubelet-serving "/CN=$KUBE_NODE_NAME" server "IP:127.0.0.1, DNS:localhost, DNS:$KUBE_NODE_NAME"
  kube_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" client
  kube_cert admin "/O=system:masters/CN=kubernetes-admin" client
  kube_cert controller-manager "/CN=system:kube-controller-manager" client
  kube_cert scheduler "/CN=system:kube-scheduler" client
  kube_cert kwok "/CN=kwok-controller" client
  # The gateway: no group at all, so it can do nothing but what cluster.yaml grants it (impersonation).
  kube_cert gateway "/CN=portcullis-gateway" client
  KUBE_CA=front-proxy-ca kube_cert front-proxy-client "/CN=front-proxy-client" client
  if [[ ! -s "$KUBE_PKI_DIR/sa.key" ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KUBE_PKI_DIR/sa.key" 2>/dev/null
    openssl pkey -in "$KUBE_PKI_DIR/sa.key" -pubout -out "$KUBE_PKI_DIR/sa.pub"
  fi
  umask "$old_umask"
  # The gateway's credential (and the CA to trust) at stable paths outside pki/, for its config and tests.
  install -m 644 "$KUBE_PKI_DIR/ca.crt" "$KUBE_DIR/ca.crt"
  install -m 644 "$KUBE_PKI_DIR/gateway.crt" "$KUBE_DIR/gateway.crt"
  install -m 600 "$KUBE_PKI_DIR/gateway.key" "$KUBE_DIR/gateway.key"
}

# kube_kubeconfig FILE CERT_NAME: a kubeconfig for the apiserver with that client certificate, certificates inlined
# so the file can be copied anywhere.
kube_kubeconfig() {
  local file=$1 user=$2
  (
    umask 077
    cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: portcullis-dev
  cluster:
    server: https://127.0.0.1:$KUBE_APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$KUBE_PKI_DIR/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$KUBE_PKI_DIR/$user.crt")
    client-key-data: $(base64 -w0 "$KUBE_PKI_DIR/$user.key")
contexts:
- name: $user@portcullis-dev
  context:
    cluster: portcullis-dev
    user: $user
current-context: $user@portcullis-dev
YAML
  )
}

# ---------------------------------------------------------------------------------------------------------------
# Configuration, regenerated on every start
# ---------------------------------------------------------------------------------------------------------------
kube_write_config() {
  local c
  for c in admin controller-manager scheduler kwok gateway; do
    kube_kubeconfig "$KUBE_DIR/$c.kubeconfig" "$c"
  done

  # Metadata for every request: who (user, groups, impersonatedUser), what, and the answer; never bodies, so
  # Secret values stay out of the log.
  cat >"$KUBE_DIR/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
YAML

  mkdir -p "$KUBE_EXEC_DIR/demo-prod" "$KUBE_EXEC_DIR/demo-dev" "$KUBE_LOGS_DIR"
  local ns
  for ns in demo-prod demo-dev; do
    [[ -s "$KUBE_EXEC_DIR/$ns/index.html" ]] || printf '<h1>%s web</h1>\n' "$ns" >"$KUBE_EXEC_DIR/$ns/index.html"
    if ((EUID == 0)); then chown -R "$KUBE_EXEC_UID:$KUBE_EXEC_UID" "$KUBE_EXEC_DIR/$ns"; fi
  done

  kube_write_kwok_config >"$KUBE_DIR/kwok.yaml"
}

# Whoever may exec into a demo pod (the developers group may, in demo-dev) runs commands on this machine: when the
# stack runs as root, they run as nobody instead.
KUBE_EXEC_UID=65534
kube_exec_security_context() {
  ((EUID == 0)) || return 0
  printf '\n      securityContext: {runAsUser: %d, runAsGroup: %d}' "$KUBE_EXEC_UID" "$KUBE_EXEC_UID"
}

# The simulated node's whole behaviour. Every KwokConfiguration option is written out, at kwok's defaults where it
# has one: kwok does not default a configuration read from a file (without the parallelism values it exits with
# "playStageParallelism must be greater than 0"). nodeLeaseDurationSeconds is kwokctl's 40: with 0 kwok renews no
# Lease, which the heartbeat-with-lease stage relies on to keep the node Ready.
kube_write_kwok_config() {
  cat <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  cidr: 10.0.0.0/24
  nodeIP: 127.0.0.1
  nodeName: $KUBE_NODE_NAME
  nodePort: $KUBE_KWOK_PORT
  serverAddress: 127.0.0.1:$KUBE_KWOK_PORT
  tlsCertFile: $KUBE_PKI_DIR/kubelet-serving.crt
  tlsPrivateKeyFile: $KUBE_PKI_DIR/kubelet-serving.key
  manageAllNodes: false
  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake
  enableDebuggingHandlers: true
  enableContentionProfiling: false
  enableProfilingHandler: true
  podPlayStageParallelism: 4
  nodePlayStageParallelism: 4
  nodeLeaseDurationSeconds: 40
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 1
  enablePodsOnNodeSyncListPager: true
  enablePodsOnNodeSyncStreamWatch: false
---
# kubectl port-forward to port 80 of a demo pod reaches whatever listens on this loopback port.
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: demo-web
spec:
  selector:
    matchNamespaces: [demo-prod, demo-dev]
  forwards:
  - ports: [80]
    target:
      address: 127.0.0.1
      port: $KUBE_PORT_FORWARD_TARGET_PORT
YAML
  local ns
  for ns in demo-prod demo-dev; do
    # kubectl exec runs the command on this machine, in a working directory of the pod's namespace; kwok itself
    # runs with a minimal environment (up_kube), which the command inherits.
    # kubectl logs reads a CRI-format file ("<RFC3339Nano> stdout F <text>" per line); append to it to follow.
    cat <<YAML
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: $ns-exec
spec:
  selector:
    matchNamespaces: [$ns]
  execs:
  - local:
      workDir: $KUBE_EXEC_DIR/$ns
      envs:
      - {name: HOME, value: $KUBE_EXEC_DIR/$ns}
      - {name: POD_NAMESPACE, value: $ns}$(kube_exec_security_context)
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: $ns-logs
spec:
  selector:
    matchNamespaces: [$ns]
  logs:
  - containers: [web]
    logsFile: $KUBE_LOGS_DIR/$ns-web.log
    follow: true
YAML
  done
  cat "$KUBE_KWOK_SHARE_DIR/stages.yaml"
}

# ---------------------------------------------------------------------------------------------------------------
# Health
# ---------------------------------------------------------------------------------------------------------------
# kube_kubectl ARGS...: the built kubectl as cluster admin (its discovery cache under .stack/kube, not ~/.kube)
kube_kubectl() {
  env KUBECONFIG="$KUBE_ADMIN_KUBECONFIG" KUBECACHEDIR="$KUBE_DIR/cache" "$KUBECTL" "$@"
}

# kube_curl PATH: GET on the apiserver as admin
kube_curl() {
  curl -fsS --max-time 3 --cacert "$KUBE_PKI_DIR/ca.crt" \
    --cert "$KUBE_PKI_DIR/admin.crt" --key "$KUBE_PKI_DIR/admin.key" "https://127.0.0.1:$KUBE_APISERVER_PORT$1"
}

kube_etcd_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$KUBE_ETCD_PORT/health" | jq -e '.health == "true"' >/dev/null
}

kube_apiserver_ready() { [[ "$(kube_curl /readyz)" == ok ]]; }

# kube_component_healthy PORT: /healthz of controller-manager or scheduler (always allowed, no credentials)
kube_component_healthy() {
  [[ "$(curl -fsS --max-time 2 --cacert "$KUBE_PKI_DIR/ca.crt" "https://127.0.0.1:$1/healthz")" == ok ]]
}
kube_controller_manager_healthy() { kube_component_healthy "$KUBE_CONTROLLER_MANAGER_PORT"; }
kube_scheduler_healthy() { kube_component_healthy "$KUBE_SCHEDULER_PORT"; }

kube_node_ready() {
  kube_curl "/api/v1/nodes/$KUBE_NODE_NAME" \
    | jq -e '.status.conditions[]? | select(.type == "Ready") | .status == "True"' >/dev/null
}

# Healthy: /readyz as admin and the node Ready, and none of the five processes gone (a cluster without its scheduler
# still answers /readyz, but no new pod would ever start).
status_kube() { kube_all_running && kube_apiserver_ready && kube_node_ready; }

# At start-up only: the node's Lease exists again, so the kwok just started holds it (up_kube deletes it first).
kube_node_managed() {
  kube_node_ready && kube_curl "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$KUBE_NODE_NAME" >/dev/null
}

# ---------------------------------------------------------------------------------------------------------------
# up / down
# ---------------------------------------------------------------------------------------------------------------
kube_all_running() {
  local c
  for c in "${KUBE_COMPONENTS[@]}"; do
    service_pid "kube-$c" >/dev/null || return 1
  done
}

# kube_start COMPONENT BINARY ARGS...: each component runs with a minimal environment of its own, so nothing from
# the caller's (ETCD_* variables that etcd reads as flags, KUBECONFIG, ...) leaks in; kwok's exec'd commands
# inherit it too.
kube_start() {
  local component=$1 bin=$2
  shift 2
  start_bg "kube-$component" "$KUBE_DIR" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$KUBE_DIR" LANG=C.UTF-8 TERM=xterm "$KUBE_BIN_DIR/$bin" "$@"
}

# kube_wait NAME TIMEOUT_S CHECK_FN: wait_healthy for one component (its pid file and log are kube-NAME)
kube_wait() { wait_healthy "kube-$1" "$2" "$3"; }

up_kube() {
  kube_installed || die "kube: the Kubernetes binaries in ${KUBE_BIN_DIR#"$REPO_ROOT"/} are missing or not the pinned versions (run 'dev-services/stack install')"
  if status_kube; then
    report_running kube "$KUBE_APISERVER_PORT"
    return 0
  fi
  # Half a cluster (a crashed component, a reboot) is restarted whole: it takes seconds, and etcd keeps the state.
  down_kube >/dev/null
  local port
  for port in "$KUBE_ETCD_PORT" "$KUBE_ETCD_PEER_PORT" "$KUBE_APISERVER_PORT" "$KUBE_CONTROLLER_MANAGER_PORT" \
    "$KUBE_SCHEDULER_PORT" "$KUBE_KWOK_PORT"; do
    ensure_port_free kube "$port"
  done
  local t0
  t0=$(now_ms)
  mkdir -p "$KUBE_DIR"
  # traversable (not listable) for the exec user when the stack runs as root; the PKI below stays 0700
  chmod 711 "$KUBE_DIR"
  kube_ensure_pki
  kube_write_config

  # Plain HTTP on loopback, as kwokctl's binary runtime does: only the apiserver talks to it.
  # --unsafe-no-fsync: speed over durability, like PostgreSQL's fsync=off here.
  kube_start etcd etcd --name=portcullis --data-dir="$KUBE_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$KUBE_ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$KUBE_ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$KUBE_ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$KUBE_ETCD_PEER_PORT" \
    --initial-cluster="portcullis=http://127.0.0.1:$KUBE_ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level=warn
  kube_wait etcd 30 kube_etcd_healthy

  # --endpoint-reconciler-type=none: no Endpoints for the kubernetes Service (nothing in the cluster can reach
  # 127.0.0.1 anyway). The service-account issuer is the apiserver's own URL, so its discovery document is
  # reachable from this machine.
  kube_start apiserver kube-apiserver \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$KUBE_APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$KUBE_ETCD_PORT" \
    --tls-cert-file="$KUBE_PKI_DIR/apiserver.crt" --tls-private-key-file="$KUBE_PKI_DIR/apiserver.key" \
    --client-ca-file="$KUBE_PKI_DIR/ca.crt" \
    --requestheader-client-ca-file="$KUBE_PKI_DIR/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$KUBE_PKI_DIR/front-proxy-client.crt" \
    --proxy-client-key-file="$KUBE_PKI_DIR/front-proxy-client.key" \
    --service-account-issuer="https://127.0.0.1:$KUBE_APISERVER_PORT" \
    --service-account-key-file="$KUBE_PKI_DIR/sa.pub" --service-account-signing-key-file="$KUBE_PKI_DIR/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --authorization-mode=Node,RBAC \
    --endpoint-reconciler-type=none \
    --kubelet-client-certificate="$KUBE_PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$KUBE_PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$KUBE_PKI_DIR/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --audit-policy-file="$KUBE_DIR/audit-policy.yaml" --audit-log-path="$(log_file kube-audit)" \
    --audit-log-maxsize=100 --audit-log-maxbackup=2 \
    --profiling=false
  kube_wait apiserver 90 kube_apiserver_ready

  # What the components themselves need before they start: kwok's RBAC, the gateway's, and the node kwok
  # simulates (kwok manages nodes, it does not register one).
  kube_apply_bootstrap

  # --leader-elect=false: one instance each, and a restarted one need not wait for its old lease to expire.
  kube_start controller-manager kube-controller-manager \
    --bind-address=127.0.0.1 --secure-port="$KUBE_CONTROLLER_MANAGER_PORT" \
    --tls-cert-file="$KUBE_PKI_DIR/controller-manager-serving.crt" \
    --tls-private-key-file="$KUBE_PKI_DIR/controller-manager-serving.key" \
    --kubeconfig="$KUBE_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$KUBE_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$KUBE_DIR/controller-manager.kubeconfig" \
    --client-ca-file="$KUBE_PKI_DIR/ca.crt" \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$KUBE_PKI_DIR/sa.key" --root-ca-file="$KUBE_PKI_DIR/ca.crt" \
    --cluster-signing-cert-file="$KUBE_PKI_DIR/ca.crt" --cluster-signing-key-file="$KUBE_PKI_DIR/ca.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --leader-elect=false --profiling=false
  kube_start scheduler kube-scheduler \
    --bind-address=127.0.0.1 --secure-port="$KUBE_SCHEDULER_PORT" \
    --tls-cert-file="$KUBE_PKI_DIR/scheduler-serving.crt" --tls-private-key-file="$KUBE_PKI_DIR/scheduler-serving.key" \
    --kubeconfig="$KUBE_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig="$KUBE_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig="$KUBE_DIR/scheduler.kubeconfig" \
    --client-ca-file="$KUBE_PKI_DIR/ca.crt" \
    --leader-elect=false --profiling=false
  kube_start kwok kwok --config="$KUBE_DIR/kwok.yaml" --kubeconfig="$KUBE_DIR/kwok.kubeconfig"
  kube_wait controller-manager 60 kube_controller_manager_healthy
  kube_wait scheduler 60 kube_scheduler_healthy
  kube_wait kwok 60 kube_node_managed

  kube_seed_demo
  kube_wait_demo_pods 90
  kube_save_gateway_token
  report_started kube "$KUBE_APISERVER_PORT" "$(elapsed_s "$t0")"
}

# The node and the controllers first (together: each takes a second or two to exit), then the apiserver they talk
# to, etcd last.
# Waits for its own stoppers only: a bare `wait` would also wait for every service this shell started (on a fresh
# machine `up` starts PostgreSQL first, and then waited for it forever).
down_kube() {
  local c stoppers=()
  for c in kwok scheduler controller-manager; do
    stop_service "kube-$c" 20 &
    stoppers+=($!)
  done
  wait "${stoppers[@]}"
  stop_service kube-apiserver 30
  stop_service kube-etcd 20
}

# ---------------------------------------------------------------------------------------------------------------
# Seed (kubectl apply: idempotent)
# ---------------------------------------------------------------------------------------------------------------
# kube_apply WHAT FILE...: apply as admin; on failure name the output and stop
kube_apply() {
  local what=$1 out
  shift
  local args=() f
  for f in "$@"; do args+=(-f "$f"); done
  out=$(kube_kubectl apply "${args[@]}" 2>&1) || {
    printf '%s\n' "$out" | sed 's/^/       | /' >&2
    die "kube: applying $what failed (kubectl output above)"
  }
}

kube_apply_bootstrap() {
  kube_apply "kwok's ClusterRole" "$KUBE_KWOK_SHARE_DIR/rbac.yaml"
  kube_apply "the cluster bootstrap (node, RBAC)" "$DEV_DIR/kube/cluster.yaml"
  # Each kwok process has a new identity, and leaves the node's pods alone until it holds the node's Lease: after a
  # restart it would wait up to 40 s for the old one to expire (a pod created or deleted meanwhile stays Pending or
  # Terminating). The old kwok is stopped by now, so its Lease can go.
  kube_kubectl delete lease -n kube-node-lease "$KUBE_NODE_NAME" --ignore-not-found >/dev/null \
    || die "kube: deleting the node's old Lease failed"
}

kube_seed_demo() {
  local ns
  for ns in demo-prod demo-dev; do
    # Three lines of nginx access log, once; tests append their own lines (kubectl logs -f shows them).
    if [[ ! -s "$KUBE_LOGS_DIR/$ns-web.log" ]]; then
      local ts
      ts=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
      {
        printf '%s stderr F %s [notice] 1#1: start worker processes (%s)\n' "$ts" "$(date -u '+%Y/%m/%d %H:%M:%S')" "$ns"
        printf '%s stdout F 127.0.0.1 - - "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" (%s)\n' "$ts" "$ns"
        printf '%s stdout F 127.0.0.1 - - "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.36" (%s)\n' "$ts" "$ns"
      } >"$KUBE_LOGS_DIR/$ns-web.log"
    fi
  done
  kube_apply "the demo namespaces" "$DEV_DIR/kube/demo.yaml"
}

# Bounded wait for both demo Deployments' pods to be Running; on a timeout, names the component that most likely
# failed (no pods: controller-manager; pods without a node: scheduler; pods not Running: kwok).
kube_wait_demo_pods() {
  local timeout=$1 deadline ns pods phases culprit
  deadline=$(($(now_ms) + timeout * 1000))
  while :; do
    culprit=
    for ns in demo-prod demo-dev; do
      pods=$(kube_kubectl get pods -n "$ns" -l app=web -o json 2>/dev/null) || { culprit=apiserver; break; }
      phases=$(jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] |
        if length < 2 then "controller-manager"
        elif any(.[]; .spec.nodeName == null) then "scheduler"
        elif any(.[]; .status.phase != "Running") then "kwok"
        else "" end' <<<"$pods")
      if [[ -n "$phases" ]]; then culprit=$phases; break; fi
    done
    [[ -z "$culprit" ]] && return 0
    if (($(now_ms) > deadline)); then
      fail_service "kube-$culprit" "the demo Deployments' pods are not Running after ${timeout}s (see 'dev-services/stack kubectl get pods -A')"
    fi
    sleep 0.5
  done
}

# The ServiceAccount alternative to the gateway's client certificate: the long-lived token of
# portcullis-system/portcullis-gateway (bound to the same ClusterRole), in .stack/kube/gateway.token.
kube_save_gateway_token() {
  local token i
  for ((i = 0; i < 40; i++)); do
    token=$(kube_kubectl get secret -n portcullis-system portcullis-gateway-token -o jsonpath='{.data.token}' 2>/dev/null) || true
    if [[ -n "$token" ]]; then
      (umask 077 && base64 -d <<<"$token" >"$KUBE_DIR/gateway.token")
      return 0
    fi
    sleep 0.25
  done
  fail_service kube-controller-manager "the token of ServiceAccount portcullis-system/portcullis-gateway was not issued within 10s"
}
