package dev.portcullis.gateway.protocol.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The gateway reads a request's verb, resource, namespace and name the way the kube-apiserver's RequestInfo does. */
class ApiRequestTest {

    private static ApiRequest.Input parse(String method, String path, Map<String, List<String>> query) {
        return ApiRequest.parse(method, path, name -> query.getOrDefault(name, List.of()), path).input();
    }

    private static ApiRequest.Input parse(String method, String path) {
        return parse(method, path, Map.of());
    }

    @ParameterizedTest(name = "{0} {1} is {2} {3}/{4} {5} in \"{6}\"")
    @CsvSource(nullValues = "null", value = {
            "GET,    /api/v1/namespaces/demo/pods,              list,             pods,        '',     '',        demo",
            "GET,    /api/v1/namespaces/demo/pods/web-1,        get,              pods,        '',     web-1,     demo",
            "GET,    /api/v1/namespaces/demo/pods/web-1/log,    get,              pods,        log,    web-1,     demo",
            "POST,   /api/v1/namespaces/demo/pods,              create,           pods,        '',     '',        demo",
            "PUT,    /api/v1/namespaces/demo/pods/web-1,        update,           pods,        '',     web-1,     demo",
            "PATCH,  /apis/apps/v1/namespaces/demo/deployments/web, patch,        deployments, '',     web,       demo",
            "DELETE, /api/v1/namespaces/demo/pods/web-1,        delete,           pods,        '',     web-1,     demo",
            "DELETE, /api/v1/namespaces/demo/pods,              deletecollection, pods,        '',     '',        demo",
            "GET,    /api/v1/namespaces/demo/pods/web-1/exec,   connect,          pods,        exec,   web-1,     demo",
            "POST,   /api/v1/namespaces/demo/pods/web-1/portforward, connect,     pods,        portforward, web-1, demo",
            "GET,    /api/v1/namespaces,                        list,             namespaces,  '',     '',        ''",
            "GET,    /api/v1/namespaces/demo,                   get,              namespaces,  '',     demo,      demo",
            "PUT,    /api/v1/namespaces/demo/finalize,          update,           namespaces,  finalize, demo,    demo",
            "GET,    /api/v1/nodes/kwok-node-0,                 get,              nodes,       '',     kwok-node-0, ''",
            "GET,    /api/v1/watch/namespaces/demo/pods,        watch,            pods,        '',     '',        demo",
            "HEAD,   /api/v1/namespaces/demo/secrets/db,        get,              secrets,     '',     db,        demo",
            "GET,    /api/v1/namespaces/demo/pods/web-1:8080/proxy/healthz, connect, pods,     proxy,  web-1:8080, demo",
            "POST,   /api/v1/namespaces/demo/services/https:web:443/proxy/, connect, services, proxy,  https:web:443, demo",
            "GET,    /api/v1/nodes/kwok-node-0/proxy/metrics,   connect,          nodes,       proxy,  kwok-node-0, ''",
            "GET,    /api/v1/proxy/namespaces/demo/pods/web-1/healthz, connect,   pods,        proxy,  web-1,     demo",
            "GET,    /api/v1/proxy/nodes/kwok-node-0,           connect,          nodes,       proxy,  kwok-node-0, ''",
            "GET,    /api/v1/namespaces/demo/proxy,             list,             proxy,       '',     '',        demo",
    })
    void reads_requests_like_the_apiserver(String method, String path, String verb, String resource, String subresource, String name,
            String namespace) {
        ApiRequest.Input in = parse(method, path);
        assertTrue(in.resourceRequest());
        assertEquals(verb, in.verb());
        assertEquals(resource, in.resource());
        assertEquals(subresource, in.subresource());
        assertEquals(name, in.name());
        assertEquals(namespace, in.namespace());
    }

    @Test
    void group_and_version_of_both_api_prefixes() {
        ApiRequest.Input apps = parse("GET", "/apis/apps/v1/namespaces/demo/deployments");
        assertEquals("apps", apps.apiGroup());
        assertEquals("v1", apps.apiVersion());
        ApiRequest.Input core = parse("GET", "/api/v1/pods");
        assertEquals("", core.apiGroup());
        assertEquals("v1", core.apiVersion());
        assertEquals("", core.namespace(), "pods of every namespace are a cluster-wide list");
    }

    @Test
    void watch_query_makes_a_list_a_watch_and_selectors_and_dry_run_are_read() {
        ApiRequest.Input in = parse("GET", "/api/v1/namespaces/demo/pods", Map.of("watch", List.of("true"),
                "labelSelector", List.of("app=web"), "fieldSelector", List.of("metadata.name=web-1")));
        assertEquals("watch", in.verb());
        assertEquals("app=web", in.labelSelector());
        assertEquals("metadata.name=web-1", in.fieldSelector());
        assertFalse(in.dryRun());
        assertTrue(parse("DELETE", "/api/v1/namespaces/demo/pods/x", Map.of("dryRun", List.of("All"))).dryRun());
        assertEquals("list", parse("GET", "/api/v1/namespaces/demo/pods", Map.of("watch", List.of("false"))).verb());
    }

