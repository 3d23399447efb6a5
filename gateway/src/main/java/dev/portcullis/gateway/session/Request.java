package dev.portcullis.gateway.session;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Something a client wants done in a session, as an engine analysed it: what the policy decides on and what the
 * recording keeps. An engine's record type; compared by value when it is {@link #memoizable()}.
 */
public interface Request {
    /** The protocol, as in the decision input's {@code request.protocol}. */
    String protocol();

    /** The wire message or operation it came from: {@code query}, {@code parse}, {@code function_call}, ... */
    String message();

    /** What it does in one line, for the people asked to approve it (PostgreSQL: the normalised statements). */
    String summary();

    /** The {@code request} part of the decision input (serialised as JSON, contract in policies-rego/schema/). */
    Object input();

    /**
     * What the recording keeps of it besides its text: the {@code request} event's {@code details}, a JSON object per
     * protocol (contract/EVENTS.md; PostgreSQL: {@code statements}). Return the same instance for an equal request, so
     * its JSON is written once.
     */
    Object details();

    /** The text as the client sent it (SQL, a command line, a URL); {@code null} when there is none. */
    String text();

    /**
     * Whether the decision depends on nothing but {@link #input()} within this session, so that an equal request
     * later in the session may reuse it without asking again (see {@link DecisionMemo}).
     */
    boolean memoizable();

    /**
     * Work the engine must finish before an allowed request may run (a PostgreSQL COPY's masking plan). Called only
     * when the policy allows. Completes with {@code null}, or with why the request may not run after all, which
     * turns the verdict into a denial by the gateway.
     */
    default CompletionStage<String> prepare() {
        return CompletableFuture.completedFuture(null);
    }
}
