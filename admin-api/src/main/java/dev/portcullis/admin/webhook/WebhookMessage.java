package dev.portcullis.admin.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.admin.approval.Times;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The body of one webhook POST: Slack-compatible ({@code text} and {@code blocks}, so an incoming-webhook URL of
 * Slack or Mattermost works as is) plus a {@code portcullis} object for programs. The request's full text is never
 * sent (it may hold literal values); its normalised summary is.
 */
final class WebhookMessage {
    private static final int MAX_SUMMARY = 300;

    private WebhookMessage() {
    }

    static byte[] body(Notice n, ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        String text = text(n);
        root.put("text", text);
        ArrayNode blocks = root.putArray("blocks");
        blocks.addObject().put("type", "section").putObject("text").put("type", "mrkdwn").put("text", text);
        blocks.addObject().put("type", "context").putArray("elements").addObject().put("type", "mrkdwn")
                .put("text", escape("request " + n.requestId() + " · policy " + n.policy() + " · expires "
                        + Times.format(n.expiresAt())));
        ObjectNode p = root.putObject("portcullis");
        p.put("delivery", n.id());
        p.put("event", n.event());
        p.put("at", Times.format(n.at()));
        p.put("request_id", n.requestId().toString());
        p.put("state", n.state());
        p.putObject("requester").put("subject", n.requesterSubject()).put("name", n.requesterName());
        p.putObject("connection").put("name", n.connectionName()).put("type", n.connectionType());
        p.put("protocol", n.protocol());
        p.put("summary", n.summary());
        p.put("policy", n.policy());
        n.approverGroups().forEach(p.putArray("approver_groups")::add);
        p.put("min_approvals", n.minApprovals());
        p.put("approvals", n.approvals());
        p.put("created_at", Times.format(n.createdAt()));
        p.put("expires_at", Times.format(n.expiresAt()));
        if (n.grantScope() == null) {
            p.putNull("grant");
        } else {
            p.putObject("grant").put("scope", n.grantScope()).put("ttl_s", n.grantTtlS());
        }
        if (n.voterSubject() == null) {
            p.putNull("actor");
        } else {
            p.putObject("actor").put("subject", n.voterSubject()).put("name", n.voterName());
        }
        p.put("verdict", n.verdict());
        p.put("comment", n.comment());
        p.put("outcome", n.outcome());
        try {
            return json.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write a webhook message", e);
        }
    }

    /** {@code sha256=<hex>}: HMAC-SHA256 of the exact body bytes under the configured secret. */
    static String signature(byte[] body, String secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    /** One line a person reads in the channel. */
    static String text(Notice n) {
        String request = "request " + n.requestId();
        String of = " of " + n.requester() + " on " + n.connectionName();
        String count = " (" + n.approvals() + " of " + n.minApprovals() + ")";
        String line = switch (n.event()) {
            case "created" -> "Approval needed: " + n.requester() + " wants to run " + code(n.summary()) + " on "
                    + n.connectionName() + " (" + n.protocol() + "): " + n.minApprovals() + " approval(s) from "
                    + String.join(" or ", n.approverGroups()) + " by " + Times.format(n.expiresAt()) + ". " + capital(request)
                    + (n.grantScope() == null ? "" : "; approving it also grants " + n.grantScope() + " for " + n.grantTtlS() + " s")
                    + ".";
            case "vote" -> n.voter() + ("approve".equals(n.verdict()) ? " approved " + request + count : " denied " + request)
                    + (n.comment() == null ? "" : ": " + n.comment());
            case "approved" -> "Approved: " + request + of + count + ", last by " + n.voter() + ".";
            case "denied" -> "Denied: " + request + of + ", by " + n.voter() + ": " + n.comment();
            default -> capital(n.event()) + ": " + request + of + (n.outcome() == null ? "" : ": " + n.outcome());
        };
        return escape(line);
    }

    private static String code(String summary) {
        String s = summary.length() > MAX_SUMMARY ? summary.substring(0, MAX_SUMMARY) + "…" : summary;
        return "`" + s.replace('`', '\'').replace('\n', ' ') + "`";
    }

    private static String capital(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /** Slack's mrkdwn gives &, < and > meaning (links, mentions): escaped, a summary can never ping a channel. */
    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
