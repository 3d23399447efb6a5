package dev.portcullis.gateway.protocol.ssh;

import java.util.regex.Pattern;

/**
 * What a client names in the SSH user field: {@code <connection>}, or {@code <login>@<connection>} to log in to the
 * target as one of the other logins the connection allows ({@link TargetLogin#loginFor}). Split at the last {@code @}:
 * a connection name never holds one.
 *
 * @param login      the login the client asked for, or null for the connection's own
 * @param connection the registered connection's name
 */
record UserField(String login, String connection) {
    /** A registered connection's name, as the admin API accepts it. */
    private static final Pattern CONNECTION = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    /** A portable POSIX user name (the admin API takes the same for a connection's logins). */
    static final Pattern LOGIN = Pattern.compile("[a-z_][a-z0-9_.-]{0,31}");

    /** The parts of {@code user}, or null when it is not {@code <connection>} or {@code <login>@<connection>}. */
    static UserField parse(String user) {
        if (user == null) {
            return null;
        }
        int at = user.lastIndexOf('@');
        String connection = at < 0 ? user : user.substring(at + 1);
        String login = at < 0 ? null : user.substring(0, at);
        if (!CONNECTION.matcher(connection).matches() || (login != null && !LOGIN.matcher(login).matches())) {
            return null;
        }
        return new UserField(login, connection);
    }
}
