package dev.portcullis.gateway.identity;

/** An access token failed a check. The message names the check and never contains the token. */
public final class TokenRejectedException extends RuntimeException {
    public TokenRejectedException(String message) {
        super(message, null, false, false);
    }
}
