package dev.adengine.persistence.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After each top-level test class (and its {@code @AfterAll} methods, which stop the nodes it
 * started), drops the keyspaces it named with {@link CassandraTestNode#uniqueKeyspaceName}.
 * Registered for every test class of the modules that use this test-jar through {@code
 * META-INF/services} and JUnit's extension autodetection, which the root pom's surefire
 * configuration turns on. Not after a {@code @Nested} class: its enclosing class may still use
 * the keyspaces.
 */
public final class DropTestKeyspaces implements AfterAllCallback {

  @Override
  public void afterAll(ExtensionContext context) {
    boolean topLevel = context.getParent().flatMap(ExtensionContext::getParent).isEmpty();
    if (topLevel) {
      CassandraTestNode.dropNamedKeyspaces();
    }
  }
}
