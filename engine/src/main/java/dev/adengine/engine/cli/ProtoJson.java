package dev.adengine.engine.cli;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;

/**
 * A proto message as JSON with its proto field names, every field present: unset message fields
 * and unset {@code optional} scalars as {@code null}, 64-bit integers as numbers, non-finite
 * doubles as {@code null}. Enough for the CLI's {@code --json} (protobuf-java-util is not a
 * dependency).
 */
final class ProtoJson {
  private ProtoJson() {}

  static String of(Message m) {
    StringBuilder sb = new StringBuilder();
    write(m, sb);
    return sb.toString();
  }

  private static void write(Message m, StringBuilder sb) {
    sb.append('{');
    boolean first = true;
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      string(f.getName(), sb);
      sb.append(':');
      if (f.isRepeated()) {
        sb.append('[');
        List<?> values = (List<?>) m.getField(f);
        for (int i = 0; i < values.size(); i++) {
          if (i > 0) {
            sb.append(',');
          }
          value(f, values.get(i), sb);
        }
        sb.append(']');
      } else if (f.hasPresence() && !m.hasField(f)) {
        sb.append("null");
      } else {
        value(f, m.getField(f), sb);
      }
    }
    sb.append('}');
  }

  private static void value(FieldDescriptor f, Object v, StringBuilder sb) {
    switch (f.getJavaType()) {
      case MESSAGE -> write((Message) v, sb);
      case STRING -> string((String) v, sb);
      case ENUM -> string(((EnumValueDescriptor) v).getName(), sb);
      case DOUBLE, FLOAT -> {
        double d = ((Number) v).doubleValue();
        sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
      }
      default -> sb.append(v);
    }
  }

  private static void string(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
