package dev.adengine.engine.slo;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** slo.conf as the engine reads it. */
class SloSettingsTest {
  @Test
  void shouldReadTheObjectivesWindowsAndAlertsWhenLoadedFromTheEnginesConfig() {
    SloSettings s = SloSettings.from(ConfigFactory.load());
    assertEquals(0.999, s.availabilityObjective());
    assertEquals(0.99, s.latencyObjective());
    assertEquals(Duration.ofMillis(100), s.latencyThreshold());
    assertEquals(List.of("5m", "30m", "1h", "6h", "3d"), s.windows().stream().map(SloSettings::label).toList());
    assertEquals(3, s.alerts().size());
    assertEquals(new SloSettings.Alert("page", 14.4, Duration.ofHours(1), Duration.ofMinutes(5)), s.alerts().get(0));
    assertEquals(Duration.ofDays(3), s.longestWindow());
  }

  @Test
  void shouldRefuseAnAlertWhoseWindowIsNotTrackedWhenConfigured() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SloSettings(0.999, 0.99,
        Duration.ofMillis(100), Duration.ofDays(30), List.of(Duration.ofMinutes(5)),
        List.of(new SloSettings.Alert("page", 14.4, Duration.ofHours(1), Duration.ofMinutes(5))),
        Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(10)));
    assertTrue(e.getMessage().startsWith("adengine.slo.alerts"), e.getMessage());
  }
}
