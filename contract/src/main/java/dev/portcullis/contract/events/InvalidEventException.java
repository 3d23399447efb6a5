package dev.portcullis.contract.events;

/** An event that does not follow the contract. The message names the field, never its value. */
public class InvalidEventException extends IllegalArgumentException {
    public InvalidEventException(String message) {
        super(message);
    }
}
