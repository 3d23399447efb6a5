package dev.portcullis.gateway.policy;

/** What every kind of policy answer says about its own reuse. */
interface PolicyAnswer {
    /** How long an identical input may reuse this answer. */
    int cacheTtlS();

    /** The policy revision that gave it; null when the gateway decided by itself (never cached). */
    String revision();
}
