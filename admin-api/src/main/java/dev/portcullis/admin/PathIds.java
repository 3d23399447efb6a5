package dev.portcullis.admin;

import dev.portcullis.admin.error.ApiException;
import java.util.UUID;

/** Ids in request paths. */
public final class PathIds {
    private PathIds() {
    }

    /**
     * @param what what the id names and where to find one, for the message: "an approval request's id, a UUID (GET
     *             /approvals lists them)"
     * @throws ApiException 400 naming the field {@code id}
     */
    public static UUID uuid(String id, String what) {
        try {
            if (id.length() == 36) {
                return UUID.fromString(id);
            }
        } catch (IllegalArgumentException e) {
            // below
        }
        throw ApiException.invalidField("id", "must be " + what);
    }
}
