package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.policy.DecisionInput;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * What dev-services/bench runs through the gateway, for the in-process benchmarks: bob (group developers) on
 * connection {@code bench} (tagged env=dev), and pgbench's statements with the literals pgbench puts in them.
 */
final class Workload {
    static final String SESSION_ID = "0b9a3c52-6f1e-4d8a-9a57-2f6c1d0e4b11";

    /** Distinct texts per statement: more than AnalysisCache keeps (10,000), so cycling through them always misses it. */
    static final int TEXTS = 16_384;

    private Workload() {
    }

    static final Identity BOB = new Identity("7c6f2a5e-3b1d-4f0a-8e2c-5d9b1a0f3c77", "bob", List.of("developers"), "portcullis-cli",
            Identity.Kind.HUMAN);
    static final TargetConnection BENCH = new TargetConnection("bench", "postgres", "127.0.0.1", 5432, "bench", "bench_owner", null,
            TargetConnection.TlsMode.DISABLE, null, Map.of("env", "dev", "purpose", "benchmark"));

    static DecisionInput.SessionContext session() {
        return DecisionInput.SessionContext.of(BOB, BENCH, "127.0.0.1");
    }

    /** A statement and how pgbench (or a report tool) varies its literals. */
    enum Statement {
        /** pgbench -S (scale 10). */
        SELECT_ONLY("select-only", "SELECT", 1) {
            @Override
            String text(SplittableRandom r) {
                return "SELECT abalance FROM pgbench_accounts WHERE aid = " + aid(r) + ";";
            }
        },
        /** The first UPDATE of pgbench's TPC-B-like script. */
        TPCB_UPDATE("tpcb-update", "UPDATE", 1) {
            @Override
            String text(SplittableRandom r) {
                return "UPDATE pgbench_accounts SET abalance = abalance + " + r.nextInt(-5000, 5001) + " WHERE aid = " + aid(r) + ";";
            }
        },
        /** A reporting query over ten tables, the kind a BI tool sends with the simple protocol. */
        JOIN_10("join-10", "SELECT", 10) {
            @Override
            String text(SplittableRandom r) {
                return "SELECT o.id, o.created_at, c.name, c.email, a.city, p.name AS product, cat.name AS category,"
                        + " s.name AS supplier, w.code AS warehouse, sh.tracking_no, pay.method, oi.quantity * oi.unit_price AS amount"
                        + " FROM orders o"
                        + " JOIN customers c ON c.id = o.customer_id"
                        + " JOIN addresses a ON a.id = o.shipping_address_id"
                        + " JOIN order_items oi ON oi.order_id = o.id"
                        + " JOIN products p ON p.id = oi.product_id"
                        + " JOIN categories cat ON cat.id = p.category_id"
                        + " JOIN suppliers s ON s.id = p.supplier_id"
                        + " JOIN warehouses w ON w.id = oi.warehouse_id"
                        + " LEFT JOIN shipments sh ON sh.order_id = o.id"
                        + " LEFT JOIN payments pay ON pay.order_id = o.id AND pay.status = 'captured'"
                        + " WHERE o.created_at >= '2026-" + String.format("%02d-%02d", r.nextInt(1, 13), r.nextInt(1, 29)) + "' AND c.country = 'DE'"
                        + " AND o.status IN ('paid', 'shipped') AND oi.quantity > " + r.nextInt(0, 5)
                        + " ORDER BY o.created_at DESC LIMIT " + r.nextInt(10, 101) + ";";
            }
        };

        final String label;
        final String command;
        final int tables;

        Statement(String label, String command, int tables) {
            this.label = label;
            this.command = command;
            this.tables = tables;
        }

        abstract String text(SplittableRandom r);

        static Statement of(String label) {
            for (Statement s : values()) {
                if (s.label.equals(label)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown statement '" + label + "'");
        }

        /** {@code count} texts of this statement, all different. */
        String[] distinctTexts(int count, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            Set<String> texts = new LinkedHashSet<>();
            while (texts.size() < count) {
                texts.add(text(r));
            }
            return texts.toArray(String[]::new);
        }

        private static int aid(SplittableRandom r) {
            return r.nextInt(1, 1_000_001);
        }
    }
}
