package dev.adengine.engine.bench;

import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.auction.Auction;
import dev.adengine.engine.auction.Candidate;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The auction alone ({@link Auction#run}): GSP or first price over the ranked top K of a request
 * (the bid path's default K is 64; 200 is every candidate of a typical request) for 5 slots, with a reserve under which about one candidate in
 * ten falls. Candidates are CPC (bid x pCTR) with pCTRs and bids drawn once per trial, in an
 * unsorted order as ranking hands them over: the cost is the ranking sort plus the price walk.
 * {@link #rounds} different candidate lists are cycled so the branch predictor does not learn one.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class AuctionBench {
  static final int ROUNDS = 64;

  @Param({"10", "64", "200"})
  int candidates;

  @Param({"GSP", "FIRST_PRICE"})
  Auction.Type type;

  List<List<Candidate>> rounds;
  int next;

  @Setup(Level.Trial)
  public void build() {
    SplittableRandom r = new SplittableRandom(17);
    rounds = new ArrayList<>(ROUNDS);
    long reserve = 200_000;
    for (int k = 0; k < ROUNDS; k++) {
      List<Candidate> list = new ArrayList<>(candidates);
      for (int c = 0; c < candidates; c++) {
        long bid = 100_000 + r.nextInt(2_400_000);
        double pctr = 0.002 + 0.05 * r.nextDouble();
        CampaignDef def = new CampaignDef("c" + k + "-" + c, "adv", "campaign", Pricing.CPC, bid, 1_000_000_000L,
            Set.of(), CampaignDef.ALL, CampaignDef.ALL, List.of(), Pacing.ASAP, null, null, ZoneOffset.UTC);
        AdDef ad = new AdDef("a" + k + "-" + c, "t", "h", 4, 8.5, 100_000_000L, "");
        list.add(new Candidate(def, ad, pctr, 1.0, bid * pctr, reserve));
      }
      rounds.add(List.copyOf(list));
    }
  }

  @Benchmark
  public Auction.Result run() {
    next = (next + 1) & (ROUNDS - 1);
    return Auction.run(rounds.get(next), 5, type, 1.0);
  }
}
