package dev.adengine.config;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression reads: its identifiers that are neither functions nor
 * keywords, outside label matchers, range brackets, grouping label lists, strings and comments,
 * plus the names that {@code {__name__="..."}} selects. Enough for the project's rules and
 * dashboards; not a PromQL parser (promtool checks the syntax).
 */
final class PromQlNames {

  private static final Set<String> KEYWORDS = Set.of(
      "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
      "and", "or", "unless", "offset", "atan2", "inf", "nan");
  /** Keywords followed by a parenthesised list of label names, not an expression. */
  private static final Set<String> LABEL_LIST_KEYWORDS = Set.of(
      "by", "without", "on", "ignoring", "group_left", "group_right");
  private static final Pattern NAME_MATCHER = Pattern.compile("__name__\\s*(=~|!=|!~|=)\\s*\"([^\"]*)\"");

  private PromQlNames() {}

  static Set<String> metricNames(String expr) {
    Set<String> names = new LinkedHashSet<>();
    int i = 0;
    int n = expr.length();
    while (i < n) {
      char c = expr.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(expr, i);
      } else if (c == '#') {
        while (i < n && expr.charAt(i) != '\n') i++;
      } else if (c == '{') {
        int end = skipBalanced(expr, i, '{', '}');
        Matcher m = NAME_MATCHER.matcher(expr.substring(i, end));
        while (m.find()) {
          if (!m.group(1).equals("=")) {
            throw new IllegalArgumentException("__name__" + m.group(1) + " selects names this check cannot list: " + expr);
          }
          names.add(m.group(2));
        }
        i = end;
      } else if (c == '[') {
        i = skipBalanced(expr, i, '[', ']');
      } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(expr.charAt(i + 1)))) {
        i = skipNumberOrDuration(expr, i);
      } else if (isIdentifierStart(c)) {
        int start = i;
        while (i < n && isIdentifierPart(expr.charAt(i))) i++;
        String word = expr.substring(start, i);
        int next = skipSpace(expr, i);
        boolean call = next < n && expr.charAt(next) == '(';
        // "sum by (le) (...)": an aggregation whose grouping comes first
        boolean groupedAggregation = wordAt(expr, next).matches("(?i)by|without");
        String lower = word.toLowerCase(Locale.ROOT);
        if (LABEL_LIST_KEYWORDS.contains(lower)) {
          if (call) i = skipBalanced(expr, next, '(', ')');
        } else if (!call && !groupedAggregation && !KEYWORDS.contains(lower)) {
          names.add(word);
        }
      } else {
        i++;
      }
    }
    return names;
  }

  private static boolean isIdentifierStart(char c) {
    return Character.isLetter(c) || c == '_' || c == ':';
  }

  private static boolean isIdentifierPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == ':';
  }

  private static String wordAt(String s, int i) {
    int end = i;
    while (end < s.length() && isIdentifierPart(s.charAt(end))) end++;
    return s.substring(i, end);
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    return i;
  }

  /** Index after the closing quote; backslash escapes in "..." and '...'. */
  private static int skipString(String s, int i) {
    char quote = s.charAt(i);
    i++;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '\\' && quote != '`') {
        i += 2;
      } else if (c == quote) {
        return i + 1;
      } else {
        i++;
      }
    }
    throw new IllegalArgumentException("unterminated string in " + s);
  }

  /** Index after the bracket closing the one at i; strings inside are skipped whole. */
  private static int skipBalanced(String s, int i, char open, char close) {
    int depth = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(s, i);
        continue;
      }
      if (c == open) depth++;
      if (c == close && --depth == 0) return i + 1;
      i++;
    }
    throw new IllegalArgumentException("unbalanced " + open + close + " in " + s);
  }

  /** Numbers (14.4, 1e-6, 0x1f) and durations (5m, 1h30m). */
  private static int skipNumberOrDuration(String s, int i) {
    while (i < s.length()) {
      char c = s.charAt(i);
      boolean exponentSign = (c == '-' || c == '+') && i > 0 && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')
          && !s.startsWith("0x", i - 2);
      if (Character.isLetterOrDigit(c) || c == '.' || c == '_' || exponentSign) {
        i++;
      } else {
        break;
      }
    }
    return i;
  }
}
