package dev.adengine.chaos.harness;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.EventType;
import dev.adengine.chaos.harness.BillingTraffic.Outcome;
import dev.adengine.chaos.harness.BillingTraffic.Report;
import dev.adengine.chaos.harness.BillingTraffic.Sent;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The publisher's books ({@link BillingTraffic}) against what the engine stored: the {@code
 * events} table, the {@code charges} log and each campaign's spend. Each check returns the
 * violations it found (empty when it holds), at most ten listed with the count.
 *
 * <p>A run may cross midnight: the charge log is keyed by budget day, so charges are read for every
 * day from the day before the run began to the day after the audit (a campaign's zone may be ahead
 * of or behind UTC), and a campaign's spend, which its view gives for its current budget day only,
 * is compared with that day's charges.
 */
public final class BillingAudit {
  private final CqlSession cql;
  private final String keyspace;
  private final BillingTraffic traffic;
  private final LocalDate firstDay;

  /** A row of the {@code events} table. */
  public record StoredEvent(String eventId, String campaignId, String type, long chargedMicros) {}

  /** {@code firstDay}: the UTC day the run began. */
  public BillingAudit(CqlSession cql, String keyspace, BillingTraffic traffic, LocalDate firstDay) {
    this.cql = cql;
    this.keyspace = keyspace;
    this.traffic = traffic;
    this.firstDay = firstDay;
  }

  /** The budget days the run's charges may be booked on. */
  private List<String> days() {
    List<String> days = new ArrayList<>();
    LocalDate last = LocalDate.now(ZoneOffset.UTC).plusDays(1);
    for (LocalDate d = firstDay.minusDays(1); !d.isAfter(last); d = d.plusDays(1)) {
      days.add(d.toString());
    }
    return days;
  }

  /**
   * Exactly once: no event id acknowledged as accepted twice; every accepted event stored, as sent,
   * with a click charged at its winner's price; nothing stored that was never accepted (or whose
   * answer was lost); one click charge per stored click in the charge log, and no other charge.
   */
  public List<String> exactlyOnce(Map<String, CampaignView> views) {
    Map<String, StoredEvent> stored = storedEvents();
    List<String> wrong = new ArrayList<>();
    for (var e : traffic.reports.entrySet()) {
      long accepted = e.getValue().stream().filter(r -> r.outcome() == Outcome.ACCEPTED).count();
      if (accepted > 1) {
        wrong.add(e.getKey() + ": accepted " + accepted + " times");
      }
      if (accepted == 1) {
        Sent s = traffic.events.get(e.getKey());
        StoredEvent row = stored.get(e.getKey());
        long price = s.event().getType() == EventType.CLICK ? s.win().priceMicros() : 0;
        if (row == null) {
          wrong.add(e.getKey() + ": accepted but not stored");
        } else if (!row.campaignId().equals(s.win().campaignId()) || !row.type().equals(s.event().getType().name())
            || row.chargedMicros() != price) {
          wrong.add(e.getKey() + ": stored as " + row + ", sent for " + s.win() + " at " + price);
        }
      }
    }
    for (StoredEvent row : stored.values()) {
      Collection<Report> rs = traffic.reports.get(row.eventId());
      if (rs == null || rs.stream().noneMatch(r -> r.outcome() == Outcome.ACCEPTED || unknown(r))) {
        wrong.add(row.eventId() + ": stored but never accepted " + rs);
      }
    }
    Map<String, Integer> chargesPerClick = new HashMap<>();
    for (CampaignView v : views.values()) {
      for (Row r : cql.execute(SimpleStatement.newInstance("SELECT charge_id, amount_micros FROM " + keyspace
          + ".charges WHERE campaign_id = ? AND day IN ?", v.getCampaign().getCampaignId(), days())
          .setTimeout(Duration.ofSeconds(10)))) {
        String chargeId = r.getString("charge_id");
        String eventId = chargeId.startsWith("click:") ? chargeId.substring("click:".length()) : null;
        StoredEvent click = eventId == null ? null : stored.get(eventId);
        if (click == null || !click.type().equals("CLICK")) {
          wrong.add(chargeId + ": charged without a stored click");
        } else if (r.getLong("amount_micros") != click.chargedMicros()) {
          wrong.add(chargeId + ": charged " + r.getLong("amount_micros") + ", event " + click.chargedMicros());
        } else {
          chargesPerClick.merge(eventId, 1, Integer::sum);
        }
      }
    }
    for (StoredEvent row : stored.values()) {
      int n = chargesPerClick.getOrDefault(row.eventId(), 0);
      if (row.type().equals("CLICK") && n != 1) {
        wrong.add(row.eventId() + ": " + n + " click charges");
      }
    }
    return firstTen(wrong);
  }

