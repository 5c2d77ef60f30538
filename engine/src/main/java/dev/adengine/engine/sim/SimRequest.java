package dev.adengine.engine.sim;

import dev.adengine.api.v1.BidRequest;

/**
 * A generated bid request together with what the simulator needs to play the user's part.
 *
 * @param sequence 0-based position of the request in its generator's stream
 * @param userRank the user's 1-based activity rank (1 = most active); never sent or printed
 */
public record SimRequest(long sequence, BidRequest request, Destination destination, RequestContext context, int userRank) {}
