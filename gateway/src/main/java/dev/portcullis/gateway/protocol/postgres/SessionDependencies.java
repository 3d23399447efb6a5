package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.connection.ConnectionRegistry;
import dev.portcullis.gateway.identity.TokenVerifier;
import dev.portcullis.gateway.policy.RequestPolicy;
import dev.portcullis.gateway.session.SessionRegistry;

/** What every PostgreSQL session needs, built once by the listener. */
record SessionDependencies(GatewayConfig.Postgres config, TlsContexts tls, TokenVerifier tokens,
        ConnectionRegistry connections, SessionRegistry sessions, RequestPolicy policy, SecretSealer sealer,
        BackendConnector backends) {
}
