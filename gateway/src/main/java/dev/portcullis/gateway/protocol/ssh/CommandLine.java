package dev.portcullis.gateway.protocol.ssh;

import java.util.ArrayList;
import java.util.List;

/**
 * An exec's command line split into words the way the target's POSIX shell would split a simple command: blanks
 * separate words, single quotes keep everything, double quotes keep all but {@code \ $ `}, a backslash escapes the next
 * character. Anything that makes the shell do more than run one program with these words (operators such as
 * {@code ; | & < > ( )}, substitutions {@code $ `}, globs, comments, newlines) sets {@link #shellSyntax()}: the
 * policy then cannot take argv for all that runs, and the default policy treats the command as arbitrary.
 */
record CommandLine(List<String> argv, boolean shellSyntax) {
    /** Characters that the shell acts on outside quotes. */
    private static final String SPECIAL = ";|&<>()$`*?[]{}~#\n\r!";

    static CommandLine split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        boolean syntax = false;
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            if (c == ' ' || c == '\t') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
                i++;
            } else if (c == '\'') {
                int end = line.indexOf('\'', i + 1);
                if (end < 0) {
                    word.append(line, i + 1, n); // unterminated: the shell would refuse it; it is arbitrary to the policy
                    words.add(word.toString());
                    return new CommandLine(List.copyOf(words), true);
                }
                word.append(line, i + 1, end);
                inWord = true;
                i = end + 1;
            } else if (c == '"') {
                i++;
                inWord = true;
                boolean closed = false;
                while (i < n) {
                    char d = line.charAt(i);
                    if (d == '"') {
                        closed = true;
                        i++;
                        break;
                    }
                    if (d == '$' || d == '`') {
                        syntax = true; // expanded inside double quotes
                    }
                    if (d == '\\' && i + 1 < n && "$`\"\\\n".indexOf(line.charAt(i + 1)) >= 0) {
                        word.append(line.charAt(i + 1));
                        i += 2;
                        continue;
                    }
                    word.append(d);
                    i++;
                }
                if (!closed) {
                    syntax = true;
                }
            } else if (c == '\\') {
                if (i + 1 < n) {
                    word.append(line.charAt(i + 1));
                    inWord = true;
                }
                i += 2;
            } else {
                if (SPECIAL.indexOf(c) >= 0) {
                    syntax = true;
                }
                word.append(c);
                inWord = true;
                i++;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        // VAR=value before the program changes its environment (PATH=/tmp/evil ls): not a plain command
        if (!words.isEmpty() && words.get(0).matches("[A-Za-z_][A-Za-z0-9_]*=.*")) {
            syntax = true;
        }
        return new CommandLine(List.copyOf(words), syntax);
    }
}
