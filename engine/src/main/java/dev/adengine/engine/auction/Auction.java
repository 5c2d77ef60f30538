package dev.adengine.engine.auction;

import dev.adengine.api.v1.Pricing;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Generalized second-price auction with reserves, and first price as an alternative.
 *
 * <p>Candidates are ranked by score (ties: campaign id, then ad id, ascending: deterministic). At
 * most one ad per campaign takes a slot: a campaign's best-ranked ad. Under GSP the winner in
 * slot i pays the least bid that keeps its rank above the next candidate, i.e. the bid at which its
 * score equals the next score, rounded up to a whole micro and clamped to {@code [reserve, bid]};
 * the last winner with nobody below pays its reserve. Under first price every winner pays its bid.
 * Pure and allocation-light; no I/O.
 */
public final class Auction {
  public enum Type {
    GSP,
    FIRST_PRICE
  }

  public record Win(int position, Candidate candidate, long priceMicros) {}

  /** Winners in slot order; candidates ranked below the last slot; candidates whose bid is under their reserve. */
  public record Result(List<Win> winners, List<Candidate> outbid, List<Candidate> belowReserve) {}

  public static final Comparator<Candidate> RANK = Comparator.comparingDouble(Candidate::score).reversed()
      .thenComparing(c -> c.campaign().campaignId())
      .thenComparing(c -> c.ad().adId());

  private Auction() {}

  /** Runs the auction; {@code candidates} may be in any order and is not modified. */
  public static Result run(List<Candidate> candidates, int slots, Type type, double alpha) {
    List<Candidate> ranked = new ArrayList<>(candidates.size());
    List<Candidate> belowReserve = new ArrayList<>();
    for (Candidate c : candidates) {
      // A bid under its reserve can never pay the reserve without paying above the bid: it does not enter.
      (c.campaign().bidMicros() < c.reserveMicros() ? belowReserve : ranked).add(c);
    }
    ranked.sort(RANK);
    List<Candidate> distinct = new ArrayList<>(ranked.size());
    List<Candidate> outbid = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Candidate c : ranked) {
      if (seen.add(c.campaign().campaignId())) {
        distinct.add(c);
      }
    }
    List<Win> winners = new ArrayList<>(Math.min(slots, distinct.size()));
    for (int i = 0; i < distinct.size(); i++) {
      Candidate c = distinct.get(i);
      if (i >= slots) {
        outbid.add(c);
        continue;
      }
      long price;
      if (type == Type.FIRST_PRICE) {
        price = c.campaign().bidMicros();
      } else {
        Candidate next = i + 1 < distinct.size() ? distinct.get(i + 1) : null;
        price = next == null ? c.reserveMicros() : priceToBeat(c, next.score(), alpha);
      }
      price = Math.max(c.reserveMicros(), Math.min(c.campaign().bidMicros(), price));
      winners.add(new Win(i + 1, c, price));
    }
    return new Result(winners, outbid, belowReserve);
  }

  /** The least bid (whole micros, rounded up) at which {@code c}'s score reaches {@code nextScore}. */
  static long priceToBeat(Candidate c, double nextScore, double alpha) {
    double perBidMicro;
    if (c.campaign().pricing() == Pricing.CPM) {
      perBidMicro = c.quality() / 1000.0;
    } else {
      perBidMicro = Math.pow(c.pctr(), alpha) * c.quality();
    }
    if (perBidMicro <= 0) {
      return c.campaign().bidMicros();
    }
    // Subtract a hair before ceil so that floating-point noise on an exact value does not add a micro.
    return (long) Math.ceil(nextScore / perBidMicro - 1e-9);
  }

  /** Rank score of a bid: expected micros per impression. */
  public static double score(Pricing pricing, long bidMicros, double pctr, double quality, double alpha) {
    if (pricing == Pricing.CPM) {
      return bidMicros / 1000.0 * quality;
    }
    return bidMicros * Math.pow(pctr, alpha) * quality;
  }
}
