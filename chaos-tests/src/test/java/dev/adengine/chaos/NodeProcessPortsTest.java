package dev.adengine.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NodeProcessPortsTest {

  @Test
  void shouldHandOutDistinctBindablePortsBelowTheEphemeralRange() throws IOException {
    // given the kernel's ephemeral range, from which outgoing connections take their local ports
    int ephemeralLow = NodeProcess.ephemeralLow();
    // when a harness picks ports for several nodes
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 60; i++) {
      ports.add(NodeProcess.freePort());
    }
    // then no port is handed out twice, none lies in the ephemeral range, and each can be bound
    assertEquals(60, ports.size());
    for (int p : ports) {
      assertTrue(p < ephemeralLow && p >= 1024, p + " is outside 1024.." + (ephemeralLow - 1));
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", p));
      }
    }
  }
}
