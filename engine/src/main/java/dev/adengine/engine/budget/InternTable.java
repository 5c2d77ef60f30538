package dev.adengine.engine.budget;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;

/**
 * A grow-only table giving each value a small int index, so that {@link ReservationBook} entries
 * can name their campaign and budget day in 4 bytes each instead of holding Strings. Values are
 * never removed: campaigns are never dropped from {@link BudgetLedger}, and a node sees one budget
 * day per time zone per day, so the table holds one entry per campaign and a few per day of uptime.
 *
 * <p>Lookups by index read a volatile array without locking; an index handed out by
 * {@link #intern}/{@link #add} is only ever read after a happens-before edge (the reservation that
 * carries it was put under a segment lock after the index was made), so its slot is visible.
 */
final class InternTable<T> {
  private final ConcurrentHashMap<T, Integer> indices = new ConcurrentHashMap<>();
  private volatile Object[] values = new Object[16];
  private int count;

  /** The index of {@code value}, added if new. */
  int intern(T value) {
    Integer index = indices.get(value);
    if (index != null) {
      return index;
    }
    synchronized (this) {
      index = indices.get(value);
      if (index != null) {
        return index;
      }
      int i = append(value);
      indices.put(value, i);
      return i;
    }
  }

  /**
   * Adds a value built from its index, without a lookup entry (the caller keeps its own map, as
   * {@link BudgetLedger} does with its ledgers); returns the value.
   */
  synchronized T add(IntFunction<T> make) {
    T value = make.apply(count);
    append(value);
    return value;
  }

  @SuppressWarnings("unchecked")
  T get(int index) {
    return (T) values[index];
  }

  synchronized int size() {
    return count;
  }

  private int append(T value) {
    Object[] v = values;
    if (count == v.length) {
      v = Arrays.copyOf(v, count * 2);
    }
    v[count] = value;
    values = v;
    return count++;
  }
}
