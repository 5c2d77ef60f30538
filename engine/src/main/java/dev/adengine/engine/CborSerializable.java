package dev.adengine.engine;

/** Marker for messages and events serialized with Jackson CBOR (see serialization.conf). */
public interface CborSerializable {}
