package dev.portcullis.gateway;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Every gateway option, declared once. Defaults suit production; the dev and test profiles relax a few. */
@ConfigMapping(prefix = "portcullis")
public interface GatewayConfig {

    /** The OIDC issuer whose access tokens the gateway accepts as passwords. */
    String oidcIssuer();

    /** The audience an access token must carry. */
    @WithDefault("portcullis")
    String oidcAudience();

    /** Base64 of the 32-byte AES key that seals connection secrets at rest ({@code openssl rand -base64 32}). */
    String secretKey();

    Postgres postgres();

    Kubernetes kubernetes();

    Ssh ssh();

    Opa opa();

    Policy policy();

    Recording recording();

    Approval approval();

    Shutdown shutdown();

    /**
     * How often this replica writes its live sessions and policy status for the admin API ({@code gateway_heartbeats});
     * at least 1 s. A replica silent for three intervals is shown as stale.
     */
    @WithDefault("5s")
    Duration heartbeatInterval();

    interface Shutdown {
        /**
         * On SIGTERM the gateway stops taking new sessions and reports not ready, lets the live sessions run for up to
         * this long, then ends the rest (FATAL 57P01 with a reason, their backend work cancelled). The Kubernetes
         * manifests give the pod 10 s more than this (terminationGracePeriodSeconds) to end them and flush the journal.
         */
        @WithDefault("30s")
        Duration gracePeriod();
    }

    interface Approval {
        /**
         * How the client is told to get a held request approved, in the notice it gets while it waits; {@code {id}} is
         * the approval request's id. The local stack sets {@code dev-services/stack approve {id}}.
         */
        @WithDefault("POST /approvals/{id}/approve on the Portcullis admin API")
        String howToApprove();

        /** How often a client waiting for an approval is reminded that it waits. */
        @WithDefault("15s")
        Duration noticeEvery();
    }

    interface Recording {
        /**
         * Directory of the event journal, where every session event waits until Kafka has it. One gateway per
         * directory; production mounts a volume here. Default: {@code <tmp>/portcullis-journal-<PostgreSQL port>}.
         */
        Optional<Path> journalDir();

        /** Largest size of the journal; when Kafka has been away long enough to fill it, see {@link #refuseWhenFull}. */
        @WithDefault("268435456")
        long journalMaxBytes();

        /**
         * What happens when the journal is full: true (the default) refuses new requests with an error, so
         * nothing runs unrecorded; false lets them run and drops their events (a gap the recording shows).
         */
        @WithDefault("true")
        boolean refuseWhenFull();

        /**
         * At start-up, send again the records parked in the journal's dead-letter segment (records Kafka refused for
         * good, for example larger than the topic's max.message.bytes). Turn it on once for the restart after the
         * cause is fixed; what Kafka still refuses is parked again.
         */
        @WithDefault("false")
        boolean resendParked();

        /** Kafka topic of the session events, keyed by session id. */
        @WithDefault("portcullis.session-events")
        String topic();
    }

    interface Policy {
        /**
         * Allow everything without asking OPA. Only for measuring the bare relay in benchmarks; the gateway
         * logs a warning at startup when it is on.
         */
        @WithDefault("false")
        boolean passThrough();
    }

    interface Postgres {
        /** Address the PostgreSQL listener binds to. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of the PostgreSQL listener. */
        @WithDefault("15432")
        int port();

        /** PEM certificate chain offered to clients that ask for TLS. */
        Optional<Path> tlsCert();

        /** PEM private key (PKCS#8) for {@link #tlsCert()}. */
        Optional<Path> tlsKey();

        /** Without a configured certificate, generate a self-signed one at startup (dev and test only). */
        @WithDefault("false")
        boolean tlsSelfSigned();

        /**
         * Accept the access token over an unencrypted connection when the client is on loopback. For local
         * development only: everywhere else a token only ever travels inside TLS.
         */
        @WithDefault("false")
        boolean allowPlaintextOnLoopback();

        /** Largest protocol message accepted from a client or a backend, in bytes. */
        @WithDefault("67108864")
        int maxMessageBytes();

