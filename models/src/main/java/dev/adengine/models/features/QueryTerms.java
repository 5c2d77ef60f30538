package dev.adengine.models.features;

import java.util.Locale;

/**
 * A small travel-intent vocabulary for the free-text query: each term is one bit. This is the
 * model's query understanding (a keyword classifier, as a first production ranker would have),
 * not the simulator's: the simulated users' hidden preferences live in the engine's simulator.
 */
public final class QueryTerms {
  public static final int LUXURY = 1;
  public static final int BUDGET = 1 << 1;
  public static final int HOSTEL = 1 << 2;
  public static final int FAMILY = 1 << 3;
  public static final int SPA = 1 << 4;
  public static final int BEACH = 1 << 5;

  private static final String[][] KEYWORDS = {
    {"luxury", "5 star", "five star", "5-star", "5*"},
    {"cheap", "budget", "hostel", "low cost", "affordable"},
    {"hostel", "dorm"},
    {"family", "kids", "children"},
    {"spa", "wellness"},
    {"beach", "seaside", "sea view"},
  };

  private QueryTerms() {}

  /** The bit set of terms the query mentions; 0 for a blank query. */
  public static int parse(String query) {
    if (query == null || query.isBlank()) {
      return 0;
    }
    String q = query.toLowerCase(Locale.ROOT);
    int bits = 0;
    for (int i = 0; i < KEYWORDS.length; i++) {
      for (String k : KEYWORDS[i]) {
        if (q.contains(k)) {
          bits |= 1 << i;
          break;
        }
      }
    }
    return bits;
  }
}
