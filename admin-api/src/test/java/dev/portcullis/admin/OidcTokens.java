package dev.portcullis.admin;

import dev.portcullis.contract.testing.StackEnv;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Real access tokens from the stack's mock-oauth2-server (client-credentials grant), one per client id. Its
 * config (dev-services/oidc) maps each client id to the claims of that machine identity.
 */
public final class OidcTokens {
    /** In group platform-admins. */
    public static final String ADMIN = "portcullis-admin";
    /** In group ci-readonly only. */
    public static final String AGENT_CI = "agent-ci";
    /** A person in groups dba and approvers. */
    public static final String ALICE = "alice";
    /** A person in group developers. */
    public static final String BOB = "bob";
    /** A person in group approvers only: the demo approver. */
    public static final String CAROL = "carol";
    /** A person in group auditors only. */
    public static final String DANA = "dana";
    /** A machine whose tokens are for another audience ({@code someone-else}): the API must refuse them. */
    public static final String WRONG_AUDIENCE = "agent-wrong-aud";

    private static final Map<String, String> TOKENS = new ConcurrentHashMap<>();

    private OidcTokens() {
    }

    public static String of(String clientId) {
        return TOKENS.computeIfAbsent(clientId, StackEnv::token);
    }
}
