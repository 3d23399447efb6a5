package dev.portcullis.admin.session;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.util.Optional;

/**
 * Where the recorder keeps recordings (the recorder's {@code portcullis.recorder.s3.*}). The API only reads them:
 * a read-only key is enough.
 */
@ConfigMapping(prefix = "portcullis.recordings")
public interface RecordingsConfig {
    /** S3 API endpoint, addressed path-style. */
    @WithDefault("${S3_ENDPOINT}")
    URI s3Endpoint();

    @WithDefault("${S3_BUCKET}")
    String s3Bucket();

    /** Signing region; S3-compatible stores accept any. */
    @WithDefault("us-east-1")
    String s3Region();

    @WithDefault("${S3_ACCESS_KEY:}")
    Optional<String> s3AccessKey();

    @WithDefault("${S3_SECRET_KEY:}")
    Optional<String> s3SecretKey();
}