  /**
   * No overspend and books equal to the charges: each campaign's spend plus reservations within
   * its budget, and its spend on its budget day equal to the charges booked on that day, which
   * {@link #exactlyOnce} matches one to one with the stored clicks (call once the nodes have
   * reported and a dead node's grant has been settled).
   */
  public List<String> booksEqualCharges(Map<String, CampaignView> views) {
    List<String> wrong = new ArrayList<>();
    for (CampaignView v : views.values()) {
      String id = v.getCampaign().getCampaignId();
      long charged = 0;
      for (Row r : cql.execute(SimpleStatement.newInstance("SELECT amount_micros FROM " + keyspace
          + ".charges WHERE campaign_id = ? AND day = ?", id, v.getBudgetDay()).setTimeout(Duration.ofSeconds(10)))) {
        charged += r.getLong("amount_micros");
      }
      if (v.getSpentMicros() != charged) {
        wrong.add(id + ": spent " + v.getSpentMicros() + " on " + v.getBudgetDay() + ", charged " + charged
            + perNode(v));
      }
      if (v.getReservedMicros() != 0) {
        wrong.add(id + ": still reserved " + v.getReservedMicros());
      }
    }
    return firstTen(wrong);
  }

  /**
   * Where a campaign's books and charges part, node by node: each node's booked spend (its last
   * report, or its settlement) against the charges booked against it in the charge log.
   */
  private String perNode(CampaignView v) {
    Map<String, Long> booked = new java.util.TreeMap<>();
    for (var a : v.getAllowancesList()) {
      booked.put(a.getNode(), a.getSpentMicros());
    }
    Map<String, Long> charges = new java.util.TreeMap<>();
    for (Row r : cql.execute(SimpleStatement.newInstance("SELECT node, amount_micros FROM " + keyspace
        + ".charges WHERE campaign_id = ? AND day = ?", v.getCampaign().getCampaignId(), v.getBudgetDay())
        .setTimeout(Duration.ofSeconds(10)))) {
      charges.merge(r.getString("node"), r.getLong("amount_micros"), Long::sum);
    }
    StringBuilder b = new StringBuilder(" (by node: booked/charged");
    java.util.Set<String> all = new java.util.TreeSet<>(booked.keySet());
    all.addAll(charges.keySet());
    for (String n : all) {
      long have = booked.getOrDefault(n, 0L);
      long due = charges.getOrDefault(n, 0L);
      b.append(' ').append(n).append('=').append(have).append('/').append(due).append(have == due ? "" : " <-");
    }
    return b.append(')').toString();
  }

  /** Spend plus reservations within budget, for any campaign (the load generator's market too). */
  public static List<String> withinBudget(Map<String, CampaignView> views, Map<String, Campaign> campaigns) {
    List<String> wrong = new ArrayList<>();
    for (CampaignView v : views.values()) {
      Campaign c = campaigns.get(v.getCampaign().getCampaignId());
      long budget = c != null ? c.getDailyBudgetMicros() : v.getCampaign().getDailyBudgetMicros();
      if (v.getSpentMicros() + v.getReservedMicros() > budget) {
        wrong.add(v.getCampaign().getCampaignId() + ": spent " + v.getSpentMicros() + " + reserved "
            + v.getReservedMicros() + " > budget " + budget);
      }
    }
    return firstTen(wrong);
  }

  private Map<String, StoredEvent> storedEvents() {
    Map<String, StoredEvent> rows = new HashMap<>();
    for (Row r : cql.execute(SimpleStatement.newInstance("SELECT event_id, campaign_id, type, charged_micros FROM "
        + keyspace + ".events").setPageSize(1000).setTimeout(Duration.ofSeconds(30)))) {
      rows.put(r.getString("event_id"), new StoredEvent(r.getString("event_id"), r.getString("campaign_id"),
          r.getString("type"), r.getLong("charged_micros")));
    }
    return rows;
  }

  /** An outcome the publisher cannot know: the event may have been stored. */
  static boolean unknown(Report r) {
    return r.outcome() == Outcome.FAILED
        || r.outcome() == Outcome.REJECTED && r.reason() != null && r.reason().startsWith("temporarily");
  }

  private static List<String> firstTen(List<String> all) {
    if (all.size() <= 10) {
      return all;
    }
    List<String> some = new ArrayList<>(all.subList(0, 10));
    some.add("... " + (all.size() - 10) + " more");
    return some;
  }
}
