package dev.portcullis.gateway.session;

import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.MaskPlan;
import java.util.List;
import java.util.Set;

/**
 * What a request that ran returned, as the recording keeps it: sizes and timing, what masking did, and the
 * protocol's own outcome. Never a value of the result.
 *
 * @param requestSeq the recorded request's seq ({@link Verdict#seq()})
 * @param ok         whether it completed without error
 * @param bytes      bytes of data sent to the client, after masking
 * @param masked     the masked columns, in result order
 * @param detectors  the content detectors that found something
 * @param details    the protocol's own outcome, written as the {@code result} event's {@code details} (contract/EVENTS.md;
 *                   PostgreSQL: rows, command tag, SQLSTATE); never error text, which can quote data
 */
public record RequestResult(long requestSeq, boolean ok, long bytes, long durationUs, List<MaskPlan.MaskedColumn> masked,
        Set<Detectors.Kind> detectors, Object details) {
}
