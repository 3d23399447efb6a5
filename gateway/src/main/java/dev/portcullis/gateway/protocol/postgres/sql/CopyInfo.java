package dev.portcullis.gateway.protocol.postgres.sql;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What a {@code COPY} moves and where (contract v2 {@code copy}).
 *
 * @param direction {@code "to"} (out of the database) or {@code "from"} (into it)
 * @param program   the other end is a shell command run by the server ({@code TO/FROM PROGRAM})
 * @param toClient  {@code TO STDOUT}: the rows go to the client, through masking (not part of the contract)
 * @param source    for {@code TO STDOUT}: a query with the COPY's columns, to describe them (not part of the contract)
 * @param format    for {@code TO STDOUT}: how the rows are written (not part of the contract)
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record CopyInfo(String direction, boolean program, @JsonIgnore boolean toClient, @JsonIgnore String source,
        @JsonIgnore CopyFormat format) {

    public static final String TO = "to";
    public static final String FROM = "from";

    CopyInfo(String direction, boolean program) {
        this(direction, program, false, null, null);
    }
}
