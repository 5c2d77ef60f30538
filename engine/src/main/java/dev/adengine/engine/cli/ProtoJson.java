package dev.adengine.engine.cli;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;

/**
 * A proto message as JSON and back. Written with its proto field names, every field present: unset message fields
 * and unset {@code optional} scalars as {@code null}, 64-bit integers as numbers, non-finite
 * doubles as {@code null}. Enough for the CLI's {@code --json} (protobuf-java-util is not a
 * dependency). Read ({@link #parse}) by proto field name or its lowerCamel JSON name, enums by name,
 * 64-bit integers as numbers or strings; an unknown field or a wrong type is an error naming the field.
 */
final class ProtoJson {
  private ProtoJson() {}

  static String of(Message m) {
    StringBuilder sb = new StringBuilder();
    write(m, sb);
    return sb.toString();
  }

  /** Merges {@code json} (an object) into {@code into}; IllegalArgumentException names a bad field. */
  static <B extends Message.Builder> B parse(String json, B into) {
    com.fasterxml.jackson.databind.JsonNode root;
    try {
      root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
    }
    read(root, into, "");
    return into;
  }

  private static void read(com.fasterxml.jackson.databind.JsonNode node, Message.Builder b, String path) {
    if (!node.isObject()) {
      throw new IllegalArgumentException((path.isEmpty() ? "the file" : path) + ": expected an object");
    }
    var fields = node.fields();
    while (fields.hasNext()) {
      var e = fields.next();
      var d = b.getDescriptorForType();
      FieldDescriptor f = d.findFieldByName(e.getKey());
      if (f == null) {
        f = d.getFields().stream().filter(x -> x.getJsonName().equals(e.getKey())).findFirst().orElse(null);
      }
      String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      if (f == null) {
        throw new IllegalArgumentException(at + ": no such field in " + d.getName());
      }
      if (e.getValue().isNull()) {
        continue;
      }
      if (f.isRepeated()) {
        if (!e.getValue().isArray()) {
          throw new IllegalArgumentException(at + ": expected an array");
        }
        int i = 0;
        for (var item : e.getValue()) {
          b.addRepeatedField(f, scalar(item, f, b, at + "[" + i++ + "]"));
        }
      } else {
        b.setField(f, scalar(e.getValue(), f, b, at));
      }
    }
  }

  private static Object scalar(com.fasterxml.jackson.databind.JsonNode v, FieldDescriptor f, Message.Builder parent,
      String at) {
    try {
      return switch (f.getJavaType()) {
        case MESSAGE -> {
          Message.Builder child = parent.newBuilderForField(f);
          read(v, child, at);
          yield child.build();
        }
        case STRING -> {
          if (!v.isTextual()) {
            throw new IllegalArgumentException(at + ": expected a string");
          }
          yield v.asText();
        }
        case ENUM -> {
          EnumValueDescriptor ev = v.isInt() ? f.getEnumType().findValueByNumber(v.asInt())
              : f.getEnumType().findValueByName(v.asText());
          if (ev == null) {
            throw new IllegalArgumentException(at + ": unknown " + f.getEnumType().getName() + " " + v.asText());
          }
          yield ev;
        }
        case LONG -> {
          if (v.isIntegralNumber() && v.canConvertToLong()) {
            yield v.asLong();
          }
          if (v.isTextual()) {
            yield Long.parseLong(v.asText());
          }
          throw new IllegalArgumentException(at + ": expected an integer");
        }
        case INT -> {
          if (v.isIntegralNumber() && v.canConvertToInt()) {
            yield v.asInt();
          }
          throw new IllegalArgumentException(at + ": expected a 32-bit integer");
        }
        case DOUBLE -> {
          if (!v.isNumber()) {
            throw new IllegalArgumentException(at + ": expected a number");
          }
          yield v.asDouble();
        }
        case FLOAT -> {
          if (!v.isNumber()) {
            throw new IllegalArgumentException(at + ": expected a number");
          }
          yield (float) v.asDouble();
        }
        case BOOLEAN -> {
          if (!v.isBoolean()) {
            throw new IllegalArgumentException(at + ": expected true or false");
          }
          yield v.asBoolean();
        }
        default -> throw new IllegalArgumentException(at + ": unsupported field type " + f.getJavaType());
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(at + ": expected an integer, got " + v.asText());
    }
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
