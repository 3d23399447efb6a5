package dev.portcullis.gateway.protocol.postgres;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.masking.ColumnMask;
import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.KeyedHash;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.policy.MaskDecision;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.ColumnLineage;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Source;
import dev.portcullis.gateway.session.Session;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Turns a result shape into a {@link MaskPlan}: resolves each column's table OID and attribute number to
 * {@code schema.table.column} (and its type OID to a name) through the catalog, asks OPA's {@code portcullis/mask}
 * for the plan, and binds it to the shape. Catalog facts are cached per connection for {@link #CATALOG_TTL}, so
 * a renamed column is seen within that time; OPA's answers are cached by the policy decider.
 */
final class MaskPlanner {
    static final Duration CATALOG_TTL = Duration.ofSeconds(60);

    /** A plan could not be made; the result must not reach the client. */
    static final class PlanFailure extends RuntimeException {
        PlanFailure(String message) {
            super(message, null, false, false);
        }
    }

    private record TableKey(String connection, int oid) {
    }

    private record TypeKey(String connection, int oid) {
    }

    /** A table's name, its columns by attribute number, and whether it is a view (whose values come from elsewhere). */
    private record Table(String schema, String name, Map<Integer, String> columns, boolean view) {
    }

    /** A type's name and how its values may be rewritten. */
    record Type(String name, MaskPlan.TypeClass typeClass) {
    }

    private final PolicyDecider policy;
    private final KeyedHash hash;
    private final BackendConnector connector;
    private final SecretSealer sealer;
    private final EventLoopGroup loops;
    private final Duration timeout;
    /** Catalog connections per target; each opens on first use. */
    private static final int CATALOG_CONNECTIONS = 4;
    private final Map<String, CatalogClient[]> catalogs = new ConcurrentHashMap<>();
    /** Catalog lookups under way, by what they look up; each entry lives only as long as its query. */
    private final Map<String, CompletableFuture<Void>> lookupsInFlight = new ConcurrentHashMap<>();
    private final Cache<TableKey, Table> tables = Caffeine.newBuilder().maximumSize(20_000).expireAfterWrite(CATALOG_TTL).build();
    private final ResultLineage lineage;
    private final Cache<TypeKey, Type> types = Caffeine.newBuilder().maximumSize(20_000).expireAfterWrite(CATALOG_TTL).build();

    MaskPlanner(PolicyDecider policy, KeyedHash hash, BackendConnector connector, SecretSealer sealer, EventLoopGroup loops,
            Duration timeout) {
        this.policy = policy;
        this.hash = hash;
        this.connector = connector;
        this.sealer = sealer;
        this.loops = loops;
        this.timeout = timeout;
        this.lineage = new ResultLineage((target, sql) -> catalog(target).query(target, sql));
    }

    /**
     * A plan, with what bounds its reuse: the policy revision that made it and until when it holds (the
     * policy's TTL, at most the catalog's).
     */
    record Planned(MaskPlan plan, String revision, long expiresAtNanos) {
        boolean validUnder(String currentRevision) {
            return revision != null && revision.equals(currentRevision) && System.nanoTime() - expiresAtNanos < 0;
        }
    }

    /**
     * The plan for the rows of this shape, which {@code statement} produced (null: not known). Completes exceptionally
     * with {@link PlanFailure} when there is none. A column the row description names (a table column, through any
     * subqueries) is its own lineage; the statement is parsed for lineage only when some column is computed.
     */
    CompletableFuture<Planned> plan(Session session, RowDescription shape, ResultStatements.ResultStatement statement) {
        TargetConnection target = session.connection();
        boolean computed = shape.fields().stream().anyMatch(RowDescription.Field::computed);
        CompletableFuture<List<ColumnLineage>> parsed = computed
                ? lineage.of(target, statement, shape.fields().size()).exceptionally(e -> {
                    throw new PlanFailure("cannot read the catalog to follow the result's column lineage: " + rootMessage(e));
                })
                : CompletableFuture.completedFuture(null);
        // an EXECUTE or FETCH whose query the session's memory does not hold (forgotten) must not pass on unknown lineage
        boolean named = statement != null && statement.kind() == ResultStatements.Kind.NAMED;
        return resolve(target, shape.fields())
                .thenCompose(columns -> withViews(target, columns))
                .thenCombine(parsed, (columns, lineages) -> withLineage(columns, lineages, named))
                .thenCompose(resolved -> session.mask(resolved.stream().map(Resolved::input).toList()).toCompletableFuture()
                        .thenApply(decision -> bind(resolved, decision)));
    }

    /** What the predicates, groupings and orderings of {@code statement} read, on {@code target}'s catalog. */
    CompletableFuture<ColumnLineage> predicateColumns(TargetConnection target, ResultStatements.ResultStatement statement) {
        return lineage.predicates(target, statement);
    }

    /**
     * A column as the policy sees it, and how its values may be rewritten.
     *
     * @param unresolved its table is not one the catalog connection can see (created in the client's open transaction)
     * @param view       the row description names a view's column: its lineage (null: unknown) is the view query's
     * @param failClosed computed by an {@code EXECUTE} or {@code FETCH} whose query is not known: redacted unless the
     *                   policy masks it
     */
    private record Resolved(DecisionInput.MaskInput.Column input, MaskPlan.TypeClass typeClass, boolean unresolved, boolean view,
            ColumnLineage viewLineage, boolean failClosed) {
    }

    /** The view columns with the lineage their view's query gives them. */
    private CompletableFuture<List<Resolved>> withViews(TargetConnection target, List<Resolved> columns) {
        List<Source> viewColumns = columns.stream().filter(Resolved::view)
                .map(r -> new Source(r.input().schema(), r.input().table(), r.input().column())).toList();
        if (viewColumns.isEmpty()) {
            return CompletableFuture.completedFuture(columns);
        }
        return lineage.viewColumns(target, viewColumns).handle((found, err) -> {
            if (err != null) {
                throw new PlanFailure("cannot read the catalog to follow a view's column lineage: " + rootMessage(err));
            }
            return columns.stream().map(r -> !r.view() ? r : new Resolved(r.input(), r.typeClass(), r.unresolved(), true,
                    found.get(new Source(r.input().schema(), r.input().table(), r.input().column())), false)).toList();
        });
    }

    /**
     * The columns with their lineage: their own for a plain column of a table, their view query's for a view's, the
     * parse's for a computed one.
     */
    private static List<Resolved> withLineage(List<Resolved> columns, List<ColumnLineage> parsed, boolean named) {
        List<Resolved> out = new ArrayList<>(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            Resolved r = columns.get(i);
            DecisionInput.MaskInput.Column c = r.input();
            ColumnLineage l;
            if (r.unresolved()) {
                l = ColumnLineage.UNKNOWN;
            } else if (r.view()) {
                l = r.viewLineage() == null ? ColumnLineage.UNKNOWN : r.viewLineage();
            } else if (!c.computed()) {
                l = new ColumnLineage(Set.of(new Source(c.schema(), c.table(), c.column())), false, false);
            } else {
                l = parsed == null ? ColumnLineage.UNKNOWN : parsed.get(i);
            }
            Object lineageInput = l.unknown() ? DecisionInput.MaskInput.UNKNOWN_LINEAGE : List.copyOf(l.sources());
            out.add(new Resolved(new DecisionInput.MaskInput.Column(c.name(), c.type(), c.computed(), c.schema(), c.table(), c.column(),
                    lineageInput, l.derived()), r.typeClass(), r.unresolved(), r.view(), r.viewLineage(),
                    named && c.computed() && !r.unresolved() && l.unknown()));
        }
        return out;
    }

    /** The rule that names the gateway's own masking of a column it could not resolve. */
    static final String UNRESOLVED_RULE = "gateway/unresolved-column";
    /** The rule that names the gateway's own masking of a computed column of an EXECUTE or FETCH whose query it does not know. */
    static final String UNKNOWN_NAMED_RULE = "gateway/unknown-named-statement";

    private CompletableFuture<List<Resolved>> resolve(TargetConnection target, List<RowDescription.Field> fields) {
        Set<Integer> missingTables = new LinkedHashSet<>();
        Set<Integer> missingTypes = new LinkedHashSet<>();
        for (RowDescription.Field f : fields) {
            if (!f.computed() && tables.getIfPresent(new TableKey(target.name(), f.tableOid())) == null) {
                missingTables.add(f.tableOid());
            }
            if (BuiltinTypes.of(f.typeOid()) == null && types.getIfPresent(new TypeKey(target.name(), f.typeOid())) == null) {
                missingTypes.add(f.typeOid());
            }
        }
        CompletableFuture<Void> lookups = CompletableFuture.completedFuture(null);
        if (!missingTables.isEmpty()) {
            lookups = lookups.thenCompose(v -> once("tables", target, missingTables, () -> catalog(target).query(target,
                    "SELECT a.attrelid, n.nspname, c.relname, a.attnum, a.attname, c.relkind FROM pg_catalog.pg_attribute a"
                            + " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                            + " WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid IN (" + oids(missingTables) + ")")
                    .thenAccept(rows -> rememberTables(target, missingTables, rows))));
        }
        if (!missingTypes.isEmpty()) {
            lookups = lookups.thenCompose(v -> once("types", target, missingTypes, () -> catalog(target).query(target,
                    "SELECT t.oid, t.typname, t.typcategory FROM pg_catalog.pg_type t WHERE t.oid IN (" + oids(missingTypes) + ")")
                    .thenAccept(rows -> rememberTypes(target, missingTypes, rows))));
        }
        return lookups.handle((v, err) -> {
            if (err != null) {
                throw new PlanFailure("cannot read the catalog to find the result's columns: " + rootMessage(err));
            }
            List<Resolved> columns = new ArrayList<>(fields.size());
            for (RowDescription.Field f : fields) {
                Type type = type(target, f.typeOid());
                Table table = f.computed() ? null : tables.getIfPresent(new TableKey(target.name(), f.tableOid()));
                String column = table == null ? null : table.columns().get(f.attnum());
                if (column == null) {
                    // From a table the catalog connection cannot see: one created in the client's open transaction (or
                    // dropped a moment ago). What it holds cannot be told, so it is redacted (see bind).
                    columns.add(new Resolved(new DecisionInput.MaskInput.Column(f.name(), type.name(), true, null, null, null,
                            DecisionInput.MaskInput.UNKNOWN_LINEAGE, true), type.typeClass(), !f.computed(), false, null, false));
                } else {
                    columns.add(new Resolved(new DecisionInput.MaskInput.Column(f.name(), type.name(), false, table.schema(), table.name(), column,
                            DecisionInput.MaskInput.UNKNOWN_LINEAGE, false), type.typeClass(), false, table.view(), null, false));
                }
            }
            return columns;
        });
    }

    private Planned bind(List<Resolved> columns, MaskDecision decision) {
        if (decision.failed()) {
            throw new PlanFailure(decision.failure());
        }
        Map<Integer, MaskDecision.Entry> byColumn = new HashMap<>();
        for (MaskDecision.Entry e : decision.plan()) {
            if (e.column() >= columns.size()) {
                throw new PlanFailure("the masking plan names column " + e.column() + " of a result with " + columns.size() + " columns");
            }
            byColumn.put(e.column(), e);
        }
        Set<Detectors.Kind> kinds = EnumSet.noneOf(Detectors.Kind.class);
        decision.detectors().forEach(d -> kinds.add(Detectors.Kind.of(d)));
        List<MaskPlan.Column> out = new ArrayList<>(columns.size());
        boolean unresolved = false;
        for (int i = 0; i < columns.size(); i++) {
            DecisionInput.MaskInput.Column c = columns.get(i).input();
            MaskPlan.TypeClass typeClass = columns.get(i).typeClass();
            MaskDecision.Entry e = byColumn.get(i);
            ColumnMask mask = e == null ? null : new ColumnMask(ColumnMask.Method.of(e.method()),
                    e.keepFirst() == null ? 0 : e.keepFirst(), e.keepLast() == null ? 4 : e.keepLast(),
                    e.maskChar() == null ? '*' : e.maskChar(), e.rule());
            if (mask == null && columns.get(i).unresolved()) {
                mask = new ColumnMask(ColumnMask.Method.REDACT, 0, 0, '*', UNRESOLVED_RULE); // fail closed
                unresolved = true;
            } else if (mask == null && columns.get(i).failClosed()) {
                mask = new ColumnMask(ColumnMask.Method.REDACT, 0, 0, '*', UNKNOWN_NAMED_RULE);
            }
            boolean detect = e == null && !kinds.isEmpty() && typeClass != MaskPlan.TypeClass.SCALAR;
            out.add(new MaskPlan.Column(c.name(), c.schema(), c.table(), c.column(), typeClass, mask, detect));
        }
        // a plan that redacts what it could not resolve is not reused: the table may be visible a moment later
        long ttl = unresolved ? 0 : Math.min(java.util.concurrent.TimeUnit.SECONDS.toNanos(decision.cacheTtlS()), CATALOG_TTL.toNanos());
        return new Planned(new MaskPlan(out, new Detectors(kinds), hash, decision.policy()), decision.revision(), System.nanoTime() + ttl);
    }

    /** The policy revision in force (null when unknown). */
    String revision() {
        return policy.revision();
    }

    private Type type(TargetConnection target, int oid) {
        Type builtin = BuiltinTypes.of(oid);
        if (builtin != null) {
            return builtin;
        }
        Type t = types.getIfPresent(new TypeKey(target.name(), oid));
        return t != null ? t : new Type("oid:" + Integer.toUnsignedString(oid), MaskPlan.TypeClass.OTHER);
    }

    private void rememberTables(TargetConnection target, Set<Integer> oids, List<String[]> rows) {
        Map<Integer, Table> found = new HashMap<>();
        for (String[] r : rows) {
            int oid = (int) Long.parseLong(r[0]);
            Table t = found.computeIfAbsent(oid, k -> new Table(r[1], r[2], new HashMap<>(), ResultLineage.opaque(r[1], r[5])));
            t.columns().put(Integer.parseInt(r[3]), r[4]);
        }
        for (int oid : oids) {
            Table t = found.get(oid);
            if (t != null) {
                tables.put(new TableKey(target.name(), oid), new Table(t.schema(), t.name(), Map.copyOf(t.columns()), t.view()));
            }
        }
    }

    private void rememberTypes(TargetConnection target, Set<Integer> oids, List<String[]> rows) {
        for (String[] r : rows) {
            String category = r[2];
            MaskPlan.TypeClass c = switch (category) {
                case "S" -> MaskPlan.TypeClass.TEXT;
                case "A", "C" -> MaskPlan.TypeClass.CONTAINER;
                case "B", "D", "T" -> MaskPlan.TypeClass.SCALAR;
                default -> MaskPlan.TypeClass.OTHER;
            };
            types.put(new TypeKey(target.name(), (int) Long.parseLong(r[0])), new Type(r[1], c));
        }
    }

    /**
     * The lookup, or the same lookup another session started a moment ago: hundreds of sessions that get their first
     * result of one shape at once wait for one catalog query, not one each.
     */
    private CompletableFuture<Void> once(String kind, TargetConnection target, Set<Integer> oids,
            java.util.function.Supplier<CompletableFuture<Void>> lookup) {
        String key = kind + '\0' + target.name() + '\0' + oids(oids);
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = lookupsInFlight.putIfAbsent(key, mine);
        if (running != null) {
            return running;
        }
        lookup.get().whenComplete((v, err) -> {
            lookupsInFlight.remove(key, mine);
            if (err != null) {
                mine.completeExceptionally(err);
            } else {
                mine.complete(null);
            }
        });
        return mine;
    }

    /** The least busy of the target's catalog connections: a slow lookup for one session never queues all the others. */
    private CatalogClient catalog(TargetConnection target) {
        CatalogClient[] pool = catalogs.computeIfAbsent(target.name(), n -> {
            CatalogClient[] clients = new CatalogClient[CATALOG_CONNECTIONS];
            for (int i = 0; i < clients.length; i++) {
                clients[i] = new CatalogClient(connector, sealer, loops.next(), timeout);
            }
            return clients;
        });
        CatalogClient least = pool[0];
        for (CatalogClient c : pool) {
            if (c.load() < least.load()) {
                least = c;
            }
        }
        return least;
    }

    private static String oids(Set<Integer> oids) {
        return oids.stream().map(Integer::toUnsignedString).collect(Collectors.joining(","));
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    /** The types every PostgreSQL has, by their fixed OIDs: no lookup needed. */
    static final class BuiltinTypes {
        private static final Map<Integer, Type> TYPES = Map.ofEntries(
                Map.entry(16, new Type("bool", MaskPlan.TypeClass.SCALAR)),
                Map.entry(17, new Type("bytea", MaskPlan.TypeClass.SCALAR)),
                Map.entry(18, new Type("char", MaskPlan.TypeClass.TEXT)),
                Map.entry(19, new Type("name", MaskPlan.TypeClass.TEXT)),
                Map.entry(20, new Type("int8", MaskPlan.TypeClass.OTHER)),
                Map.entry(21, new Type("int2", MaskPlan.TypeClass.SCALAR)),
                Map.entry(23, new Type("int4", MaskPlan.TypeClass.SCALAR)),
                Map.entry(25, new Type("text", MaskPlan.TypeClass.TEXT)),
                Map.entry(26, new Type("oid", MaskPlan.TypeClass.SCALAR)),
                Map.entry(114, new Type("json", MaskPlan.TypeClass.TEXT)),
                Map.entry(142, new Type("xml", MaskPlan.TypeClass.TEXT)),
                Map.entry(700, new Type("float4", MaskPlan.TypeClass.SCALAR)),
                Map.entry(701, new Type("float8", MaskPlan.TypeClass.SCALAR)),
                Map.entry(705, new Type("unknown", MaskPlan.TypeClass.TEXT)),
                Map.entry(1000, new Type("_bool", MaskPlan.TypeClass.CONTAINER)),
                Map.entry(1007, new Type("_int4", MaskPlan.TypeClass.CONTAINER)),
                Map.entry(1009, new Type("_text", MaskPlan.TypeClass.CONTAINER)),
                Map.entry(1015, new Type("_varchar", MaskPlan.TypeClass.CONTAINER)),
                Map.entry(1042, new Type("bpchar", MaskPlan.TypeClass.TEXT)),
                Map.entry(1043, new Type("varchar", MaskPlan.TypeClass.TEXT)),
                Map.entry(1082, new Type("date", MaskPlan.TypeClass.SCALAR)),
                Map.entry(1083, new Type("time", MaskPlan.TypeClass.SCALAR)),
                Map.entry(1114, new Type("timestamp", MaskPlan.TypeClass.SCALAR)),
                Map.entry(1184, new Type("timestamptz", MaskPlan.TypeClass.SCALAR)),
                Map.entry(1186, new Type("interval", MaskPlan.TypeClass.SCALAR)),
                Map.entry(1700, new Type("numeric", MaskPlan.TypeClass.OTHER)),
                Map.entry(2249, new Type("record", MaskPlan.TypeClass.CONTAINER)),
                Map.entry(2950, new Type("uuid", MaskPlan.TypeClass.SCALAR)),
                Map.entry(3802, new Type("jsonb", MaskPlan.TypeClass.JSONB)));

        static Type of(int oid) {
            return TYPES.get(oid);
        }
    }
}
