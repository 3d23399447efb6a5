package dev.portcullis.gateway.protocol.ssh;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.portcullis.gateway.session.Request;
import java.util.List;

/**
 * One SSH channel request as the policy sees it ({@code $defs/ssh} of policies-rego/schema/request.input.schema.json):
 * an {@code exec} with its command line and its argv as the target's shell would split it, a {@code shell}, a
 * {@code pty-req}, an {@code env} (its name only: a value can be a secret), a {@code subsystem}, or one file operation
 * inside an allowed sftp subsystem ({@code sftp}, see {@link SftpFilter}), a {@code direct-tcpip} forward (see
 * {@link ForwardChannel}), or a remote forward's {@code tcpip-forward} global request (see {@link RemoteForward}). Its recorded details are the same object.
 *
 * @param input what the policy decides on
 * @param text  the command line of an exec, else null (the recording's text)
 */
public record SshRequest(Input input, String text) implements Request {
    public static final String PROTOCOL = "ssh";
    public static final String EXEC = "exec";
    public static final String SHELL = "shell";
    public static final String PTY = "pty-req";
    public static final String ENV = "env";
    public static final String SUBSYSTEM = "subsystem";
    public static final String SFTP = "sftp";
    public static final String FORWARD = "direct-tcpip";
    public static final String REMOTE_FORWARD = "tcpip-forward";

    /**
     * @param type        {@code exec}, {@code shell}, {@code pty-req}, {@code env} or {@code subsystem}
     * @param command     an exec's command line, else null
     * @param argv        an exec's words as a POSIX shell splits them (see {@link CommandLine}), else null
     * @param shellSyntax whether an exec's command line uses the shell beyond plain words (pipes, redirections,
     *                    substitutions, several commands): then argv does not say all that runs
     * @param name        an env request's variable name, a subsystem's name, a pty-req's terminal type; else null
     * @param operation   an sftp operation: open, readdir, remove, rename, mkdir, rmdir, setstat, symlink, link, or what
     *                    else the client asked ({@code extension NAME}, {@code packet TYPE}); else null
     * @param path        an sftp operation's path; else null
     * @param newPath     an sftp rename's, symlink's or link's second path; else null
     * @param access      an sftp open's flags by name; else null
     * @param host        a direct-tcpip forward's destination host, or the address a tcpip-forward asks the target to
     *                    listen on, as the client named it; else null
     * @param port        a direct-tcpip forward's destination port, or the port a tcpip-forward asks the target to
     *                    listen on (0: the target picks one); else null
     * @param login       the user the gateway logs in as on the target: the connection's own, or the one the client
     *                    named ({@code <login>@<connection>}) among those the connection allows
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Input(String protocol, String type, String command, List<String> argv, @JsonProperty("shell_syntax") Boolean shellSyntax,
            String name, String operation, String path, @JsonProperty("new_path") String newPath, List<String> access, String host,
            Integer port, String login) {
        Input(String protocol, String type, String command, List<String> argv, Boolean shellSyntax, String name) {
            this(protocol, type, command, argv, shellSyntax, name, null, null, null, null, null, null, null);
        }

        Input(String protocol, String type, String command, List<String> argv, Boolean shellSyntax, String name, String operation,
                String path, String newPath, List<String> access, String host, Integer port) {
            this(protocol, type, command, argv, shellSyntax, name, operation, path, newPath, access, host, port, null);
        }
    }

    /** The same request, made as {@code login} on the target. */
    SshRequest as(String login) {
        return new SshRequest(new Input(input.protocol(), input.type(), input.command(), input.argv(), input.shellSyntax(),
                input.name(), input.operation(), input.path(), input.newPath(), input.access(), input.host(), input.port(), login), text);
    }

    static SshRequest exec(String command) {
        CommandLine line = CommandLine.split(command);
        return new SshRequest(new Input(PROTOCOL, EXEC, command, line.argv(), line.shellSyntax(), null), command);
    }

    static SshRequest shell() {
        return new SshRequest(new Input(PROTOCOL, SHELL, null, null, null, null), null);
    }

    static SshRequest pty(String term) {
        return new SshRequest(new Input(PROTOCOL, PTY, null, null, null, term), null);
    }

    static SshRequest env(String name) {
        return new SshRequest(new Input(PROTOCOL, ENV, null, null, null, name), null);
    }

    static SshRequest subsystem(String name) {
        return new SshRequest(new Input(PROTOCOL, SUBSYSTEM, null, null, null, name), null);
    }

    /** One sftp file operation; {@code newPath} and {@code access} may be null. */
    static SshRequest sftp(String operation, String path, String newPath, List<String> access) {
        return new SshRequest(new Input(PROTOCOL, SFTP, null, null, null, null, operation, path, newPath, access, null, null),
                null);
    }

    /** A direct-tcpip channel (ssh -L) to {@code host:port}. */
    static SshRequest forward(String host, int port) {
        return new SshRequest(new Input(PROTOCOL, FORWARD, null, null, null, null, null, null, null, null, host, port), null);
    }

    /** A tcpip-forward global request (ssh -R): the target is to listen on {@code host:port}. */
    static SshRequest remoteForward(String host, int port) {
        return new SshRequest(new Input(PROTOCOL, REMOTE_FORWARD, null, null, null, null, null, null, null, null, host, port), null);
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public String message() {
        return input.type();
    }

    @Override
    public String summary() {
        return switch (input.type()) {
            case EXEC -> "exec " + input.command();
            case SHELL -> "interactive shell";
            case FORWARD -> "forward to " + input.host() + ":" + input.port();
            case REMOTE_FORWARD -> "remote forward listening on " + input.host() + ":" + input.port();
            case SFTP -> "sftp " + input.operation() + " " + input.path() + (input.newPath() == null ? "" : " " + input.newPath());
            default -> input.type() + " " + input.name();
        };
    }

    @Override
    public Object details() {
        return input;
    }

    @Override
    public boolean memoizable() {
        return true;
    }
}
