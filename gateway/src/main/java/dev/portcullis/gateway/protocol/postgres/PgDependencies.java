package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.protocol.postgres.codec.FrameBudget;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.session.Sessions;
import io.netty.channel.group.ChannelGroup;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * What every PostgreSQL client connection needs, built once by the engine. {@code connections} holds every open client
 * and backend connection, for the drain at shutdown.
 */
record PgDependencies(GatewayConfig.Postgres config, TlsContexts tls, Sessions sessions, AnalysisCache sql, Executor analysisPool,
        BackendConnector backends, MaskPlanner masks, CancelKeys cancelKeys, Duration noticeEvery, ChannelGroup connections,
        FrameBudget frameBudget, ConnectionLimits limits) {
}
