package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A size-bounded least-recently-used map, safe for many threads: the keys are spread over a few independently
 * locked segments so event-loop threads rarely wait for one another, and a hit costs one short lock.
 */
final class BoundedLru<K, V> {

    private final Segment<K, V>[] segments;

    @SuppressWarnings({"unchecked", "rawtypes"})
    BoundedLru(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be at least 1, was " + maxEntries);
        }
        int count = Math.min(16, Integer.highestOneBit(Math.max(1, maxEntries / 64)));
        segments = new Segment[count];
        int perSegment = Math.max(1, maxEntries / count);
        for (int i = 0; i < count; i++) {
            segments[i] = new Segment<>(perSegment);
        }
    }

    V get(K key) {
        Segment<K, V> segment = segmentFor(key);
        synchronized (segment) {
            return segment.get(key);
        }
    }

    void put(K key, V value) {
        Segment<K, V> segment = segmentFor(key);
        synchronized (segment) {
            segment.put(key, value);
        }
    }

    int size() {
        int size = 0;
        for (Segment<K, V> segment : segments) {
            synchronized (segment) {
                size += segment.size();
            }
        }
        return size;
    }

    void clear() {
        for (Segment<K, V> segment : segments) {
            synchronized (segment) {
                segment.clear();
            }
        }
    }

    /**
     * The segment from the hash's top bits, after a multiplicative mix: each segment's map picks its bins from the
     * low bits, so a segment chosen by those would leave most of its bins empty and the rest crowded.
     */
    private Segment<K, V> segmentFor(K key) {
        if (segments.length == 1) {
            return segments[0];
        }
        int h = key.hashCode() * 0x9E3779B9;
        return segments[h >>> (32 - Integer.numberOfTrailingZeros(segments.length))];
    }

    @SuppressWarnings("serial")
    private static final class Segment<K, V> extends LinkedHashMap<K, V> {
        private final int capacity;

        Segment(int capacity) {
            super(16, 0.75f, true);
            this.capacity = capacity;
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > capacity;
        }
    }
}
