package dev.portcullis.gateway.protocol.postgres.sql;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.create.table.CheckConstraint;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.Select;

/**
 * The children of a JSqlParser node, read reflectively, for walks that must not miss a clause a visitor forgot
 * (see {@link AstFacts}). A {@link Column}'s and an {@link AllTableColumns}'s table is a qualifier, not a child.
 */
public final class ParseTree {

    /** The walkable fields of each JSqlParser class: everything but primitives, strings, enums and the parse-tree link. */
    private static final ClassValue<Field[]> FIELDS = new ClassValue<>() {
        @Override
        protected Field[] computeValue(Class<?> type) {
            List<Field> fields = new ArrayList<>();
            for (Class<?> c = type; c != null && isParserClass(c); c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    int mod = f.getModifiers();
                    Class<?> ft = f.getType();
                    if (Modifier.isStatic(mod) || Modifier.isTransient(mod) || ft.isPrimitive() || ft == String.class
                            || ft.isEnum() || ft == Boolean.class || Number.class.isAssignableFrom(ft)
                            || ft == Character.class || isSkipped(c, f.getName())) {
                        continue;
                    }
                    f.setAccessible(true);
                    fields.add(f);
                }
            }
            return fields.toArray(new Field[0]);
        }
    };

    private ParseTree() {
    }

    /** The fields of a JSqlParser class that may hold child nodes. */
    public static Field[] fields(Class<?> type) {
        return FIELDS.get(type);
    }

    public static boolean isParserClass(Class<?> c) {
        return c.getName().startsWith("net.sf.jsqlparser.");
    }

    /** Fields that hold a table which is not accessed: qualifiers and back-references. */
    private static boolean isSkipped(Class<?> declaring, String field) {
        return (declaring == Column.class && field.equals("table"))
                || (declaring == AllTableColumns.class && field.equals("table"))
                || (declaring == CheckConstraint.class && field.equals("table"))
                || (declaring == Select.class && field.equals("forUpdateTable"))
                || field.equals("withItemsList");
    }

    /** A name as PostgreSQL reads it: unquoted names lower-cased, quoted ones as written; null stays null. */
    public static String identifier(String raw) {
        return Identifiers.ofRaw(raw);
    }
}
