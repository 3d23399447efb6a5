package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.connection.ConnectionRegistry;
import dev.portcullis.gateway.identity.TokenVerifier;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.recording.SessionRecorder;
import dev.portcullis.gateway.sql.AnalysisCache;
import java.util.concurrent.Executor;
import dev.portcullis.gateway.session.SessionRegistry;

/** What every PostgreSQL session needs, built once by the listener. */
record SessionDependencies(GatewayConfig.Postgres config, TlsContexts tls, TokenVerifier tokens,
        ConnectionRegistry connections, SessionRegistry sessions, PolicyDecider policy, AnalysisCache sql,
        Executor analysisPool, SecretSealer sealer, BackendConnector backends, MaskPlanner masks, SessionRecorder recorder,
        String gatewayId) {
}
