package dev.adengine.engine.sim;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** What a free-text search query says about the hotel the user wants. */
public enum QueryIntent {
  /** "luxury", "5 star", "five star": favours high stars, weakens price aversion. */
  LUXURY,
  /** "cheap", "budget", "hostel": favours low prices and low stars. */
  BUDGET,
  /** "hostel": additionally favours 1-2 star places. */
  HOSTEL,
  /** "family": small bonus for 3-4 stars. */
  FAMILY,
  /** "spa": small bonus per star. */
  SPA,
  /** "beach": neutral (no hotel attribute of the market expresses it). */
  BEACH;

  public static Set<QueryIntent> parse(String query) {
    EnumSet<QueryIntent> intents = EnumSet.noneOf(QueryIntent.class);
    if (query == null || query.isBlank()) {
      return intents;
    }
    String q = query.toLowerCase(Locale.ROOT);
    if (q.contains("luxury") || q.contains("5 star") || q.contains("five star") || q.contains("5-star")) {
      intents.add(LUXURY);
    }
    if (q.contains("cheap") || q.contains("budget") || q.contains("hostel")) {
      intents.add(BUDGET);
    }
    if (q.contains("hostel")) {
      intents.add(HOSTEL);
    }
    if (q.contains("family")) {
      intents.add(FAMILY);
    }
    if (q.contains("spa")) {
      intents.add(SPA);
    }
    if (q.contains("beach")) {
      intents.add(BEACH);
    }
    return intents;
  }
}