    @Test
    void exec_carries_its_container_command_and_streams() {
        ApiRequest.Input in = parse("GET", "/api/v1/namespaces/demo/pods/web-1/exec", Map.of("command", List.of("sh", "-c", "id"),
                "container", List.of("web"), "stdin", List.of("true"), "tty", List.of("1")));
        assertEquals(new ApiRequest.Exec("web", List.of("sh", "-c", "id"), true, true), in.exec());
        assertNull(parse("GET", "/api/v1/namespaces/demo/pods/web-1").exec());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/version", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/openapi/v3", "/"})
    void discovery_and_other_paths_are_non_resource_requests(String path) {
        ApiRequest.Input in = parse("GET", path);
        assertFalse(in.resourceRequest());
        assertEquals("get", in.verb());
        assertEquals(path, in.path());
        assertNull(in.resource());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api/v1/namespaces/demo/pods/web/exec/extra", "/api/v1/namespaces/demo/../kube-system/secrets",
            "/api/v1//pods", "/api/v1/namespaces/demo/pods/", "relative/path", "/api/v1/namespaces/./secrets"})
    void refuses_paths_the_apiserver_would_read_differently(String path) {
        assertThrows(ApiRequest.Malformed.class, () -> parse("GET", path));
    }

    @Test
    void proxy_carries_its_target_and_the_path_the_workload_receives() {
        assertEquals(new ApiRequest.Proxy("", "web-1", "8080", "/healthz/deep"),
                parse("GET", "/api/v1/namespaces/demo/pods/web-1:8080/proxy/healthz/deep").proxy());
        assertEquals(new ApiRequest.Proxy("https", "web", "443", "/"), parse("GET", "/api/v1/namespaces/demo/services/https:web:443/proxy/").proxy());
        assertEquals(new ApiRequest.Proxy("", "web", "http", "/"), parse("GET", "/api/v1/namespaces/demo/services/web:http/proxy").proxy());
        assertEquals(new ApiRequest.Proxy("", "kwok-node-0", "", "/exec/demo/web-1/web"),
                parse("POST", "/api/v1/nodes/kwok-node-0/proxy/exec/demo/web-1/web").proxy());
        // the legacy form: everything after the name is the proxied path
        assertEquals(new ApiRequest.Proxy("", "web-1", "", "/a/b"), parse("GET", "/api/v1/proxy/namespaces/demo/pods/web-1/a/b").proxy());
        assertNull(parse("GET", "/api/v1/namespaces/demo/pods/web-1/log").proxy());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api/v1/proxy", "/api/v1/proxy/nodes", "/api/v1/proxy/namespaces/demo/pods",
            "/api/v1/namespaces/demo/pods/ftp:web-1:80/proxy/", "/api/v1/namespaces/demo/pods/a:b:c:d/proxy",
            "/api/v1/namespaces/demo/pods/:80/proxy", "/api/v1/namespaces/demo/pods/web-1:99999/proxy",
            "/api/v1/namespaces/demo/pods/web-1:0/proxy", "/api/v1/namespaces/demo/services/web:Bad_Port/proxy",
            "/api/v1/namespaces/demo/pods/web-1/proxy/a/../../../secrets"})
    void refuses_proxy_requests_without_a_readable_target(String path) {
        assertThrows(ApiRequest.Malformed.class, () -> parse("GET", path));
    }

    @Test
    void refuses_huge_uris_and_commands() {
        String huge = "/api/v1/namespaces/demo/pods/" + "x".repeat(ApiRequest.MAX_URI_CHARS);
        assertThrows(ApiRequest.Malformed.class, () -> parse("GET", huge));
        List<String> argv = java.util.Collections.nCopies(ApiRequest.MAX_COMMAND_ARGS + 1, "a");
        assertThrows(ApiRequest.Malformed.class, () -> parse("GET", "/api/v1/namespaces/demo/pods/web/exec", Map.of("command", argv)));
    }

    @Test
    void unknown_methods_keep_their_name_for_the_policy_to_refuse() {
        assertEquals("options", parse("OPTIONS", "/api/v1/namespaces/demo/pods").verb());
    }

    @Test
    void port_forward_opens_with_the_ports_of_its_url_and_each_stream_is_decided_for_its_port() {
        ApiRequest.Input opening = parse("POST", "/api/v1/namespaces/demo/pods/web-1/portforward");
        assertEquals(new ApiRequest.PortForward("open", List.of()), opening.portForward());
        assertNull(parse("GET", "/api/v1/namespaces/demo/pods/web-1/exec").portForward());
        ApiRequest.Input named = parse("GET", "/api/v1/namespaces/demo/pods/web-1/portforward",
                Map.of("ports", List.of("8080,80", "80")));
        assertEquals(List.of(80, 8080), named.portForward().ports());
        ApiRequest stream = ApiRequest.parse("POST", "/api/v1/namespaces/demo/pods/web-1/portforward", name -> List.of(),
                "/api/v1/namespaces/demo/pods/web-1/portforward").forPort(5432);
        assertEquals(new ApiRequest.PortForward("stream", List.of(5432)), stream.input().portForward());
        assertEquals("connect pods/portforward web-1 in namespace demo to port 5432", stream.summary());
        assertTrue(stream.text().endsWith("portforward port 5432"), stream.text());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "-1", "80a", "", " ", "0x50", "99999999999999999999", "80,,81"})
    void refuses_port_forward_ports_that_are_not_tcp_ports(String ports) {
        assertThrows(ApiRequest.Malformed.class, () -> parse("GET", "/api/v1/namespaces/demo/pods/web-1/portforward",
                Map.of("ports", List.of(ports))));
    }

    @Test
    void refuses_a_port_forward_to_more_ports_than_it_holds() {
        String many = java.util.stream.IntStream.rangeClosed(1, ApiRequest.MAX_FORWARD_PORTS + 1).mapToObj(String::valueOf)
                .collect(java.util.stream.Collectors.joining(","));
        assertThrows(ApiRequest.Malformed.class, () -> parse("GET", "/api/v1/namespaces/demo/pods/web-1/portforward",
                Map.of("ports", List.of(many))));
    }
}
