package dev.portcullis.admin.security;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * What an endpoint does, as the admin policy ({@code portcullis/admin}) knows it: one of the actions listed in
 * {@code policies-rego/bundle/portcullis/admin/admin.rego}. Who may do it is OPA's decision ({@link EndpointAccess});
 * an endpoint without an action is refused to everyone.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface AdminAction {
    String value();
}
