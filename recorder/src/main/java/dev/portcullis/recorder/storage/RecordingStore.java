package dev.portcullis.recorder.storage;

import dev.portcullis.contract.RecordingBucket;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** The recorder's reads and writes of the recordings bucket. Every call blocks: run it on a worker thread. */
@ApplicationScoped
public class RecordingStore {
    /** S3's limit of keys per DeleteObjects request. */
    public static final int MAX_DELETE_KEYS = 1000;

    private final S3Client s3;
    private final String bucket;

    RecordingStore(S3Client s3, RecordingBucket bucket) {
        this.s3 = s3;
        this.bucket = bucket.bucket();
    }

    /** Stores a gzip'd JSON Lines object (recordings and parked events alike). */
    public void put(String key, byte[] gzippedJsonl) {
        s3.putObject(PutObjectRequest.builder().bucket(bucket).key(key)
                .contentType("application/jsonl").contentEncoding("gzip").build(), RequestBody.fromBytes(gzippedJsonl));
    }

    /** The whole object. */
    public byte[] get(String key) {
        return s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
    }

    /** Throws when the bucket does not answer a HEAD with our credentials: an outage, not bad content. */
    public void headBucket() {
        s3.headBucket(b -> b.bucket(bucket));
    }

    /**
     * Deletes the objects (at most {@link #MAX_DELETE_KEYS}); an object that is already gone counts as deleted.
     *
     * @return the keys S3 refused to delete, each with its error code
     */
    public Map<String, String> delete(List<String> keys) {
        if (keys.isEmpty()) {
            return Map.of();
        }
        List<ObjectIdentifier> ids = keys.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList();
        DeleteObjectsResponse response = s3.deleteObjects(b -> b.bucket(bucket).delete(Delete.builder().objects(ids).quiet(true).build()));
        Map<String, String> refused = new HashMap<>();
        response.errors().forEach(e -> refused.put(e.key(), e.code() + ": " + e.message()));
        return refused;
    }
}
