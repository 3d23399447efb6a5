package dev.portcullis.admin.session;

import dev.portcullis.contract.RecordingBucket;
import dev.portcullis.contract.events.RecordingChunks;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/** Reads recording chunks from the recorder's bucket. Blocking: call it on a worker thread. */
@Singleton
@Startup // building the SDK client loads many classes: not on the first request's event loop
public class RecordingObjects {
    /** A chunk holds at most one slice of a consumer batch; this bound only stops a hostile object. */
    static final long MAX_CHUNK_BYTES = 512L << 20;

    private final S3Client s3;
    private final String bucket;

    RecordingObjects(RecordingBucket recordings) {
        this.bucket = recordings.bucket();
        this.s3 = recordings.client(Duration.ofSeconds(5), Duration.ofSeconds(30));
    }

    /**
     * Where a chunk (a run of one session's events) lies: a byte range of its object (a gzip member of a batch's
     * object), or the whole object when {@code length} is {@code null} (recordings stored before V5).
     */
    public record Chunk(long firstSeq, String objectKey, long offset, Long length) {
    }

    /** The chunk's lines, or {@code null} when the object is missing or not a readable chunk. */
    public List<byte[]> lines(Chunk chunk) {
        try {
            byte[] gzipped = s3.getObjectAsBytes(b -> {
                b.bucket(bucket).key(chunk.objectKey());
                if (chunk.length() != null) {
                    b.range("bytes=" + chunk.offset() + "-" + (chunk.offset() + chunk.length() - 1));
                }
            }).asByteArray();
            return RecordingChunks.decode(gzipped, MAX_CHUNK_BYTES);
        } catch (NoSuchKeyException | IllegalArgumentException e) {
            return null;
        }
    }

    @PreDestroy
    void close() {
        s3.close();
    }
}
