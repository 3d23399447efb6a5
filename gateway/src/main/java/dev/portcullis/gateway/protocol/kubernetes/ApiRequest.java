package dev.portcullis.gateway.protocol.kubernetes;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.session.Request;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * One Kubernetes API request as the policy sees it: the kube-apiserver's RequestInfo (verb, API group and version,
 * resource, subresource, namespace, name), read from the method, the path and the query the same way the apiserver
 * reads them, so that the policy decides on what the cluster will do. The decision input's {@code request}
 * ({@code $defs/kubernetes} of policies-rego/schema/request.input.schema.json); its recorded details are the same
 * object.
 *
 * @param input what the policy decides on
 * @param text  the method and the path with its query, as the client sent them (the recording's text)
 */
public record ApiRequest(Input input, String text) implements Request {
    public static final String PROTOCOL = "kubernetes";
    /** Longest path with its query the gateway reads; a longer one is refused before it is parsed. */
    static final int MAX_URI_CHARS = 8192;
    /** Most command arguments of an exec the decision input carries; more are refused. */
    static final int MAX_COMMAND_ARGS = 256;
    /** Most distinct ports one port-forward reaches (in its URL, or over its life); more are refused. */
    static final int MAX_FORWARD_PORTS = 64;

    /** Subresources that open a stream into a workload: the apiserver's {@code connect} verb. */
    private static final Set<String> CONNECT_SUBRESOURCES = Set.of("exec", "attach", "portforward", "proxy");
    /** The verbs whose body is an object (or a patch of one) the cluster stores. */
    private static final Set<String> WRITE_VERBS = Set.of("create", "update", "patch");
    private static final String PROXY = "proxy";
    /** A service's port name (an IANA_SVC_NAME: at most 15 lower-case letters, digits and inner hyphens). */
    private static final java.util.regex.Pattern PORT_NAME = java.util.regex.Pattern.compile("^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$");
    /** Subresources of a namespace itself: {@code /api/v1/namespaces/NAME/status}. */
    private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

    /**
     * @param resourceRequest false for a non-resource path ({@code /version}, {@code /api}, {@code /openapi/v3}); then
     *                        only {@code verb} and {@code path} mean anything
     * @param exec            for exec and attach: what runs in which container; otherwise null
     * @param portForward     for portforward: the ports; otherwise null
     * @param proxy           for the proxy subresource: the target the API server proxies HTTP to; otherwise null
     * @param object          for create, update and patch: the body as JSON (an object, or a JSON Patch's list of
     *                        operations), a Secret's values masked ({@link RequestObject}); otherwise null
     * @param objectError     why a write's body is not in {@code object}: {@code too_large} or {@code not_json}; else null
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Input(String protocol, String verb, @JsonProperty("resource_request") boolean resourceRequest, String path,
            @JsonProperty("api_group") String apiGroup, @JsonProperty("api_version") String apiVersion, String resource,
            String subresource, String namespace, String name, @JsonProperty("label_selector") String labelSelector,
            @JsonProperty("field_selector") String fieldSelector, @JsonProperty("dry_run") boolean dryRun, Exec exec,
            @JsonProperty("port_forward") PortForward portForward, Proxy proxy, JsonNode object,
            @JsonProperty("object_error") String objectError) {
    }

    /**
     * A proxy to a pod's, service's or node's own HTTP port past the API server, from the name segment
     * {@code [scheme:]name[:port]} (the apiserver's SplitSchemeNamePort) and the path after {@code proxy}.
     *
     * @param scheme "" (http), "http" or "https"
     * @param port   "" when the name segment names none; else a port number or a service's port name, as written
     * @param path   what the workload is asked for: the path after {@code proxy}, "/" when nothing follows
     */
    public record Proxy(String scheme, String name, String port, String path) {
    }

    /** An exec or attach: the container, the command's argv (empty for attach), and whether stdin and a tty are open. */
    public record Exec(String container, List<String> command, boolean stdin, boolean tty) {
        public Exec {
            command = List.copyOf(command);
        }
    }

    /**
     * A port-forward. kubectl names no port when it opens one ({@code phase} {@value #OPEN}): each connection it
     * forwards asks for its port in the SPDY stream it opens inside the forward, and the gateway decides each new port
     * then ({@code phase} {@value #STREAM}, {@code ports} that one port).
     */
    public record PortForward(String phase, List<Integer> ports) {
        public static final String OPEN = "open";
        public static final String STREAM = "stream";

        public PortForward {
            ports = List.copyOf(ports);
        }
    }

    /** The client's request could not be read as a Kubernetes API request; the message says why, for the client. */
    static final class Malformed extends RuntimeException {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** The parts of a request the parser reads; {@code query} gives every value of a parameter, decoded. */
    interface Query {
        List<String> all(String name);

        default String first(String name) {
            List<String> values = all(name);
            return values.isEmpty() ? "" : values.get(0);
        }
    }

    /**
     * Reads a request as the apiserver's RequestInfoFactory does.
     *
     * @param method the HTTP method
     * @param path   the path below the connection's prefix, decoded, starting with '/'
     * @param uri    the path and query as sent, for the recording
     */
    static ApiRequest parse(String method, String path, Query query, String uri) {
        if (uri.length() > MAX_URI_CHARS) {
            throw new Malformed("the request URI is longer than " + MAX_URI_CHARS + " characters");
        }
        if (!path.startsWith("/") || path.contains("//") || path.contains("/../") || path.endsWith("/..") || path.contains("/./")
                || path.endsWith("/.") || path.indexOf('\0') >= 0) {
            throw new Malformed("the request path \"" + path + "\" is not a clean absolute path");
        }
        String text = method + " " + uri;
        String[] parts = path.equals("/") ? new String[0] : path.substring(1).split("/", -1);
        String lowerMethod = method.toLowerCase(Locale.ROOT);
        boolean legacy = parts.length >= 1 && parts[0].equals("api");
        boolean grouped = parts.length >= 1 && parts[0].equals("apis");
        // /api and /apis themselves, /api/v1 and /apis/GROUP (/VERSION) are discovery: non-resource requests
        int minimum = legacy ? 3 : 4;
        if ((!legacy && !grouped) || parts.length < minimum) {
            return new ApiRequest(new Input(PROTOCOL, lowerMethod, false, path, null, null, null, null, null, null, null, null,
                    dryRun(query), null, null, null, null, null), text);
        }
        String group = legacy ? "" : parts[1];
        String version = legacy ? parts[1] : parts[2];
        List<String> rest = List.of(parts).subList(legacy ? 2 : 3, parts.length);
        boolean watchPath = false;
        boolean legacyProxy = false;
        if (!rest.isEmpty() && rest.get(0).equals("watch")) {
            // the deprecated /watch/ prefix: a watch whatever the query says
            watchPath = true;
            rest = rest.subList(1, rest.size());
        } else if (!rest.isEmpty() && rest.get(0).equals(PROXY)) {
            // the legacy /proxy/ prefix: RequestInfo's verb proxy, with no subresource, and all after the name is the
            // proxied path; read as the proxy subresource, so that one policy decides both forms
            legacyProxy = true;
            rest = rest.subList(1, rest.size());
        }
        String namespace = "";
        if (rest.size() >= 1 && rest.get(0).equals("namespaces") && rest.size() > 1) {
            namespace = rest.get(1);
            if (rest.size() > 2 && !NAMESPACE_SUBRESOURCES.contains(rest.get(2))) {
                rest = rest.subList(2, rest.size());
            }
        }
        // resource/name/subresource; after a proxy's name (legacy) or its subresource, the path the workload receives
        int proxyAt = legacyProxy ? 2 : rest.size() >= 3 && rest.get(2).equals(PROXY) ? 3 : -1;
        List<String> proxied = proxyAt >= 0 && rest.size() > proxyAt ? rest.subList(proxyAt, rest.size()) : List.of();
        if (proxyAt >= 0) {
            rest = rest.subList(0, Math.min(rest.size(), proxyAt));
            if (rest.size() < 2) {
                throw new Malformed("the proxy request \"" + path + "\" names no pod, service or node to proxy to");
            }
        }
        if (rest.isEmpty() || rest.size() > 3) {
            throw new Malformed("the request path \"" + path + "\" names no resource the Kubernetes API serves");
        }
        for (String p : rest) {
            if (p.isEmpty()) {
                throw new Malformed("the request path \"" + path + "\" has an empty segment");
            }
        }
        String resource = rest.get(0);
        String name = rest.size() >= 2 ? rest.get(1) : "";
        String subresource = proxyAt >= 0 ? PROXY : rest.size() >= 3 ? rest.get(2) : "";
        Proxy proxy = proxyAt >= 0 ? proxy(name, "/" + String.join("/", proxied)) : null;
        String verb = verb(lowerMethod, name, subresource, watchPath, query);
        Exec exec = null;
        if (subresource.equals("exec") || subresource.equals("attach")) {
            List<String> command = query.all("command");
            if (command.size() > MAX_COMMAND_ARGS) {
                throw new Malformed("the exec command has more than " + MAX_COMMAND_ARGS + " arguments");
            }
            exec = new Exec(query.first("container"), command, bool(query.first("stdin")), bool(query.first("tty")));
        }
        PortForward portForward = subresource.equals("portforward") ? new PortForward(PortForward.OPEN, ports(query.all("ports")))
                : null;
        return new ApiRequest(new Input(PROTOCOL, verb, true, path, group, version, resource, subresource, namespace, name,
                query.first("labelSelector"), query.first("fieldSelector"), dryRun(query), exec, portForward, proxy, null, null), text);
    }

    /**
     * A proxy's target from its name segment, as the apiserver's SplitSchemeNamePort reads it: {@code name},
     * {@code name:port} or {@code scheme:name:port}, the scheme http or https, the name not empty.
     */
    private static Proxy proxy(String segment, String path) {
        String[] parts = segment.split(":", -1);
        String scheme = parts.length == 3 ? parts[0] : "";
        String name = parts.length == 3 ? parts[1] : parts[0];
        String port = parts.length == 3 ? parts[2] : parts.length == 2 ? parts[1] : "";
        if (parts.length > 3 || name.isEmpty() || !(scheme.isEmpty() || scheme.equals("http") || scheme.equals("https"))) {
            throw new Malformed("the proxy target \"" + shortened(segment) + "\" is not [http:|https:]name[:port]");
        }
        if (!port.isEmpty() && !port.chars().allMatch(c -> c >= '0' && c <= '9') && !PORT_NAME.matcher(port).matches()) {
            throw new Malformed("the proxy target's port \"" + shortened(port) + "\" is neither a port number nor a port name");
        }
        if (!port.isEmpty() && port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            port(port);
        }
        return new Proxy(scheme, name, port, path);
    }

    private static String shortened(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "..." : s;
    }

    /** The ports of a port-forward's query, as the kubelet reads them: {@code ports=80,8080}, or the parameter repeated. */
    private static List<Integer> ports(List<String> values) {
        TreeSet<Integer> ports = new TreeSet<>();
        for (String value : values) {
            for (String p : value.split(",", -1)) {
                ports.add(port(p.trim()));
                if (ports.size() > MAX_FORWARD_PORTS) {
                    throw new Malformed("the port-forward names more than " + MAX_FORWARD_PORTS + " ports");
                }
            }
        }
        return List.copyOf(ports);
    }

    /** A TCP port, 1 to 65535, written in decimal. */
    static int port(String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new Malformed("\"" + (text.length() > 16 ? text.substring(0, 16) + "..." : text) + "\" is not a port number");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw new Malformed(port + " is not a port number (1 to 65535)");
        }
        return port;
    }

    /** This port-forward as one of its streams asks for {@code port}: decided when the forward first reaches that port. */
    ApiRequest forPort(int port) {
        Input i = input;
        return new ApiRequest(new Input(i.protocol(), i.verb(), i.resourceRequest(), i.path(), i.apiGroup(), i.apiVersion(),
                i.resource(), i.subresource(), i.namespace(), i.name(), i.labelSelector(), i.fieldSelector(), i.dryRun(), i.exec(),
                new PortForward(PortForward.STREAM, List.of(port)), i.proxy(), i.object(), i.objectError()), text + " port " + port);
    }

    /** This request with the object its body carries, or why it carries none ({@link RequestObject}). */
    ApiRequest withObject(JsonNode object, String objectError) {
        Input i = input;
        return new ApiRequest(new Input(i.protocol(), i.verb(), i.resourceRequest(), i.path(), i.apiGroup(), i.apiVersion(),
                i.resource(), i.subresource(), i.namespace(), i.name(), i.labelSelector(), i.fieldSelector(), i.dryRun(), i.exec(),
                i.portForward(), i.proxy(), object, objectError), text);
    }

    /** Whether the apiserver reads an object from the body: create, update and patch. */
    boolean writesObject() {
        return input.resourceRequest() && WRITE_VERBS.contains(input.verb());
    }

    private static String verb(String method, String name, String subresource, boolean watchPath, Query query) {
        if (CONNECT_SUBRESOURCES.contains(subresource)) {
            return "connect";
        }
        return switch (method) {
            case "get", "head" -> {
                if (watchPath || bool(query.first("watch"))) {
                    yield "watch";
                }
                yield name.isEmpty() ? "list" : "get";
            }
            case "post" -> "create";
            case "put" -> "update";
            case "patch" -> "patch";
            case "delete" -> name.isEmpty() ? "deletecollection" : "delete";
            // an unknown method keeps its name, which no default policy allows
            default -> method;
        };
    }

    private static boolean dryRun(Query query) {
        return !query.all("dryRun").isEmpty();
    }

    /** As the apiserver reads a boolean query parameter: "true" or "1" (any case). */
    private static boolean bool(String value) {
        return value.equalsIgnoreCase("true") || value.equals("1");
    }

    /** Whether the request opens a stream into a workload (exec, attach, port-forward, proxy). */
    boolean connect() {
        return "connect".equals(input.verb());
    }

    /** Whether it reads a container's log (pods/log): text lines, which the content detectors can scan. */
    boolean log() {
        return "get".equals(input.verb()) && "pods".equals(input.resource()) && "log".equals(input.subresource());
    }

    /** Whether it is a proxy to a workload's own port: a plain HTTP call the API server passes on, no stream. */
    boolean proxy() {
        return input.proxy() != null;
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public String message() {
        return "api";
    }

    @Override
    public String summary() {
        Input i = input;
        if (!i.resourceRequest()) {
            return i.verb() + " " + i.path();
        }
        return i.verb() + " " + i.resource() + (i.subresource().isEmpty() ? "" : "/" + i.subresource())
                + (i.name().isEmpty() ? "" : " " + i.name()) + (i.namespace().isEmpty() ? "" : " in namespace " + i.namespace())
                + (i.portForward() == null || i.portForward().ports().isEmpty() ? "" : " to port"
                        + (i.portForward().ports().size() > 1 ? "s " : " ") + i.portForward().ports().stream().map(String::valueOf)
                                .collect(Collectors.joining(", ")));
    }

    @Override
    public Object details() {
        return input;
    }

    @Override
    public boolean memoizable() {
        // a session keeps up to 256 remembered requests: never the objects, which may each be a megabyte
        return input.object() == null;
    }
}
