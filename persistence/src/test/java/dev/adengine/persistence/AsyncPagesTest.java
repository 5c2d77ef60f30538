package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** {@link AsyncPages#concatBounded}, driven by hand-completed futures instead of Cassandra. */
class AsyncPagesTest {

  /** A query started and not yet completed; the test completes it. */
  private record Pending(int key, CompletableFuture<List<String>> result) {}

  private final List<Pending> inFlight = new ArrayList<>();
  private final List<Integer> started = new ArrayList<>();

  private CompletionStage<List<String>> query(int key) {
    started.add(key);
    CompletableFuture<List<String>> result = new CompletableFuture<>();
    inFlight.add(new Pending(key, result));
    return result;
  }

  @Test
  void shouldKeepAtMostTheBoundInFlightAndConcatInKeyOrderWhenQueriesCompleteOutOfOrder() {
    // given ten keys and a bound of three
    List<Integer> keys = IntStream.range(0, 10).boxed().toList();

    // when the queries complete newest first, one at a time (so keys 0 and 1 finish last)
    CompletableFuture<List<String>> all =
        AsyncPages.concatBounded(keys, 3, this::query).toCompletableFuture();
    int maxInFlight = 0;
    List<Integer> completionOrder = new ArrayList<>();
    while (!inFlight.isEmpty()) {
      maxInFlight = Math.max(maxInFlight, inFlight.size());
      Pending newest = inFlight.remove(inFlight.size() - 1);
      completionOrder.add(newest.key());
      newest.result().complete(List.of("k" + newest.key() + "a", "k" + newest.key() + "b"));
    }

    // then never more than three ran at once, every key ran once, and rows come in key order
    assertEquals(3, maxInFlight);
    assertEquals(List.of(2, 3, 4, 5, 6, 7, 8, 9, 1, 0), completionOrder);
    assertEquals(keys, started);
    List<String> expected = new ArrayList<>();
    keys.forEach(k -> expected.addAll(List.of("k" + k + "a", "k" + k + "b")));
    assertEquals(expected, all.join());
  }

  @Test
  void shouldStartNoNewQueryAndFailWhenAQueryFails() {
    // given ten keys and a bound of two
    List<Integer> keys = IntStream.range(0, 10).boxed().toList();
    CompletableFuture<List<String>> all =
        AsyncPages.concatBounded(keys, 2, this::query).toCompletableFuture();
    RuntimeException boom = new IllegalStateException("partition unavailable");

    // when the first query fails, then the second completes
    inFlight.get(0).result().completeExceptionally(boom);
    inFlight.get(1).result().complete(List.of("k1"));

    // then no third query started and the whole read fails with the first error
    assertEquals(List.of(0, 1), started);
    CompletionException error = assertThrows(CompletionException.class, all::join);
    assertSame(boom, error.getCause());
  }

  @Test
  void shouldCompleteEmptyWhenThereAreNoKeys() {
    // given
    List<Integer> none = List.of();

    // when
    CompletableFuture<List<String>> all = AsyncPages.concatBounded(none, 8, this::query).toCompletableFuture();

    // then
    assertTrue(all.isDone());
    assertEquals(List.of(), all.join());
    assertEquals(List.of(), started);
  }
}
