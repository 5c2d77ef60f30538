package dev.adengine.engine.sim;

import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A seeded stream of realistic hotel-search bid requests. Not thread-safe: one generator per
 * sending thread.
 *
 * <p>Mix: destinations by market popularity; users drawn from a population with Zipf-skewed
 * activity (exponent 1.0); devices 55% mobile, 40% desktop, 5% tablet; placements 80% search
 * results, 12% map, 8% hotel details; 1-5 slots (3 most often); check-in 1-120 days ahead (most
 * within a month), 1-14 nights (short stays most often); 40% of queries empty, the rest from a
 * small vocabulary; 5% of requests carry a floor of 0.05-0.30 units.
 */
public final class RequestGenerator {

  public static final int DEFAULT_USERS = 100_000;

  /**
   * The device mix of the traffic: shares of mobile, desktop and tablet requests (summing to 1).
   * {@link #DEFAULT} is the mix described above; drift tests shift it.
   */
  public record Mix(double mobile, double desktop, double tablet) {
    public static final Mix DEFAULT = new Mix(0.55, 0.40, 0.05);

    public Mix {
      if (mobile < 0 || desktop < 0 || tablet < 0 || Math.abs(mobile + desktop + tablet - 1) > 1e-9) {
        throw new IllegalArgumentException("device shares must be >= 0 and sum to 1: " + mobile + ", " + desktop
            + ", " + tablet);
      }
    }
  }

  public static final int DEFAULT_TMAX_MS = 100;

  static final List<String> QUERIES =
      List.of(
          "hotel", "cheap hotel", "luxury hotel", "5 star hotel", "budget", "hostel", "family hotel",
          "hotel with spa", "beach hotel", "city centre hotel", "boutique hotel", "hotel with pool",
          "business hotel", "romantic getaway", "luxury spa resort", "cheap family hotel");
  private static final double EMPTY_QUERY_SHARE = 0.40;
  /** Slots 1..5. */
  private static final WeightedSampler SLOTS = new WeightedSampler(new double[] {10, 15, 45, 15, 15});
  /** Nights 1..14. */
  private static final WeightedSampler NIGHTS =
      new WeightedSampler(new double[] {20, 25, 18, 10, 8, 5, 8, 1.2, 0.8, 1, 0.6, 0.5, 0.4, 1.5});

  private final List<Destination> destinations;
  private final WeightedSampler byPopularity;
  private final WeightedSampler users;
  private final SplittableRandom random;
  private final LocalDate today;
  private final String requestIdPrefix;
  private final int tmaxMs;
  private final double debugShare;
  private final Mix mix;
  private long sequence;

  /**
   * @param destinations the market's destinations
   * @param seed the seed; the same arguments give the same stream
   * @param today the day check-in dates are counted from
   * @param requestIdPrefix makes request ids unique across runs, e.g. the run's start time
   * @param userCount the size of the user population
   * @param tmaxMs the {@code tmax_ms} of every request
   * @param debugShare the fraction of requests with {@code debug = true}
   */
  public RequestGenerator(
      List<Destination> destinations,
      long seed,
      LocalDate today,
      String requestIdPrefix,
      int userCount,
      int tmaxMs,
      double debugShare) {
    this(destinations, seed, today, requestIdPrefix, userCount, tmaxMs, debugShare, Mix.DEFAULT);
  }

  /** As the other constructor, with the device mix {@code mix}. */
  public RequestGenerator(
      List<Destination> destinations,
      long seed,
      LocalDate today,
      String requestIdPrefix,
      int userCount,
      int tmaxMs,
      double debugShare,
      Mix mix) {
    if (destinations.isEmpty()) {
      throw new IllegalArgumentException("no destinations");
    }
    if (userCount < 1 || tmaxMs < 1 || debugShare < 0 || debugShare > 1) {
      throw new IllegalArgumentException(
          "userCount >= 1, tmaxMs >= 1 and debugShare in [0,1] required: " + userCount + ", " + tmaxMs + ", " + debugShare);
    }
    if (userCount > 1_000_000) {
      throw new IllegalArgumentException("at most 1,000,000 users (ids are u + 6 digits): " + userCount);
    }
    this.destinations = List.copyOf(destinations);
    this.byPopularity = new WeightedSampler(destinations.stream().mapToDouble(Destination::popularity).toArray());
    this.users = WeightedSampler.zipf(userCount, 1.0);
    this.random = new SplittableRandom(seed);
    this.today = Objects.requireNonNull(today, "today");
    this.requestIdPrefix = Objects.requireNonNull(requestIdPrefix, "requestIdPrefix");
    this.tmaxMs = tmaxMs;
    this.debugShare = debugShare;
    this.mix = Objects.requireNonNull(mix, "mix");
  }

  public RequestGenerator(List<Destination> destinations, long seed, LocalDate today, String requestIdPrefix) {
    this(destinations, seed, today, requestIdPrefix, DEFAULT_USERS, DEFAULT_TMAX_MS, 0.0);
  }

  /**
   * The user id of an activity rank: a bijection of 0..999,999 (7,919 is coprime with 10^6), so
   * ids look random but stay unique.
   */
  static String userId(int rank) {
    long id = ((long) rank * 7_919L + 104_729L) % 1_000_000L;
    return String.format(Locale.ROOT, "u%06d", id);
  }

  public SimRequest next() {
    long seq = sequence++;
    Destination destination = destinations.get(byPopularity.sample(random));
    int userRank = users.sample(random) + 1;
    Device device = device();
    Placement placement = placement();
    int slots = SLOTS.sample(random) + 1;
    int days = daysAhead();
    int nights = NIGHTS.sample(random) + 1;
    String query = random.nextDouble() < EMPTY_QUERY_SHARE ? "" : QUERIES.get(random.nextInt(QUERIES.size()));
    long floor = random.nextDouble() < 0.05 ? (5 + random.nextInt(26)) * 10_000L : 0L;
    boolean debug = debugShare > 0 && random.nextDouble() < debugShare;

    BidRequest request =
        BidRequest.newBuilder()
            .setRequestId(requestIdPrefix + "-" + Long.toString(seq, 36))
            .setUserId(userId(userRank))
            .setDestination(destination.id())
            .setDevice(device)
            .setPlacement(placement)
            .setSlots(slots)
            .setFloorMicros(floor)
            .setTmaxMs(tmaxMs)
            .setQuery(query)
            .setCheckin(today.plusDays(days).toString())
            .setNights(nights)
            .setDebug(debug)
            .build();
    RequestContext context = RequestContext.of(device, placement, query, days, nights);
    return new SimRequest(seq, request, destination, context, userRank);
  }

  private Device device() {
    double u = random.nextDouble();
    return u < mix.mobile() ? Device.MOBILE : u < mix.mobile() + mix.desktop() ? Device.DESKTOP : Device.TABLET;
  }

  private Placement placement() {
    double u = random.nextDouble();
    return u < 0.80 ? Placement.SEARCH_RESULTS : u < 0.92 ? Placement.MAP_VIEW : Placement.HOTEL_DETAILS;
  }

  /** 1..120 days: 70% exponential with mean 20 days (clamped), 30% uniform. */
  private int daysAhead() {
    if (random.nextDouble() < 0.70) {
      double d = 1 - 20 * Math.log(1 - random.nextDouble());
      return (int) Math.min(120, Math.floor(d));
    }
    return 1 + random.nextInt(120);
  }
}
