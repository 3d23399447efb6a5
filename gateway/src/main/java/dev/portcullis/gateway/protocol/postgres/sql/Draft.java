package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** A {@link StatementInfo} being filled in. */
final class Draft {

    String command = "OTHER";
    final Set<TableRef> tables = new LinkedHashSet<>();
    final Set<String> functions = new LinkedHashSet<>();
    boolean hasWhere;
    final String normalized;
    final String via;
    CopyInfo copy;
    String setParameter;
    String preparedName;
    /** The text the parser read, for a query it read (see {@link StatementInfo#parserText()}). */
    String parserText;

    Draft(String normalized, String via) {
        this.normalized = normalized;
        this.via = via;
    }

    Draft command(String value) {
        command = value;
        return this;
    }

    void addTables(Collection<TableRef> more) {
        tables.addAll(more);
    }

    void addTables(Collection<LexicalFacts.QualifiedName> names, String access) {
        for (LexicalFacts.QualifiedName name : names) {
            tables.add(new TableRef(name.schema(), name.name(), access));
        }
    }

    /** The names of this statement's tables, which the lexical function finder must not take for calls. */
    Set<String> tableNames() {
        Set<String> names = new LinkedHashSet<>();
        for (TableRef t : tables) {
            names.add(Identifiers.asciiLower(t.name()));
        }
        return names;
    }

    /** The statement; a zero-length name (which the server rejects anyway) is left out, as the contract forbids it. */
    StatementInfo build() {
        List<TableRef> named = new ArrayList<>(tables.size());
        for (TableRef t : tables) {
            if (!t.name().isEmpty()) {
                named.add(t);
            }
        }
        List<String> called = new ArrayList<>(functions.size());
        for (String f : functions) {
            if (!f.isEmpty()) {
                called.add(f);
            }
        }
        return new StatementInfo(command, named, called, hasWhere, normalized, via, copy, setParameter, preparedName, null, parserText);
    }
}
