# shellcheck shell=bash
# Commands that call the admin API (PORTCULLIS_ADMIN_URL, default the stack's): verify a recording, replay parked
# events, and the approvals of the demo approver. Tokens come from `stack token` (cmd_token) and reach curl on stdin,
# never on its command line.

cmd_verify() {
  (($# == 1)) || die "usage: dev-services/stack verify SESSION_ID"
  local id=$1 url body code
  url=$(admin_url)
  [[ "$id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || die "verify: '$id' is not a session id (a lower-case UUID)"
  body=$(mktemp)
  code=$(admin_api POST "/sessions/$id/verify" "$body")
  if [[ "$code" != 200 ]]; then
    printf 'verify: %s/sessions/%s/verify answered HTTP %s: %s\n' "$url" "$id" "$code" "$(cat "$body")" >&2
    rm -f "$body"
    exit 2
  fi
  jq . "$body"
  if jq -e '.ok' "$body" >/dev/null; then rm -f "$body"; return 0; fi
  rm -f "$body"
  return 1
}

# admin_api_as NAME METHOD PATH OUTPUT_FILE [JSON_BODY]: calls the admin API as the demo identity NAME; prints the HTTP
# status. The token goes to curl on stdin, never on its command line.
admin_api_as() {
  local who=$1 method=$2 path=$3 out=$4 body=${5:-} token code
  local args=(-s -o "$out" -w '%{http_code}' --max-time 300 -K - -X "$method")
  token=$(cmd_token "$who") || die "cannot get a $who token; is the stack up?"
  if [[ -n "$body" ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  code=$(printf 'header = "Authorization: Bearer %s"\n' "$token" | curl "${args[@]}" "$(admin_url)$path") || true
  printf '%s' "${code:-000}"
}

admin_url() { printf '%s' "${PORTCULLIS_ADMIN_URL:-http://127.0.0.1:$ADMIN_API_HTTP_PORT}"; }

# admin_api METHOD PATH OUTPUT_FILE: calls the admin API as portcullis-admin.
admin_api() { admin_api_as portcullis-admin "$@"; }

# api_failed WHAT CODE FILE: says why a call failed (the error the admin API named, with its fields) and exits 2.
api_failed() {
  local what=$1 code=$2 file=$3 why
  if [[ "$code" == 000 ]]; then
    why="cannot reach the admin API at $(admin_url); it runs in the full stack (dev-services/stack up), or set PORTCULLIS_ADMIN_URL"
  else
    why="HTTP $code: $(jq -r '.error + ((.violations // []) | map(" (" + .field + " " + .message + ")") | join(""))' "$file" \
      2>/dev/null || cat "$file")"
  fi
  rm -f "$file"
  printf '%s: %s\n' "$what" "$why" >&2
  exit 2
}

cmd_approvals() {
  (($# == 0)) || die "usage: dev-services/stack approvals"
  local body code
  body=$(mktemp)
  code=$(admin_api_as "$APPROVER" GET '/approvals?state=pending&limit=500' "$body")
  [[ "$code" == 200 ]] || api_failed "approvals: GET /approvals as $APPROVER" "$code" "$body"
  if [[ "$(jq '.items | length' "$body")" == 0 ]]; then
    info "no request is waiting for approval"
    rm -f "$body"
    return 0
  fi
  # expires_at is RFC 3339 with a fraction; jq's dates take whole seconds and Z only
  jq -r '
    def left: sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | (fromdateiso8601? // null) as $t
      | if $t == null then . else ($t - now | floor) as $s
        | if $s <= 0 then "now" else "\($s / 60 | floor)m\($s % 60)s" end end;
    ["ID", "REQUESTER", "CONNECTION", "VOTES", "EXPIRES IN", "WHAT"],
    (.items[] | [.id, (.requester.name // .requester.subject), .connection.name, "\(.approvals)/\(.min_approvals)",
      (.expires_at | left), (.summary | gsub("\\s+"; " ") | if length > 60 then .[0:57] + "..." else . end)])
    | @tsv' "$body" | awk -F'\t' '{ printf "%-36s  %-12s  %-16s  %-5s  %-10s  %s\n", $1, $2, $3, $4, $5, $6 }'
  rm -f "$body"
  info "approve: dev-services/stack approve ID [COMMENT]    deny: dev-services/stack deny ID COMMENT    (as $APPROVER)"
}

# cmd_vote approve|deny ID [COMMENT]: votes as the demo approver; the admin API asks OPA whether the vote counts.
cmd_vote() {
  local verdict=$1
  shift
  case $verdict in
    approve) (($# == 1 || $# == 2)) || die "usage: dev-services/stack approve ID [COMMENT]" ;;
    deny) (($# == 2)) || die "usage: dev-services/stack deny ID COMMENT   (a denial says why)" ;;
  esac
  local id=$1 comment=${2:-} body code payload
  [[ "$id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] \
    || die "$verdict: '$id' is not an approval request id (a lower-case UUID; 'dev-services/stack approvals' lists them)"
  payload=$(jq -cn --arg comment "$comment" 'if $comment == "" then {} else {comment: $comment} end')
  body=$(mktemp)
  code=$(admin_api_as "$APPROVER" POST "/approvals/$id/$verdict" "$body" "$payload")
  [[ "$code" == 200 ]] || api_failed "$verdict: POST /approvals/$id/$verdict as $APPROVER" "$code" "$body"
  jq -r '"request \(.id) is \(.state): \(.approvals) of \(.min_approvals) approval(s)"
    + (if .outcome then " (\(.outcome))" else "" end)' "$body"
  rm -f "$body"
}

cmd_replay_parked() {
  (($# <= 1)) || die "usage: dev-services/stack replay-parked [ID]"
  local body code path
  body=$(mktemp)
  if (($# == 1)); then
    [[ "$1" =~ ^[0-9]+$ ]] || die "replay-parked: '$1' is not a parked run's id (a number; run without ID to list them)"
    path=/recordings/parked/$1/replay
  else
    code=$(admin_api GET /recordings/parked "$body")
    [[ "$code" == 200 ]] || { printf 'replay-parked: GET /recordings/parked answered HTTP %s: %s\n' "$code" "$(cat "$body")" >&2; rm -f "$body"; exit 2; }
    if [[ "$(jq length "$body")" == 0 ]]; then
      info "nothing is parked"
      rm -f "$body"
      return 0
    fi
    jq -r '.[] | "parked run \(.id): \(.events) event(s) of session \(.session_id // "?") seqs \(.first_seq // "?")-\(.last_seq // "?") (\(.reason)): \(.error)"' "$body"
    path=/recordings/parked/replay
  fi
  code=$(admin_api POST "$path" "$body")
  if [[ "$code" != 202 ]]; then
    printf 'replay-parked: POST %s answered HTTP %s: %s\n' "$path" "$code" "$(cat "$body")" >&2
    rm -f "$body"
    exit 2
  fi
  jq . "$body"
  info "requested; the recorder replays within seconds. A run that still fails stays parked with the new error: check with 'dev-services/stack replay-parked' again, or GET /recordings/parked"
  rm -f "$body"
}
