package dev.portcullis.gateway.masking;

/**
 * {@code \b} of {@code java.util.regex} in JDK 17, read from UTF-8 bytes: a word character is '_' or a Unicode letter
 * or digit ({@link Character#isLetterOrDigit(int)}), and a non-spacing mark counts as one when it follows a letter or
 * digit (through other such marks). The quirk is kept: the JDK looks for that letter one UTF-16 unit at a time, so a
 * supplementary character on the way (read as its low surrogate) ends the search. Bytes that are not UTF-8 count as
 * U+FFFD, which is no word character.
 */
final class Words {
    private Words() {
    }

    /** Whether the character that ends at {@code i} is a word character (false at the start). */
    static boolean wordBefore(byte[] t, int i) {
        if (i == 0) {
            return false;
        }
        int start = startBefore(t, i);
        int cp = decode(t, start, i);
        if (cp < 0) {
            return false;
        }
        if (isWord(cp)) {
            return true;
        }
        if (cp > 0xFFFF || Character.getType(cp) != Character.NON_SPACING_MARK) {
            return false;
        }
        for (int x = start; x > 0; ) {
            int s = startBefore(t, x);
            int c = decode(t, s, x);
            if (c < 0 || c > 0xFFFF) {
                return false;
            }
            if (Character.isLetterOrDigit(c)) {
                return true;
            }
            if (Character.getType(c) != Character.NON_SPACING_MARK) {
                return false;
            }
            x = s;
        }
        return false;
    }

    /**
     * Whether the character at {@code i} is a word character, where the one before it is an ASCII letter or digit
     * (so a non-spacing mark there has its letter); false at the end.
     */
    static boolean wordAt(byte[] t, int i) {
        if (i >= t.length) {
            return false;
        }
        int b = t[i] & 0xff;
        int length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        if (i + length > t.length) {
            return false;
        }
        int cp = decode(t, i, i + length);
        return cp >= 0 && (isWord(cp) || Character.getType(cp) == Character.NON_SPACING_MARK);
    }

    private static boolean isWord(int cp) {
        return cp == '_' || Character.isLetterOrDigit(cp);
    }

    /** The index of the first byte of the character that ends at {@code end} (its lead byte, if it has one). */
    private static int startBefore(byte[] t, int end) {
        int s = end - 1;
        while (s > 0 && end - s < 4 && (t[s] & 0xC0) == 0x80) {
            s--;
        }
        return s;
    }

    /** The code point that {@code t[start, end)} encodes, or -1 when those bytes are not exactly one UTF-8 character. */
    private static int decode(byte[] t, int start, int end) {
        int b = t[start] & 0xff;
        if (b < 0x80) {
            return end - start == 1 ? b : -1;
        }
        int length = b >= 0xF5 ? 0 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
        if (length != end - start) {
            return -1;
        }
        int cp = b & (0x7F >> length);
        for (int i = start + 1; i < end; i++) {
            if ((t[i] & 0xC0) != 0x80) {
                return -1;
            }
            cp = cp << 6 | t[i] & 0x3F;
        }
        boolean valid = switch (length) {
            case 3 -> cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
            case 4 -> cp >= 0x10000 && cp <= 0x10FFFF;
            default -> true;
        };
        return valid ? cp : -1;
    }
}
