package dev.adengine.engine.health;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * Per-ActorSystem handle through which Pekko Management's health checks (and the admin API) see the
 * node. Readiness is a list of named checks, each answering from memory (never a remote call): the
 * node is ready when every one passes. Until the node registers its checks it is not ready.
 */
public final class NodeState implements Extension {
  private static final ExtensionId<NodeState> ID = new ExtensionId<>() {
    @Override
    public NodeState createExtension(ActorSystem<?> system) {
      return new NodeState();
    }
  };

  /** The node's readiness checks, each one a class in management.conf's readiness-checks. */
  public static final String REPLICA = "replica";
  public static final String MODEL = "model";
  public static final String CASSANDRA = "cassandra";

  /** One check's verdict: passing or not, and what it saw (why it fails). */
  public record Status(boolean ok, String detail) {
    public static Status ok(String detail) {
      return new Status(true, detail);
    }

    public static Status failing(String detail) {
      return new Status(false, detail);
    }
  }

  /** A named readiness check; {@code status} must answer from memory, without blocking. */
  public record Check(String name, Supplier<Status> status) {}

  /** A check's name with its verdict. */
  public record Result(String name, boolean ok, String detail) {}

  private volatile List<Check> checks = List.of();

  public static NodeState get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /** Sets the node's readiness checks (at start, once its parts are wired). */
  public void readiness(List<Check> checks) {
    this.checks = List.copyOf(checks);
  }

  /** True when the node's checks are registered and all pass. */
  public boolean ready() {
    List<Check> all = checks;
    if (all.isEmpty()) {
      return false;
    }
    for (Check c : all) {
      if (!c.status().get().ok()) {
        return false;
      }
    }
    return true;
  }

  /** Every check's verdict, in registration order; empty while the node is starting. */
  public List<Result> results() {
    List<Result> out = new ArrayList<>();
    for (Check c : checks) {
      Status s = c.status().get();
      out.add(new Result(c.name(), s.ok(), s.detail()));
    }
    return out;
  }

  /** The verdict of the check called {@code name}; failing while the node has not registered it. */
  public Status status(String name) {
    for (Check c : checks) {
      if (c.name().equals(name)) {
        return c.status().get();
      }
    }
    return Status.failing("the node is starting (check not registered yet)");
  }
}
