package dev.portcullis.gateway.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;

/**
 * Makes sure the real dependencies run (starting them with {@code dev-services/stack up --deps-only} if they
 * do not) and that the gateway's database schema is migrated, before a @QuarkusTest gateway starts.
 */
public class StackResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        if (run("status") != 0 && run("up", "--deps-only") != 0) {
            throw new IllegalStateException("the local stack did not start; see .stack/logs/ and run dev-services/stack up --deps-only");
        }
        String url = "jdbc:postgresql://" + TestStack.host() + ":" + TestStack.get("PG_PORT") + "/" + TestStack.get("PORTCULLIS_DB");
        Flyway.configure().dataSource(url, TestStack.get("PORTCULLIS_DB_USER"), TestStack.get("PORTCULLIS_DB_PASSWORD"))
                .locations("classpath:db/migration").load().migrate();
        // kubectl checks the Kubernetes listener's certificate against the stack's CA (kube-login's kubeconfig)
        return Map.of("portcullis.kubernetes.tls-cert", TestStack.ROOT.resolve(".stack/tls/server.crt").toString(),
                "portcullis.kubernetes.tls-key", TestStack.ROOT.resolve(".stack/tls/server.key").toString());
    }

    private static int run(String... args) {
        String[] command = new String[args.length + 1];
        command[0] = TestStack.ROOT.resolve("dev-services/stack").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        try {
            Process p = new ProcessBuilder(command).inheritIO().start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void stop() {
    }
}
