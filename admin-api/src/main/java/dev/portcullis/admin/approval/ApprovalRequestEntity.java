package dev.portcullis.admin.approval;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hibernate.annotations.DynamicUpdate;
import org.hibernate.annotations.Formula;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * A row of {@code approval_requests} (contract V7): a request the gateway holds until it is approved, denied or ends
 * otherwise. The gateway creates it and ends it when the client goes, it expires or the gateway restarts; the admin
 * API takes the votes and ends it when they decide it. The admin API changes only {@code state}, {@code outcome} and
 * {@code decided_at} ({@code @DynamicUpdate}: an update writes only what changed).
 * <p>
 * The JSON array columns are read as their text: Hibernate Reactive maps only JSON objects to Java types.
 */
@Entity
@Table(name = "approval_requests")
@DynamicUpdate
public class ApprovalRequestEntity extends PanacheEntityBase {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String PENDING = "pending";
    public static final String APPROVED = "approved";
    public static final String DENIED = "denied";
    public static final String EXPIRED = "expired";

    @Id
    public UUID id;
    public String state;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
    @Column(name = "expires_at")
    public OffsetDateTime expiresAt;
    @Column(name = "decided_at")
    public OffsetDateTime decidedAt;
    public String outcome;
    @Column(name = "session_id")
    public UUID sessionId;
    @Column(name = "request_seq")
    public long requestSeq;
    public String gateway;
    @Column(name = "identity_subject")
    public String identitySubject;
    @Column(name = "identity_name")
    public String identityName;
    /** JSON text of a list of strings (see {@link #strings}). */
    @Formula("cast(identity_groups as text)")
    public String identityGroups;
    @Column(name = "identity_kind")
    public String identityKind;
    @Column(name = "connection_name")
    public String connectionName;
    @Column(name = "connection_type")
    public String connectionType;
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "connection_tags")
    public Map<String, String> connectionTags;
    public String protocol;
    public String summary;
    @Column(name = "request_text")
    public String requestText;
    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, Object> request;
    public String policy;
    @Formula("cast(reasons as text)")
    public String reasons;
    @Formula("cast(approver_groups as text)")
    public String approverGroups;
    @Column(name = "min_approvals")
    public int minApprovals;
    @Column(name = "grant_scope")
    public String grantScope;
    @Column(name = "grant_ttl_s")
    public Integer grantTtlS;

    /** A JSON array of strings, as the formula columns hold it; empty when absent or not one. */
    public static List<String> strings(String json) {
        if (json == null) {
            return List.of();
        }
        try {
            return List.of(JSON.readValue(json, String[].class));
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    /** Why a request ended when nobody decided it in time, in the same words whoever notices it first. */
    public static String expiredOutcome(OffsetDateTime expiresAt) {
        return "it expired at " + Times.format(expiresAt) + " before enough approvers decided it";
    }
}
