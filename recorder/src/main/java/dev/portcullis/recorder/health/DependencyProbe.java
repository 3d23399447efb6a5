package dev.portcullis.recorder.health;

import dev.portcullis.recorder.recording.RecordingIndex;
import dev.portcullis.recorder.storage.RecordingStore;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Tells an outage from bad content when a write fails: PostgreSQL answers {@code SELECT 1} and the recordings bucket
 * answers a HEAD. If either does not, the write is retried for as long as it takes; if both do, the failure was
 * about what was written.
 */
@ApplicationScoped
public class DependencyProbe {
    private final RecordingIndex index;
    private final RecordingStore store;

    DependencyProbe(RecordingIndex index, RecordingStore store) {
        this.index = index;
        this.store = store;
    }

    /** @return what is down and why, or {@code null} when PostgreSQL and S3 both answer */
    public String outage() {
        try {
            index.ping();
        } catch (RuntimeException e) {
            return "PostgreSQL does not answer (" + e.getMessage() + ")";
        }
        try {
            store.headBucket();
        } catch (RuntimeException e) {
            return "the S3 bucket does not answer (" + e.getMessage() + ")";
        }
        return null;
    }
}
