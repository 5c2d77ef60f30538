package dev.adengine.engine.auction;

import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import java.time.LocalDate;

/** A validated bid request, as the bid path uses it. */
public record BidQuery(String requestId, String userId, String destination, Device device, Placement placement,
    int slots, long floorMicros, int tmaxMs, String query, LocalDate checkin, int nights, boolean debug) {}
