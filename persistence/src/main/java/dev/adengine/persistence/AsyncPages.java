package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Reads query results without blocking: all pages via {@link AsyncResultSet#fetchNextPage()},
 * the first row, or the rows of many queries with a bound on how many run at once. Callbacks run
 * on driver I/O threads, so {@code mapper} must be cheap and must not block.
 */
final class AsyncPages {

  private AsyncPages() {}

  /** Maps every row of every page, fetching the next page only when the current one is read. */
  static <T> CompletionStage<List<T>> all(
      CompletionStage<AsyncResultSet> first, Function<Row, T> mapper) {
    List<T> collected = new ArrayList<>();
    return first.thenCompose(page -> drain(page, mapper, collected));
  }

  /** The first row, mapped, or empty. */
  static <T> CompletionStage<Optional<T>> first(
      CompletionStage<AsyncResultSet> result, Function<Row, T> mapper) {
    return result.thenApply(page -> Optional.ofNullable(page.one()).map(mapper));
  }

  /**
   * Runs {@code query} for every key with at most {@code maxOutstanding} queries in flight and
   * concatenates their results in key order. Reading many partitions (a day of an hour-and-bucket
   * table is hundreds) all at once would flood the driver's request queue and the node; this keeps
   * {@code maxOutstanding} lanes, each starting the next key when its current one completes. After
   * the first failure no new query starts, and the stage fails with that error once the queries in
   * flight have ended.
   */
  static <K, T> CompletionStage<List<T>> concatBounded(
      List<K> keys, int maxOutstanding, Function<K, CompletionStage<List<T>>> query) {
    if (maxOutstanding < 1) {
      throw new IllegalArgumentException("maxOutstanding must be >= 1, was " + maxOutstanding);
    }
    List<K> work = List.copyOf(keys);
    List<List<T>> results = new ArrayList<>(Collections.nCopies(work.size(), List.of()));
    AtomicInteger next = new AtomicInteger();
    AtomicBoolean failed = new AtomicBoolean();
    CompletableFuture<?>[] lanes = new CompletableFuture<?>[Math.min(maxOutstanding, work.size())];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = lane(work, query, results, next, failed).toCompletableFuture();
    }
    return CompletableFuture.allOf(lanes).thenApply(done -> {
      List<T> all = new ArrayList<>();
      synchronized (results) {
        results.forEach(all::addAll);
      }
      return List.copyOf(all);
    });
  }

  private static <K, T> CompletionStage<Void> lane(List<K> work, Function<K, CompletionStage<List<T>>> query,
      List<List<T>> results, AtomicInteger next, AtomicBoolean failed) {
    int index = next.getAndIncrement();
    if (index >= work.size() || failed.get()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletionStage<List<T>> result;
    try {
      result = query.apply(work.get(index));
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result
        .whenComplete((rows, error) -> {
          if (error != null) {
            failed.set(true);
          } else {
            synchronized (results) {
              results.set(index, rows);
            }
          }
        })
        .thenCompose(rows -> lane(work, query, results, next, failed));
  }

  private static <T> CompletionStage<List<T>> drain(
      AsyncResultSet page, Function<Row, T> mapper, List<T> collected) {
    for (Row row : page.currentPage()) {
      collected.add(mapper.apply(row));
    }
    if (page.hasMorePages()) {
      return page.fetchNextPage().thenCompose(next -> drain(next, mapper, collected));
    }
    return CompletableFuture.completedFuture(List.copyOf(collected));
  }
}
