package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes the idempotent statements of many callers in fewer requests: each caller's group is held
 * for at most {@code linger}, then written with the groups that came meanwhile in one unlogged batch
 * of at most {@code maxStatements} statements (a group larger than that goes alone). Never blocks:
 * {@link #add} queues and, when the queue holds a full batch, starts its write on the caller's
 * thread; otherwise the JDK's delay scheduler starts it after {@code linger}.
 *
 * <p>Why: the bid path writes one served record (and a charge per CPM win) per answered request; at
 * a thousand requests a second that is a thousand requests to Cassandra, each with its own round
 * trip on the driver's I/O thread and its own task in the Cassandra node's native-transport pool.
 * Coalescing them cuts both by the batch size.
 *
 * <p>An unlogged batch over several partitions is not atomic across them (each partition's mutation
 * is applied on its own) and adds nothing but fewer requests: every statement must be idempotent,
 * and the batch is retried whole by the driver's policy. Keep {@code maxStatements} at or under
 * Cassandra's {@code unlogged_batch_across_partitions_warn_threshold} (10 by default; a statement
 * touches one partition) and the batch under {@code batch_size_warn_threshold} (5 KiB), or every
 * batch makes the server warn and the driver log it.
 *
 * <p>What it costs: a record becomes durable up to {@code linger} later, and a process killed in
 * that window loses the groups it held (as it loses the writes it had in flight).
 */
public final class StatementBatcher {
  private record Group(List<BatchableStatement<?>> statements, CompletableFuture<Void> done) {}

  private final CqlSession session;
  private final long lingerNanos;
  private final int maxStatements;
  private final ConsistencyLevel consistency;
  private final Executor afterLinger;
  private final ConcurrentLinkedQueue<Group> queue = new ConcurrentLinkedQueue<>();
  /** Statements in {@link #queue}. */
  private final AtomicInteger queued = new AtomicInteger();
  /** Whether a flush after the linger is scheduled. */
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /**
   * @param linger how long a group may wait for others (zero: every group is written on its own, at once)
   * @param maxStatements the most statements in one batch, at least 1
   */
  public StatementBatcher(CqlSession session, Duration linger, int maxStatements, ConsistencyLevel consistency) {
    this.session = Objects.requireNonNull(session, "session");
    if (linger.isNegative()) {
      throw new IllegalArgumentException("linger must not be negative: " + linger);
    }
    if (maxStatements < 1) {
      throw new IllegalArgumentException("maxStatements must be at least 1: " + maxStatements);
    }
    this.lingerNanos = linger.toNanos();
    this.maxStatements = maxStatements;
    this.consistency = Objects.requireNonNull(consistency, "consistency");
    // the flush only builds a statement and hands it to the driver: run it on the scheduler's thread
    this.afterLinger = CompletableFuture.delayedExecutor(Math.max(1, lingerNanos), TimeUnit.NANOSECONDS, Runnable::run);
  }

  /**
   * Queues one caller's statements, written together in the same batch; completes when that batch
   * is written (exceptionally when it failed).
   *
   * @throws IllegalArgumentException if {@code statements} is empty
   */
  public CompletionStage<Void> add(List<? extends BatchableStatement<?>> statements) {
    if (statements.isEmpty()) {
      throw new IllegalArgumentException("statements: none to write");
    }
    Group g = new Group(List.copyOf(statements), new CompletableFuture<>());
    if (lingerNanos == 0) {
      write(List.of(g), g.statements().size());
      return g.done();
    }
    queue.add(g);
    if (queued.addAndGet(g.statements().size()) >= maxStatements) {
      flush();
    } else if (scheduled.compareAndSet(false, true)) {
      afterLinger.execute(this::flushAfterLinger);
    }
    return g.done();
  }

  private void flushAfterLinger() {
    scheduled.set(false);
    flush();
    // groups queued by a racing add after the flush took its batch, with no flush scheduled for them
    if (queued.get() > 0 && scheduled.compareAndSet(false, true)) {
      afterLinger.execute(this::flushAfterLinger);
    }
  }

  /** Writes what is queued, in batches of at most {@code maxStatements} (a larger group alone). */
  private void flush() {
    while (true) {
      List<Group> batch = new ArrayList<>();
      int statements = 0;
      Group g;
      while ((g = queue.peek()) != null) {
        int n = g.statements().size();
        if (statements > 0 && statements + n > maxStatements) {
          break;
        }
        if (!queue.remove(g)) {
          break; // another flush took it
        }
        batch.add(g);
        statements += n;
      }
      if (batch.isEmpty()) {
        return;
      }
      queued.addAndGet(-statements);
      write(batch, statements);
      if (queued.get() < maxStatements) {
        return; // the rest waits for its linger (scheduled by whoever queued it)
      }
    }
  }

  private void write(List<Group> groups, int statements) {
    CompletionStage<?> written;
    try {
      if (statements == 1) {
        BatchableStatement<?> only = groups.get(0).statements().get(0);
        written = session.executeAsync(only.setConsistencyLevel(consistency).setIdempotent(true));
      } else {
        BatchStatementBuilder b = BatchStatement.builder(DefaultBatchType.UNLOGGED);
        for (Group g : groups) {
          for (BatchableStatement<?> s : g.statements()) {
            b.addStatement(s);
          }
        }
        written = session.executeAsync(b.setConsistencyLevel(consistency).setIdempotence(true).build());
      }
    } catch (RuntimeException e) {
      written = CompletableFuture.failedFuture(e);
    }
    written.whenComplete((rs, err) -> {
      for (Group g : groups) {
        if (err == null) {
          g.done().complete(null);
        } else {
          g.done().completeExceptionally(err);
        }
      }
    });
  }
}
