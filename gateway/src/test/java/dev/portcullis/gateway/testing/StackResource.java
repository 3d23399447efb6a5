package dev.portcullis.gateway.testing;

import dev.portcullis.contract.testing.StackEnv;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;
import org.flywaydb.core.Flyway;

/**
 * Makes sure the real dependencies run ({@link StackEnv#ensureUp}) and that the gateway's database schema is migrated,
 * before a @QuarkusTest gateway starts.
 */
public class StackResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        StackEnv.ensureUp();
        String url = "jdbc:postgresql://" + TestStack.host() + ":" + TestStack.get("PG_PORT") + "/" + TestStack.get("PORTCULLIS_DB");
        Flyway.configure().dataSource(url, TestStack.get("PORTCULLIS_DB_USER"), TestStack.get("PORTCULLIS_DB_PASSWORD"))
                .locations("classpath:db/migration").load().migrate();
        // kubectl checks the Kubernetes listener's certificate against the stack's CA (kube-login's kubeconfig)
        return Map.of("portcullis.kubernetes.tls-cert", TestStack.ROOT.resolve(".stack/tls/server.crt").toString(),
                "portcullis.kubernetes.tls-key", TestStack.ROOT.resolve(".stack/tls/server.key").toString());
    }

    @Override
    public void stop() {
    }
}
