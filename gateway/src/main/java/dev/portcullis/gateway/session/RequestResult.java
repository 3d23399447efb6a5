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
 * @param rows       rows (or items) returned or affected
 * @param bytes      bytes of data sent to the client, after masking
 * @param masked     the masked columns, in result order
 * @param detectors  the content detectors that found something
 * @param status     the protocol's completion (PostgreSQL: the command tag), or null if it failed
 * @param error      the protocol's error code (PostgreSQL: the SQLSTATE), or null if it succeeded; never error text
 */
public record RequestResult(long requestSeq, long rows, long bytes, long durationUs, List<MaskPlan.MaskedColumn> masked,
        Set<Detectors.Kind> detectors, String status, String error) {
}
