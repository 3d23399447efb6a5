package dev.portcullis.admin.connection;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A row of {@code connections} (schema in the contract module's V1 migration). */
@Entity
@Table(name = "connections")
public class ConnectionEntity extends PanacheEntityBase {

    @Id
    public String name;

    public String type;
    public String host;
    public int port;
    public String database;
    public String username;

    /** The password sealed with {@link dev.portcullis.contract.SecretSealer}; never leaves this service. */
    public byte[] secret;

    @Column(name = "tls_mode")
    public String tlsMode;

    @Column(name = "tls_ca_pem")
    public String tlsCaPem;

    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, String> tags;

    @Column(name = "created_at")
    public OffsetDateTime createdAt;

    @Column(name = "updated_at")
    public OffsetDateTime updatedAt;
}
