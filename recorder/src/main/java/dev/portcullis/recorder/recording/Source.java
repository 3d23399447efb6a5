package dev.portcullis.recorder.recording;

/** Where events came from: a range of offsets of one partition of a topic, both ends included. */
public record Source(String topic, int partition, long firstOffset, long lastOffset) {

    public static Source of(String topic, int partition, long offset) {
        return new Source(topic, partition, offset, offset);
    }

    /** This range widened to take in the offset. */
    public Source with(long offset) {
        return offset >= firstOffset && offset <= lastOffset ? this
                : new Source(topic, partition, Math.min(firstOffset, offset), Math.max(lastOffset, offset));
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + firstOffset + (lastOffset == firstOffset ? "" : ".." + lastOffset);
    }
}
