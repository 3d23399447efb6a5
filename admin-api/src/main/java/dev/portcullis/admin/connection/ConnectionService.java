package dev.portcullis.admin.connection;

import dev.portcullis.admin.audit.AdminAuditEntry;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.security.Actor;
import dev.portcullis.contract.SecretSealer;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Reads and changes connections; every change is audited in its own transaction. */
@ApplicationScoped
public class ConnectionService {
    private final SecretSealer sealer;

    ConnectionService(SecretSealer sealer) {
        this.sealer = sealer;
    }

    @WithSession
    public Uni<List<ConnectionView>> list() {
        return ConnectionEntity.<ConnectionEntity>listAll(Sort.by("name"))
                .map(rows -> rows.stream().map(ConnectionView::of).toList());
    }

    /** A connection and its entity tag, which a client sends back in If-Match to change it. */
    public record Versioned(ConnectionView connection, String etag) {
        static Versioned of(ConnectionEntity c) {
            return new Versioned(ConnectionView.of(c), c.etag());
        }
    }

    @WithSession
    public Uni<Versioned> get(String name) {
        return find(name).map(Versioned::of);
    }

    @WithTransaction
    public Uni<Versioned> create(ConnectionRequest request, Actor actor) {
        if (request.name() == null) {
            return Uni.createFrom().failure(ApiException.invalidField("name", "is required: " + ConnectionRequest.NAME_RULE));
        }
        return AdminAuditEntry.changesAuditedHere()
                .chain(() -> ConnectionEntity.<ConnectionEntity>findById(request.name())).chain(existing -> {
            if (existing != null) {
                return Uni.createFrom().failure(alreadyExists(request.name()));
            }
            ConnectionEntity created = new ConnectionEntity();
            created.name = request.name();
            created.createdAt = OffsetDateTime.now();
            apply(request, ConnectionTypes.check(request, false), created);
            return created.<ConnectionEntity>persist()
                    .call(() -> AdminAuditEntry.record(actor, "connection.create", target(created.name), describe(created)))
                    .map(Versioned::of);
        }).onFailure(UniqueViolation::is).transform(e -> alreadyExists(request.name()));
    }

    /** @param ifMatch the If-Match header: required, so that a change made meanwhile is never overwritten unseen */
    @WithTransaction
    public Uni<Versioned> update(String name, ConnectionRequest request, String ifMatch, Actor actor) {
        if (request.name() != null && !request.name().equals(name)) {
            return Uni.createFrom().failure(ApiException.invalidField("name", "must match the name in the URL ('" + name
                    + "'); connections cannot be renamed: create one under the new name, then delete the old one"));
        }
        return AdminAuditEntry.changesAuditedHere().chain(() -> findForChange(name, ifMatch, true)).chain(connection -> {
            // a stored secret carries over only within its type: a token is no SSH key
            ConnectionTypes.Target target = ConnectionTypes.check(request,
                    request.type().equals(connection.type) && connection.secret != null);
            List<String> changed = changedFields(request, target, connection);
            apply(request, target, connection);
            Map<String, Object> details = describe(connection);
            details.put("changed", changed);
            return AdminAuditEntry.record(actor, "connection.update", target(name), details)
                    .replaceWith(connection);
        }).map(Versioned::of);
    }

    /** @param ifMatch the If-Match header, checked when given */
    @WithTransaction
    public Uni<Void> delete(String name, String ifMatch, Actor actor) {
        return AdminAuditEntry.changesAuditedHere().chain(() -> findForChange(name, ifMatch, false))
                .call(ConnectionEntity::delete)
                .call(deleted -> AdminAuditEntry.record(actor, "connection.delete", target(name), describe(deleted)))
                .replaceWithVoid();
    }

    static Uni<ConnectionEntity> find(String name) {
        return ConnectionEntity.<ConnectionEntity>findById(name).onItem().ifNull().failWith(() -> notFound(name));
    }

    private static ApiException notFound(String name) {
        return ApiException.notFound("connection '" + name + "' does not exist; GET /connections lists the registered ones");
    }

