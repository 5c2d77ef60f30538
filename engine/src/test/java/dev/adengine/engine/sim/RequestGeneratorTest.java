package dev.adengine.engine.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RequestGeneratorTest {

  private static final LocalDate TODAY = LocalDate.of(2025, 6, 1);
  private static final int N = 20_000;

  private static List<SimRequest> generate(long seed, int n) {
    RequestGenerator generator = new RequestGenerator(MarketGenerator.destinations(), seed, TODAY, "run1");
    List<SimRequest> result = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      result.add(generator.next());
    }
    return result;
  }

  @Test
  void shouldProduceSameStreamWhenSeedIsTheSame() {
    // when
    List<SimRequest> a = generate(5L, 1_000);
    List<SimRequest> b = generate(5L, 1_000);

    // then
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).request(), b.get(i).request());
    }
  }

  @Test
  void shouldStayWithinApiRangesWhenGenerating() {
    // given
    Pattern userId = Pattern.compile("u[0-9]{6}");
    Set<String> requestIds = new HashSet<>();
    Set<String> destinations = new HashSet<>();
    MarketGenerator.destinations().forEach(d -> destinations.add(d.id()));
    int withFloor = 0;

    // when
    List<SimRequest> requests = generate(11L, N);

    // then
    for (SimRequest r : requests) {
      BidRequest q = r.request();
      assertTrue(requestIds.add(q.getRequestId()), "duplicate request id " + q.getRequestId());
      assertTrue(q.getRequestId().length() <= 128);
      assertTrue(userId.matcher(q.getUserId()).matches(), q.getUserId());
      assertTrue(destinations.contains(q.getDestination()), q.getDestination());
      assertTrue(q.getSlots() >= 1 && q.getSlots() <= 5, "slots " + q.getSlots());
      assertTrue(q.getNights() >= 1 && q.getNights() <= 14, "nights " + q.getNights());
      long days = ChronoUnit.DAYS.between(TODAY, LocalDate.parse(q.getCheckin()));
      assertTrue(days >= 1 && days <= 120, "days ahead " + days);
      assertEquals(days, r.context().daysToCheckin());
      assertEquals(100, q.getTmaxMs());
      assertTrue(q.getQuery().isEmpty() || RequestGenerator.QUERIES.contains(q.getQuery()), q.getQuery());
      assertTrue(q.getFloorMicros() >= 0);
      assertTrue(!q.getDebug());
      if (q.getFloorMicros() > 0) {
        withFloor++;
      }
    }
    assertTrue(withFloor < N * 0.10, "requests with a floor " + withFloor);
  }

  @Test
  void shouldMatchDeviceAndPlacementSharesWhenGeneratingManyRequests() {
    // given
    Map<Device, Integer> devices = new EnumMap<>(Device.class);
    Map<Placement, Integer> placements = new EnumMap<>(Placement.class);
    Map<Integer, Integer> slots = new HashMap<>();

    // when
    for (SimRequest r : generate(12L, N)) {
      devices.merge(r.request().getDevice(), 1, Integer::sum);
      placements.merge(r.request().getPlacement(), 1, Integer::sum);
      slots.merge(r.request().getSlots(), 1, Integer::sum);
    }

    // then
    assertEquals(0.55, devices.get(Device.MOBILE) / (double) N, 0.02);
    assertEquals(0.40, devices.get(Device.DESKTOP) / (double) N, 0.02);
    assertEquals(0.05, devices.get(Device.TABLET) / (double) N, 0.01);
    assertTrue(placements.get(Placement.SEARCH_RESULTS) > N * 0.75);
    assertEquals(Collections.max(slots.entrySet(), Map.Entry.comparingByValue()).getKey(), 3);
  }

  @Test
  void shouldConcentrateTrafficOnFewUsersAndPopularDestinationsWhenGenerating() {
    // given
    Map<String, Integer> perUser = new HashMap<>();
    Map<String, Integer> perDestination = new HashMap<>();

    // when
    for (SimRequest r : generate(13L, N)) {
      perUser.merge(r.request().getUserId(), 1, Integer::sum);
      perDestination.merge(r.request().getDestination(), 1, Integer::sum);
    }

    // then: the busiest 10% of the users seen send a clearly disproportionate share
    List<Integer> counts = new ArrayList<>(perUser.values());
    counts.sort(Collections.reverseOrder());
    int top = Math.max(1, counts.size() / 10);
    long topSum = counts.subList(0, top).stream().mapToLong(Integer::longValue).sum();
    double topShare = topSum / (double) N;
    assertTrue(topShare > 0.40, "top 10% of users sent " + topShare);
    assertTrue(perDestination.get("paris") > 10 * perDestination.getOrDefault("krakow", 0), perDestination.toString());
  }

  @Test
  void shouldSetDebugOnRequestedShareWhenDebugShareIsGiven() {
    // given
    RequestGenerator generator = new RequestGenerator(MarketGenerator.destinations(), 3L, TODAY, "run2", 1_000, 80, 0.25);
    int debug = 0;

    // when
    for (int i = 0; i < N; i++) {
      BidRequest r = generator.next().request();
      assertEquals(80, r.getTmaxMs());
      if (r.getDebug()) {
        debug++;
      }
    }

    // then
    assertEquals(0.25, debug / (double) N, 0.02);
  }
}
