package dev.portcullis.admin.policy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;

/** The OPA the admin API asks for decisions ({@code portcullis/approve} today). */
@ConfigMapping(prefix = "portcullis.admin.opa")
public interface OpaConfig {

    /** OPA's base URL; decisions are asked at {@code <url>/v1/data/portcullis/<entry>/decision}. */
    @WithDefault("${OPA_URL}")
    URI url();

    /** A decision that takes longer is no decision: the action is refused (503), never allowed. */
    @WithDefault("2s")
    Duration decisionTimeout();
}
