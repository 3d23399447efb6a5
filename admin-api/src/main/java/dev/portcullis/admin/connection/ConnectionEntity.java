package dev.portcullis.admin.connection;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
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

    /** The password or credential sealed with {@link dev.portcullis.contract.SecretSealer}; never leaves this service. */
    public byte[] secret;

    @Column(name = "tls_mode")
    public String tlsMode;

    @Column(name = "tls_ca_pem")
    public String tlsCaPem;

    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, String> tags;

    /** What only this type needs, in the shape its gateway engine reads (see {@link ConnectionTypes}). */
    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, Object> settings;

    @Column(name = "created_at")
    public OffsetDateTime createdAt;

    @Column(name = "updated_at")
    public OffsetDateTime updatedAt;

    /**
     * The row's entity tag: a digest of every setting and of the sealed secret, so any change (in the API or in SQL,
     * a new password included) gives a new one, and it says nothing about the password. Strong: equal tags mean equal
     * rows.
     */
    public String etag() {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        for (Object field : Arrays.asList(name, type, host, port, database, username, tlsMode, tlsCaPem,
                tags == null ? Map.of() : new TreeMap<>(tags), settings == null ? Map.of() : new TreeMap<>(settings))) {
            byte[] bytes = String.valueOf(field).getBytes(StandardCharsets.UTF_8);
            digest.update(ByteBuffer.allocate(5).put((byte) (field == null ? 0 : 1)).putInt(bytes.length).array());
            digest.update(bytes);
        }
        digest.update(secret == null ? new byte[0] : secret);
        return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest.digest(), 18)) + "\"";
    }
}
