package dev.portcullis.gateway.sql;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What a {@code COPY} moves and where (contract v1 {@code copy}).
 *
 * @param direction {@code "to"} (out of the database) or {@code "from"} (into it)
 * @param program   the other end is a shell command run by the server ({@code TO/FROM PROGRAM})
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record CopyInfo(String direction, boolean program) {

    public static final String TO = "to";
    public static final String FROM = "from";
}
