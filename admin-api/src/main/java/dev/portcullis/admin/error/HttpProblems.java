package dev.portcullis.admin.error;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Problem details for what the HTTP server refuses before the REST layer sees a request: a body over
 * {@code quarkus.http.limits.max-body-size} (Quarkus itself would answer 413 with an empty body), and a path no
 * endpoint serves.
 */
@ApplicationScoped
public class HttpProblems {
    private final long maxBodySize;

    HttpProblems(@ConfigProperty(name = "quarkus.http.limits.max-body-size", defaultValue = "10240K") MemorySize maxBodySize) {
        this.maxBodySize = maxBodySize.asLongValue();
    }

    void install(@Observes Router router) {
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT - 1).handler(this::limitBody);
        for (int status : new int[] {400, 404, 405, 406, 413, 415}) {
            router.errorHandler(status, ctx -> send(ctx, Problem.of(status, ApiExceptionMappers.standardDetail(status))));
        }
    }

    private void limitBody(RoutingContext ctx) {
        String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        long declared;
        try {
            declared = length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            sendAndClose(ctx, Problem.of(400, "the Content-Length header is not a number"));
            return;
        }
        if (declared > maxBodySize) {
            sendAndClose(ctx, Problem.of(413, "the request body is " + declared + " bytes; this API accepts at most " + maxBodySize));
            return;
        }
        ctx.next();
    }

    /** The body is not read: the connection closes after the answer rather than drain it. */
    private static void sendAndClose(RoutingContext ctx, Problem problem) {
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close")
                .endHandler(v -> ctx.request().connection().close());
        send(ctx, problem);
    }

    private static void send(RoutingContext ctx, Problem problem) {
        if (ctx.response().ended() || ctx.response().headWritten()) {
            return;
        }
        ctx.response().setStatusCode(problem.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                .end(problem.toJson());
    }
}