        /**
         * Bytes that large client messages (over 64 KiB) being received may take in all, across every connection. A
         * connection whose next message finds no room is not read until there is (its client waits). At least
         * {@link #maxMessageBytes()}. A client that has not logged in may send at most a startup packet of 10,000
         * bytes and a password message of 64 KiB.
         */
        @WithDefault("134217728")
        long frameBudgetBytes();

        /**
         * Time a client has to send the whole of a message over 64 KiB once its room in {@link #frameBudgetBytes()} is
         * reserved: a deadline, not an idle timer a trickle resets. Past it the session ends with FATAL 08P01 and the room
         * is given back. (60 s is 64 MiB at about 9 Mbit/s.)
         */
        @WithDefault("60s")
        Duration largeMessageTimeout();

        /** Time a client has to finish TLS, startup and authentication: a deadline from accept, not an idle timer. */
        @WithDefault("15s")
        Duration startupTimeout();

        /**
         * Client connections one source address may hold at once, logged in or not; one more is refused with SQLSTATE
         * 53300 when it sends its startup message.
         */
        @WithDefault("4000")
        int maxConnectionsPerSource();

        /** Sessions one identity (the access token's name) may hold at once; one more is refused with SQLSTATE 53300. */
        @WithDefault("2000")
        int maxConnectionsPerIdentity();

        /** A session with no traffic in either direction for this long is closed. */
        @WithDefault("1h")
        Duration idleTimeout();

        /** Time allowed to connect and log in to a backend. */
        @WithDefault("10s")
        Duration backendConnectTimeout();

        /**
         * Threads that relay PostgreSQL sessions (each session, with its backend connection, stays on one). Default:
         * half the available processors, at least 1. A relay thread spends most of its time in the kernel, and more
         * threads than the traffic keeps busy only split the same work into more wake-ups: on 2 cores, 4 threads cost
         * 42.2 µs of CPU per {@code pgbench -S} transaction, 1 thread 30.7 and PgBouncer 26.2 (BENCHMARKS.md). Raise it
         * on a host whose cores are the gateway's alone.
         */
        Optional<Integer> eventLoops();
    }

    /** The Kubernetes API listener: kubectl reaches a registered cluster at {@code https://<host>:<port>/k8s/<connection>}. */
    interface Ssh {
        /**
         * Whether the gateway serves SSH at all. Off, it opens no SSH listener and needs none of the settings below (a
         * gateway without SSH targets, or the packaged gateways that tests and benchmarks start beside one another).
         */
        @WithDefault("true")
        boolean enabled();

        /** Address the SSH listener binds to. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of the SSH listener: {@code ssh -p PORT <connection>@<gateway>}. */
        @WithDefault("15022")
        int port();

        /** The listener's host key, an OpenSSH private key file (ed25519); clients pin its public half. */
        Optional<Path> hostKey();

        /**
         * The private key of the CA that signs users' certificates ({@code POST /ssh/certificates}), an OpenSSH private
         * key file (ed25519). The listener accepts only certificates this CA signed; every replica needs the same one.
         */
        Optional<Path> caKey();

        /** The longest a certificate is valid; never longer than the access token it was issued for. */
        @WithDefault("8h")
        Duration maxCertificateValidity();

        /** Time allowed to connect and log in to a target's sshd. */
        @WithDefault("10s")
        Duration targetConnectTimeout();

        /** Longest command line an exec may carry, in bytes; longer ones are refused before anything is decided. */
        @WithDefault("16384")
        int maxCommandBytes();
    }

    interface Kubernetes {
        /**
         * Whether the gateway serves the Kubernetes API at all. Off, it opens no Kubernetes listener and needs none of
         * the settings below (a PostgreSQL-only gateway, or a second replica's test process).
         */
        @WithDefault("true")
        boolean enabled();

        /** Address the Kubernetes API listener binds to. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of the Kubernetes API listener (HTTPS only). */
        @WithDefault("15443")
        int port();

        /** PEM certificate chain the listener serves; kubectl checks it against its kubeconfig's certificate-authority. */
        Optional<Path> tlsCert();

        /** PEM private key for {@link #tlsCert()}. */
        Optional<Path> tlsKey();

        /** Without a configured certificate, generate a self-signed one at startup (dev and test only). */
        @WithDefault("false")
        boolean tlsSelfSigned();

        /** Time allowed to connect to a cluster's API server, TLS included. */
        @WithDefault("10s")
        Duration upstreamConnectTimeout();

