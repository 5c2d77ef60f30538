package dev.adengine.chaos.loadgen;

import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.engine.sim.RequestGenerator;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings of one load-generator run. Build with {@link #builder()}.
 *
 * <p>The run lasts {@code warmupSeconds + durationSeconds}: requests of the warm-up seconds are sent
 * and reported per second like the others but left out of the totals. Whole seconds, so that every
 * per-second row is either warm-up or measured.
 *
 * @param targets engine gRPC endpoints; requests go round-robin, an UNAVAILABLE answer is retried on
 *     the next one
 * @param rate intended bid requests per second (open loop: the schedule does not wait for answers)
 * @param durationSeconds measured seconds, after the warm-up
 * @param warmupSeconds seconds sent first and excluded from the totals
 * @param maxInFlight requests outstanding at most; a request scheduled beyond it is not sent and
 *     counts as a {@code CLIENT_OVERLOAD} error
 * @param seed seeds the market and the request stream
 * @param campaigns campaigns in the simulator's market
 * @param setupMarket create the market in the engine (through the first target) before sending
 * @param tmaxMs every request's {@code tmax_ms}; a request's deadline is its intended send time plus
 *     this, and each gRPC attempt carries what is left of it
 * @param users simulated user population (Zipf-skewed activity)
 * @param destinations send to the N most popular destinations only; 0 = all of the market's
 * @param today the day the market's date targeting and the requests' check-in dates count from
 * @param loadTestBudgets set the market up with every budget multiplied by 1,000 and ASAP pacing
 *     ({@code Market.forLoadTest}): no campaign runs dry during a run, whatever the time of day
 * @param ads grow the market to this many ads with room variants of its hotels
 *     ({@code Market.withAds}); 0 = the generated market's own (about 4,750 for 1,000 campaigns)
 * @param hedgeMs when a request has no answer this long after its intended send time, send it
 *     again to the next target as well (a hedged request, as gRPC's hedging policy does) and keep
 *     the first answer; 0 = never hedge. Only within the request's deadline, and only with two
 *     targets or more
 */
public record LoadOptions(
    List<Target> targets,
    double rate,
    int durationSeconds,
    int warmupSeconds,
    int maxInFlight,
    long seed,
    int campaigns,
    boolean setupMarket,
    int tmaxMs,
    int users,
    int destinations,
    LocalDate today,
    boolean loadTestBudgets,
    int ads,
    int hedgeMs) {

  /** One engine gRPC endpoint. */
  public record Target(String host, int port) {
    public Target {
      Objects.requireNonNull(host, "host");
      require(!host.isBlank(), "empty host");
      require(port > 0 && port < 65_536, "port in 1..65535: " + port);
    }

    /** Parses {@code host:port}. */
    public static Target parse(String hostPort) {
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new IllegalArgumentException("target must be host:port, got " + hostPort);
      }
      try {
        return new Target(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("target must be host:port, got " + hostPort, e);
      }
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  public LoadOptions {
    targets = List.copyOf(targets);
    Objects.requireNonNull(today, "today");
    require(!targets.isEmpty(), "at least one target");
    require(rate > 0 && rate <= 1_000_000, "rate in (0, 1,000,000]: " + rate);
    require(durationSeconds >= 1, "durationSeconds >= 1: " + durationSeconds);
    require(warmupSeconds >= 0, "warmupSeconds >= 0: " + warmupSeconds);
    require(maxInFlight >= 1, "maxInFlight >= 1: " + maxInFlight);
    require(campaigns >= 3, "campaigns >= 3: " + campaigns);
    require(tmaxMs >= 1, "tmaxMs >= 1: " + tmaxMs);
    require(users >= 1 && users <= 1_000_000, "users in 1..1,000,000: " + users);
    require(destinations >= 0, "destinations >= 0 (0 = all): " + destinations);
    require(ads >= 0, "ads >= 0 (0 = the generated market's): " + ads);
    require(hedgeMs >= 0 && hedgeMs < tmaxMs, "hedgeMs in [0, tmaxMs) (0 = never): " + hedgeMs);
  }

  /** Warm-up plus measured seconds. */
  public int totalSeconds() {
    return warmupSeconds + durationSeconds;
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Defaults: 127.0.0.1:8080, 500 requests/s for 30 s after 5 s of warm-up, at most 10,000 in
   * flight, seed 1, a market of 1,000 campaigns created first, tmax 100 ms, 100,000 users, every
   * destination, today in UTC, no hedging.
   */
  public static final class Builder {
    private final List<Target> targets = new ArrayList<>();
    private double rate = 500;
    private int durationSeconds = 30;
    private int warmupSeconds = 5;
    private int maxInFlight = 10_000;
    private long seed = 1L;
    private boolean loadTestBudgets;
    private int campaigns = MarketGenerator.DEFAULT_CAMPAIGNS;
    private boolean setupMarket = true;
    private int tmaxMs = RequestGenerator.DEFAULT_TMAX_MS;
    private int users = RequestGenerator.DEFAULT_USERS;
    private int destinations = 0;
    private int ads = 0;
    private int hedgeMs = 0;
    private LocalDate today = LocalDate.now(ZoneOffset.UTC);

    /** Adds a target; with none added, 127.0.0.1:8080. */
    public Builder target(String host, int port) {
      targets.add(new Target(host, port));
      return this;
    }

    public Builder targets(List<Target> all) {
      targets.addAll(all);
      return this;
    }

    public Builder rate(double v) {
      rate = v;
      return this;
    }

    public Builder durationSeconds(int v) {
      durationSeconds = v;
      return this;
    }

    public Builder warmupSeconds(int v) {
      warmupSeconds = v;
      return this;
    }

    public Builder maxInFlight(int v) {
      maxInFlight = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder campaigns(int v) {
      campaigns = v;
      return this;
    }

    public Builder setupMarket(boolean v) {
      setupMarket = v;
      return this;
    }

    public Builder tmaxMs(int v) {
      tmaxMs = v;
      return this;
    }

    public Builder users(int v) {
      users = v;
      return this;
    }

    public Builder destinations(int v) {
      destinations = v;
      return this;
    }

    public Builder today(LocalDate v) {
      today = v;
      return this;
    }

    public Builder loadTestBudgets(boolean v) {
      loadTestBudgets = v;
      return this;
    }

    public Builder ads(int v) {
      ads = v;
      return this;
    }

    public Builder hedgeMs(int v) {
      hedgeMs = v;
      return this;
    }

    public LoadOptions build() {
      List<Target> t = targets.isEmpty() ? List.of(new Target("127.0.0.1", 8080)) : targets;
      return new LoadOptions(t, rate, durationSeconds, warmupSeconds, maxInFlight, seed, campaigns, setupMarket,
          tmaxMs, users, destinations, today, loadTestBudgets, ads, hedgeMs);
    }
  }
}
