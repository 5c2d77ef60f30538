package dev.adengine.models.scoring;

import java.util.HashSet;
import java.util.Set;
import smile.data.DataFrame;
import smile.data.Tuple;
import smile.data.formula.Formula;
import smile.data.type.DataTypes;
import smile.data.type.StructField;
import smile.data.type.StructType;
import smile.data.vector.DoubleVector;
import smile.data.vector.IntVector;

/**
 * The one way the project turns {@code double[]} feature rows into Smile data, so training code,
 * tests and benchmarks build models and call them on the same columns.
 *
 * <p>A training frame holds one double column per feature name, in the given order, then the 0/1
 * label column {@value #LABEL}; {@link #formula()} ({@code y ~ .}) makes every other column a
 * predictor, in frame order. A row for Smile's own {@code predict} is a tuple over a
 * features-only schema: build the schema once with {@link #schema} and reuse it, because Smile's
 * {@code Formula} rebinds (re-resolving every column by name) whenever a tuple's schema is a
 * different object from the last one it saw.
 */
public final class SmileFrames {
  /** The label column's name. */
  public static final String LABEL = "y";

  /**
   * {@code y ~ .}: the label against every other column of the frame. A new instance per call,
   * because a Smile formula caches its binding to the last schema it saw.
   */
  public static Formula formula() {
    return Formula.lhs(LABEL);
  }

  /**
   * A frame with the columns of {@code x} named {@code names}, then {@code y} as column
   * {@value #LABEL}.
   *
   * @throws IllegalArgumentException if the sizes disagree or a name is repeated or is {@value #LABEL}
   */
  public static DataFrame of(double[][] x, int[] y, String[] names) {
    if (x.length == 0 || x.length != y.length) {
      throw new IllegalArgumentException("need as many labels as rows, at least one: " + x.length + " rows, "
          + y.length + " labels");
    }
    checkNames(names);
    DoubleVector[] columns = new DoubleVector[names.length];
    for (int j = 0; j < names.length; j++) {
      double[] column = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        if (x[i].length != names.length) {
          throw new IllegalArgumentException("row " + i + " has " + x[i].length + " values for " + names.length
              + " names");
        }
        column[i] = x[i][j];
      }
      columns[j] = DoubleVector.of(names[j], column);
    }
    return DataFrame.of(columns).merge(IntVector.of(LABEL, y));
  }

  /** The features-only schema rows of {@code names} use; build once, reuse for every {@link #row}. */
  public static StructType schema(String[] names) {
    checkNames(names);
    StructField[] fields = new StructField[names.length];
    for (int j = 0; j < names.length; j++) {
      fields[j] = new StructField(names[j], DataTypes.DoubleType);
    }
    return DataTypes.struct(fields);
  }

  /** {@code x} as a tuple of {@code schema} (no copy: the tuple reads the array). */
  public static Tuple row(double[] x, StructType schema) {
    if (x.length != schema.length()) {
      throw new IllegalArgumentException(x.length + " values for " + schema.length() + " columns");
    }
    return Tuple.of(x, schema);
  }

  private static void checkNames(String[] names) {
    Set<String> seen = new HashSet<>();
    for (String name : names) {
      if (name.equals(LABEL) || !seen.add(name)) {
        throw new IllegalArgumentException("feature names must be distinct and not \"" + LABEL + "\": " + name);
      }
    }
  }

  private SmileFrames() {}
}
