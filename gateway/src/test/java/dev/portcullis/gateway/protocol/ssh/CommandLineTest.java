package dev.portcullis.gateway.protocol.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The argv the policy sees is the one the target's shell runs, and anything more than plain words is flagged. */
class CommandLineTest {

    @Test
    void plain_words_split_on_blanks() {
        CommandLine line = CommandLine.split("  uname\t-a  ");
        assertEquals(List.of("uname", "-a"), line.argv());
        assertFalse(line.shellSyntax());
    }

    @Test
    void quotes_and_backslashes_are_removed_as_the_shell_removes_them() {
        CommandLine line = CommandLine.split("ls 'my dir' \"other dir\" a\\ b");
        assertEquals(List.of("ls", "my dir", "other dir", "a b"), line.argv());
        assertFalse(line.shellSyntax());
    }

    @Test
    void quoted_operators_are_only_text() {
        CommandLine line = CommandLine.split("echo 'a; b | c'");
        assertEquals(List.of("echo", "a; b | c"), line.argv());
        assertFalse(line.shellSyntax());
    }

    @Test
    void operators_substitutions_and_globs_are_shell_syntax() {
        for (String command : List.of("uname; rm -rf /", "uname && id", "ls | sh", "ls > /etc/x", "echo $(id)", "echo `id`",
                "echo \"$HOME\"", "ls *", "ls ~root", "uname # comment", "uname\nid", "(id)", "ls {a,b}", "ls a?")) {
            assertTrue(CommandLine.split(command).shellSyntax(), command);
        }
    }

    @Test
    void an_assignment_before_the_program_is_shell_syntax() {
        assertTrue(CommandLine.split("PATH=/tmp uname").shellSyntax());
        assertFalse(CommandLine.split("echo PATH=/tmp").shellSyntax());
    }

    @Test
    void an_unterminated_quote_is_shell_syntax_and_keeps_the_text() {
        CommandLine single = CommandLine.split("echo 'oops");
        assertTrue(single.shellSyntax());
        assertEquals(List.of("echo", "oops"), single.argv());
        assertTrue(CommandLine.split("echo \"oops").shellSyntax());
    }

    @Test
    void an_empty_command_line_has_no_words() {
        assertEquals(List.of(), CommandLine.split("").argv());
        assertEquals(List.of(), CommandLine.split("   ").argv());
    }

    @Test
    void a_trailing_backslash_adds_nothing() {
        assertEquals(List.of("echo"), CommandLine.split("echo \\").argv());
    }
}
