package dev.portcullis.admin.session;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A row of {@code sessions}, written by the recorder (schema in the contract module's V3 migration). Read-only here. */
@Entity
@Table(name = "sessions")
public class SessionEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "object_prefix")
    public String objectPrefix;
    @Column(name = "started_at")
    public OffsetDateTime startedAt;
    @Column(name = "ended_at")
    public OffsetDateTime endedAt;
    @Column(name = "end_reason")
    public String endReason;
    @Column(name = "identity_subject")
    public String identitySubject;
    @Column(name = "identity_name")
    public String identityName;
    @Column(name = "connection_name")
    public String connectionName;
    @Column(name = "connection_type")
    public String connectionType;
    @Column(name = "source_ip")
    public String sourceIp;
    public String gateway;
    public long requests;
    public long denials;
    @Column(name = "last_seq")
    public long lastSeq;
    @Column(name = "last_hash")
    public byte[] lastHash;
    @Column(name = "last_event_at")
    public OffsetDateTime lastEventAt;
}
