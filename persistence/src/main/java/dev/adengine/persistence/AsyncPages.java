package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Reads query results without blocking: all pages via {@link AsyncResultSet#fetchNextPage()},
 * or the first row. Callbacks run on driver I/O threads, so {@code mapper} must be cheap and
 * must not block.
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