        /**
         * Longest request head (request line and headers) accepted from a client, in bytes; kubectl's are under 4 KiB.
         * Bodies are streamed with backpressure, never held whole.
         */
        @WithDefault("16384")
        int maxHeaderBytes();

        /**
         * Whether the listener offers HTTP/2 by ALPN beside HTTP/1.1 (kubectl and client-go take it, and then send every
         * call of a run over one connection). Each HTTP/2 connection is bounded: {@link #maxHttp2Streams()} streams at
         * once, a header list of {@link #maxHeaderBytes()}, 64 KiB flow-control windows. Exec, attach and port-forward
         * are WebSocket upgrades, which clients make over HTTP/1.1 connections of their own.
         */
        @WithDefault("true")
        boolean http2();

        /** Streams (API calls) one HTTP/2 client connection may have open at once. */
        @WithDefault("100")
        int maxHttp2Streams();

        /** Largest WebSocket frame (exec, attach) accepted from either side, in bytes. */
        @WithDefault("1048576")
        int maxWebSocketFrameBytes();

        /**
         * Largest response the gateway masks (a Secret list, for a caller who sees Secret values masked), in bytes. A
         * masked response is held whole to be masked, so a larger one is refused with a Status, never passed unmasked;
         * kubectl lists in chunks (--chunk-size, 500 objects by default).
         */
        @WithDefault("16777216")
        int maxMaskedResponseBytes();

        /**
         * Largest single event of a masked watch, in bytes. A watch is masked event by event and never held whole; an
         * event over this ends the watch with an ERROR event. A Secret is at most 1 MiB of data (1.4 MB as JSON).
         */
        @WithDefault("4194304")
        int maxMaskedEventBytes();

        /**
         * Largest body of a create, update or patch whose object the decision input carries, in bytes; the body is held
         * whole until decided. A larger one is judged without its object (object_error too_large: the default policy
         * lets only administrators send it) when it has a Content-Length, and refused without one.
         */
        @WithDefault("3145728")
        int maxObjectBytes();
    }

    interface Opa {
        /** Base URL of the OPA sidecar. */
        String url();

        /** Timeout of a readiness probe against OPA's /health. */
        @WithDefault("1s")
        Duration healthTimeout();

        /**
         * A decision OPA has not returned within this time is a denial. The time counts from when the request is on
         * a connection to OPA: a wait for a free connection is bounded by {@link #queueTimeout()} instead. Only a
         * request of a shape not decided before waits for OPA at all (the rest come from the session's memo or the
         * cache). A decision costs OPA about a millisecond of CPU, so the budget is for the time OPA and the gateway
         * wait for a core on a busy host: on two shared cores at a load average of 30, single decisions took up to
         * 181 ms (README, Decisions), too close to the former 250 ms. One second still ends a hung OPA's wait quickly.
         */
        @WithDefault("1s")
        Duration decisionTimeout();

        /**
         * Keep-alive HTTP/1.1 connections to OPA, at most; each carries one decision at a time. Decisions are
         * cached and shared between sessions, so this bounds the decisions OPA evaluates at once, not the sessions.
         * OPA shares its few cores between the decisions it evaluates at once, so more connections than it has cores
         * make every answer slower; the rest wait in the gateway's queue, where the decision timeout does not run.
         */
        @WithDefault("8")
        int maxConnections();

        /**
         * Decisions that may wait for a free connection to OPA; beyond this, a decision is a denial at once (the
         * gateway is overloaded). Bounds the memory a burst of new sessions or statements can take.
         */
        @WithDefault("10000")
        int maxQueued();

        /** Longest wait for a free connection to OPA; then the decision is a denial (the gateway is overloaded). */
        @WithDefault("5s")
        Duration queueTimeout();

        /**
         * Longest time a decision made under an old policy revision may still be served after OPA loaded a new
         * one. The revision is polled at a third of this; when it cannot be read for this long, the cache is bypassed.
         */
        @WithDefault("5s")
        Duration revisionMaxAge();

        /** Decisions kept in the cache. */
        @WithDefault("100000")
        int cacheMaxEntries();

        /** Upper bound on any cached decision's life, whatever cache_ttl_s the policy returned. */
        @WithDefault("5m")
        Duration cacheMaxTtl();
    }
}
