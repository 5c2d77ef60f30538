package dev.adengine.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which configuration a node gets for its cluster profile and transport (the environment's other variables aside). */
class EngineConfigTest {

  @Test
  void shouldFormAOneNodeClusterOverTcpWhenNoProfileIsSet() {
    // when no profile and no transport are set
    Config c = EngineConfig.load(Map.of());

    // then the node is the single-node default on TCP
    assertEquals("tcp", c.getString("pekko.remote.artery.transport"));
    if (System.getenv("ADENGINE_SEED_NODES") == null) {
      assertEquals("", c.getString("adengine.seed-nodes"));
    }
  }

  @Test
  void shouldTakeThePortsAndSeedsOfLocalNodeTwoWhenItsProfileIsSet() {
    // when the profile of local node 2 is chosen
    Config c = EngineConfig.load(Map.of(EngineConfig.PROFILE_ENV, "local2"));

    // then it has node 2's ports and the two seeds, on TCP
    if (System.getenv("ADENGINE_REMOTE_PORT") == null) {
      assertEquals(25522, c.getInt("pekko.remote.artery.canonical.port"));
    }
    if (System.getenv("ADENGINE_GRPC_PORT") == null) {
      assertEquals(8082, c.getInt("adengine.grpc.port"));
    }
    if (System.getenv("ADENGINE_SEED_NODES") == null) {
      assertEquals("pekko://adengine@127.0.0.1:25521,pekko://adengine@127.0.0.1:25522",
          c.getString("adengine.seed-nodes"));
    }
    assertEquals("tcp", c.getString("pekko.remote.artery.transport"));
    assertEquals("10s", c.getString("pekko.cluster.sharding.handoff-timeout"));
  }

  @Test
  void shouldUseAeronWithAnEmbeddedDriverInTheNodesOwnDirectoryWhenTheTransportIsAeronUdp() {
    // when local node 3 is started on the Aeron transport
    Config c = EngineConfig.load(Map.of(EngineConfig.PROFILE_ENV, "local3", EngineConfig.TRANSPORT_ENV, "aeron-udp"));

    // then Artery runs over Aeron UDP with an embedded, mostly idle driver in a directory of its own
    assertEquals("aeron-udp", c.getString("pekko.remote.artery.transport"));
    assertEquals(true, c.getBoolean("pekko.remote.artery.advanced.aeron.embedded-media-driver"));
    assertEquals(true, c.getBoolean("pekko.remote.artery.advanced.aeron.delete-aeron-dir"));
    if (System.getenv("ADENGINE_AERON_IDLE_CPU_LEVEL") == null) {
      assertEquals(1, c.getInt("pekko.remote.artery.advanced.aeron.idle-cpu-level"));
    }
    if (System.getenv("ADENGINE_AERON_DIR") == null && System.getenv("ADENGINE_REMOTE_PORT") == null) {
      assertEquals("/dev/shm/adengine-aeron-25523", c.getString("pekko.remote.artery.advanced.aeron.aeron-dir"));
    }
  }

  @Test
  void shouldRefuseToStartWhenTheProfileOrTransportIsUnknown() {
    assertThrows(RuntimeException.class, () -> EngineConfig.load(Map.of(EngineConfig.PROFILE_ENV, "local9")));
    assertThrows(IllegalArgumentException.class,
        () -> EngineConfig.load(Map.of(EngineConfig.TRANSPORT_ENV, "udp")));
  }
}
