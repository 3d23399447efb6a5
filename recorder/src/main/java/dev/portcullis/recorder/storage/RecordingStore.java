package dev.portcullis.recorder.storage;

import dev.portcullis.recorder.RecorderConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** The recorder's writes to the recordings bucket. Every call blocks: run it on a worker thread. */
@ApplicationScoped
public class RecordingStore {
    /** Events that broke the contract, kept as received: {@code rejected/<topic>/<partition>/<offset>}. */
    static final String REJECTED = "rejected/";

    private final S3Client s3;
    private final String bucket;

    RecordingStore(S3Client s3, RecorderConfig config) {
        this.s3 = s3;
        this.bucket = config.s3().bucket();
    }

    /** Stores a chunk. A retry after a failure writes the same key, so a half-done attempt leaves nothing behind. */
    public void putChunk(String key, byte[] gzippedJsonl) {
        s3.putObject(PutObjectRequest.builder().bucket(bucket).key(key)
                .contentType("application/jsonl").contentEncoding("gzip").build(), RequestBody.fromBytes(gzippedJsonl));
    }

    /**
     * Keeps a refused event as received, under {@code rejected/<topic>/<partition>/<offset>}, with {@code -<line>}
     * (from 1) when its record held several events ({@code line} is -1 otherwise).
     *
     * @return the key it was kept under
     */
    public String putRejected(String topic, int partition, long offset, int line, byte[] raw) {
        String key = REJECTED + topic + "/" + partition + "/" + offset + (line < 0 ? "" : "-" + (line + 1));
        s3.putObject(PutObjectRequest.builder().bucket(bucket).key(key).contentType("application/octet-stream").build(),
                RequestBody.fromBytes(raw == null ? new byte[0] : raw));
        return key;
    }

    /** Deletes every object under the prefix. @return how many */
    public int deletePrefix(String prefix) {
        int deleted = 0;
        while (true) {
            ListObjectsV2Response page = s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix));
            List<ObjectIdentifier> keys = page.contents().stream()
                    .map(o -> ObjectIdentifier.builder().key(o.key()).build()).toList();
            if (keys.isEmpty()) {
                return deleted;
            }
            DeleteObjectsResponse response = s3.deleteObjects(b -> b.bucket(bucket)
                    .delete(Delete.builder().objects(keys).quiet(true).build()));
            if (!response.errors().isEmpty()) {
                throw new IllegalStateException("S3 refused to delete " + response.errors().size() + " objects under "
                        + prefix + " (first: " + response.errors().get(0).code() + ")");
            }
            deleted += keys.size();
        }
    }
}
