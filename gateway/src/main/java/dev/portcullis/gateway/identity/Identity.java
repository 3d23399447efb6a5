package dev.portcullis.gateway.identity;

import java.util.List;

/** Who is on the other end of a session, as established from a verified OIDC access token. */
public record Identity(String subject, String name, List<String> groups, String clientId, Kind kind) {

    public enum Kind {
        /** A workload: CI job, backup job, agent (client-credentials grant). */
        MACHINE,
        /** A person. */
        HUMAN
    }

    public Identity {
        groups = List.copyOf(groups);
    }
}