    /**
     * The row, locked until the transaction ends (so that two writers holding the same ETag cannot both pass), if
     * If-Match names its current ETag or is {@code *}: 428 when the header is required and missing, 412 when the row
     * changed since the client read it.
     */
    static Uni<ConnectionEntity> findForChange(String name, String ifMatch, boolean required) {
        return ConnectionEntity.<ConnectionEntity>findById(name, LockModeType.PESSIMISTIC_WRITE)
                .onItem().ifNull().failWith(() -> notFound(name))
                .invoke(connection -> checkIfMatch(connection, ifMatch, required));
    }

    private static void checkIfMatch(ConnectionEntity connection, String ifMatch, boolean required) {
        if (ifMatch == null || ifMatch.isBlank()) {
            if (!required) {
                return;
            }
            throw new ApiException(428, "changing connection '" + connection.name + "' needs an If-Match header with its"
                    + " ETag (GET /connections/" + connection.name + " answers it), so that a change made meanwhile is not"
                    + " overwritten unseen");
        }
        String current = connection.etag();
        for (String tag : ifMatch.split(",")) {
            if (tag.strip().equals("*") || tag.strip().equals(current)) {
                return;
            }
        }
        throw new ApiException(412, "connection '" + connection.name + "' changed since the ETag in If-Match was read"
                + " (its ETag is now " + current + "); GET it again, reapply your change and retry");
    }

    /** Copies the request onto the row. An absent password or credential keeps the stored secret. */
    private void apply(ConnectionRequest request, ConnectionTypes.Target target, ConnectionEntity connection) {
        if (!Objects.equals(connection.type, request.type())) {
            connection.secret = null; // another type's secret is never this one's: an SSH key is no database password
        }
        connection.type = request.type();
        connection.host = target.host();
        connection.port = target.port();
        connection.database = request.database();
        connection.username = request.username();
        connection.tlsMode = ConnectionTypes.tlsModeOrDefault(request);
        connection.tlsCaPem = request.tlsCaPem();
        connection.tags = new LinkedHashMap<>(request.tagsOrEmpty());
        connection.settings = new LinkedHashMap<>(target.settings());
        if (request.password() != null) {
            connection.secret = sealer.seal(connection.name, request.password());
        } else if (request.credential() != null) {
            connection.secret = sealer.seal(connection.name, request.credential());
        }
        connection.updatedAt = OffsetDateTime.now();
    }

    private static List<String> changedFields(ConnectionRequest request, ConnectionTypes.Target target, ConnectionEntity before) {
        List<String> changed = new ArrayList<>();
        addIfChanged(changed, "type", before.type, request.type());
        addIfChanged(changed, "host", before.host, target.host());
        addIfChanged(changed, "port", before.port, target.port());
        addIfChanged(changed, "database", before.database, request.database());
        addIfChanged(changed, "username", before.username, request.username());
        addIfChanged(changed, "tls_mode", before.tlsMode, ConnectionTypes.tlsModeOrDefault(request));
        addIfChanged(changed, "tls_ca_pem", before.tlsCaPem, request.tlsCaPem());
        addIfChanged(changed, "tags", before.tags == null ? Map.of() : before.tags, request.tagsOrEmpty());
        addIfChanged(changed, "settings", before.settings == null ? Map.of() : before.settings, target.settings());
        if (request.password() != null) {
            changed.add("password"); // that it changed, never what to
        }
        if (request.credential() != null) {
            changed.add("credential"); // likewise
        }
        return changed;
    }

    private static void addIfChanged(List<String> changed, String field, Object before, Object after) {
        if (!Objects.equals(before, after)) {
            changed.add(field);
        }
    }

    /** The audit view of a connection: its non-secret settings, and whether a password is stored. */
    private static Map<String, Object> describe(ConnectionEntity c) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("type", c.type);
        details.put("host", c.host);
        details.put("port", c.port);
        details.put("database", c.database);
        details.put("username", c.username);
        details.put("tls_mode", c.tlsMode);
        details.put("tags", c.tags);
        details.put("settings", c.settings); // public parts only: a host key, never a secret
        details.put("has_secret", c.secret != null);
        return details;
    }

    private static String target(String name) {
        return "connection/" + name;
    }

    private static ApiException alreadyExists(String name) {
        return ApiException.conflict("connection '" + name + "' already exists; change it with PUT /connections/" + name
                + " or choose another name");
    }
}
