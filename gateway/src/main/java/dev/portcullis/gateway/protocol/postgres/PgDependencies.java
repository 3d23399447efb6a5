package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.protocol.postgres.codec.FrameBudget;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.session.Sessions;
import java.time.Duration;
import java.util.concurrent.Executor;

/** What every PostgreSQL client connection needs, built once by the engine. */
record PgDependencies(GatewayConfig.Postgres config, TlsContexts tls, Sessions sessions, AnalysisCache sql, Executor analysisPool,
        BackendConnector backends, MaskPlanner masks, CancelKeys cancelKeys, Duration noticeEvery, FrameBudget frameBudget,
        ConnectionLimits limits) {
}
