package dev.adengine.engine.sim;

import java.time.Duration;
import java.time.LocalDate;
import java.util.Objects;

/**
 * Settings of one simulation run. Build with {@link #builder()}.
 *
 * @param rate intended bid requests per second (open loop)
 * @param duration how long to send; {@link Duration#ZERO} = until {@link TrafficSimulator#requestStop()}
 * @param setup create the market in the engine before sending traffic
 * @param maxInFlight bid calls outstanding at most; a send beyond it is refused and counted
 * @param callTimeout client-side deadline of each bid and event call
 * @param today the day the market's date targeting and the requests' check-in dates count from
 */
public record SimulatorOptions(
    String host,
    int port,
    double rate,
    Duration duration,
    long seed,
    int campaigns,
    boolean setup,
    Duration reportEvery,
    double debugShare,
    int tmaxMs,
    int users,
    int maxInFlight,
    int setupConcurrency,
    Duration callTimeout,
    LocalDate today,
    long trafficSeed,
    RequestGenerator.Mix mix) {

  public SimulatorOptions {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(reportEvery, "reportEvery");
    Objects.requireNonNull(callTimeout, "callTimeout");
    Objects.requireNonNull(today, "today");
    Objects.requireNonNull(mix, "mix");
    require(port > 0 && port < 65_536, "port in 1..65535: " + port);
    require(rate > 0, "rate > 0: " + rate);
    require(!duration.isNegative(), "duration >= 0: " + duration);
    require(campaigns >= 3, "campaigns >= 3: " + campaigns);
    require(reportEvery.toMillis() > 0, "reportEvery > 0: " + reportEvery);
    require(debugShare >= 0 && debugShare <= 1, "debugShare in [0,1]: " + debugShare);
    require(tmaxMs > 0, "tmaxMs > 0: " + tmaxMs);
    require(users >= 1, "users >= 1: " + users);
    require(maxInFlight >= 1, "maxInFlight >= 1: " + maxInFlight);
    require(setupConcurrency >= 1, "setupConcurrency >= 1: " + setupConcurrency);
    require(callTimeout.toMillis() > 0, "callTimeout > 0: " + callTimeout);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Defaults: 127.0.0.1:8080, 200 req/s until stopped, seed 1, 1,000 campaigns, setup on. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 8080;
    private double rate = 200;
    private Duration duration = Duration.ZERO;
    private long seed = 1L;
    private int campaigns = MarketGenerator.DEFAULT_CAMPAIGNS;
    private boolean setup = true;
    private Duration reportEvery = Duration.ofSeconds(5);
    private double debugShare = 0.0;
    private int tmaxMs = RequestGenerator.DEFAULT_TMAX_MS;
    private int users = RequestGenerator.DEFAULT_USERS;
    private int maxInFlight = 2_000;
    private int setupConcurrency = 16;
    private Duration callTimeout = Duration.ofSeconds(2);
    private LocalDate today = LocalDate.now();
    private Long trafficSeed;
    private RequestGenerator.Mix mix = RequestGenerator.Mix.DEFAULT;

    public Builder target(String host, int port) { this.host = host; this.port = port; return this; }
    public Builder rate(double rate) { this.rate = rate; return this; }
    public Builder duration(Duration duration) { this.duration = duration; return this; }
    public Builder seed(long seed) { this.seed = seed; return this; }
    public Builder campaigns(int campaigns) { this.campaigns = campaigns; return this; }
    public Builder setup(boolean setup) { this.setup = setup; return this; }
    public Builder reportEvery(Duration reportEvery) { this.reportEvery = reportEvery; return this; }
    public Builder debugShare(double debugShare) { this.debugShare = debugShare; return this; }
    public Builder tmaxMs(int tmaxMs) { this.tmaxMs = tmaxMs; return this; }
    public Builder users(int users) { this.users = users; return this; }
    public Builder maxInFlight(int maxInFlight) { this.maxInFlight = maxInFlight; return this; }
    public Builder setupConcurrency(int setupConcurrency) { this.setupConcurrency = setupConcurrency; return this; }
    public Builder callTimeout(Duration callTimeout) { this.callTimeout = callTimeout; return this; }
    public Builder today(LocalDate today) { this.today = today; return this; }
    /** The seed of requests and clicks alone (default: the seed), for another stream on the same market. */
    public Builder trafficSeed(long trafficSeed) { this.trafficSeed = trafficSeed; return this; }
    /** The device mix of the requests (default {@link RequestGenerator.Mix#DEFAULT}). */
    public Builder mix(RequestGenerator.Mix mix) { this.mix = mix; return this; }

    public SimulatorOptions build() {
      return new SimulatorOptions(host, port, rate, duration, seed, campaigns, setup, reportEvery,
          debugShare, tmaxMs, users, maxInFlight, setupConcurrency, callTimeout, today,
          trafficSeed == null ? seed : trafficSeed, mix);
    }
  }
}
