package dev.adengine.engine.ranking;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** models.md is written by two tools: each keeps the other's part (TrainModels.writeSection / section). */
class ReportSectionTest {
  @TempDir
  Path dir;

  @Test
  void shouldReplaceOnlyItsOwnSectionWhenTheReportAlreadyHasOthers() throws Exception {
    // given a report with a section before and after the lifecycle's
    Path file = dir.resolve("models.md");
    Files.writeString(file, "# Models\n\nintro\n\n## The ML lifecycle\n\nold figures\n\n## Later\n\nkept\n");

    // when the lifecycle section is written twice
    TrainModels.writeSection(file, TrainModels.LIFECYCLE_HEADING, "first");
    TrainModels.writeSection(file, TrainModels.LIFECYCLE_HEADING, "new figures\n| a | b |");

    // then only its body changed, and the section reads back alone
    String text = Files.readString(file);
    assertEquals("# Models\n\nintro\n\n## The ML lifecycle\n\nnew figures\n| a | b |\n\n## Later\n\nkept\n", text);
    assertEquals("## The ML lifecycle\n\nnew figures\n| a | b |\n\n", TrainModels.section(text,
        TrainModels.LIFECYCLE_HEADING));
  }

  @Test
  void shouldAppendTheSectionWhenTheReportHasNone() throws Exception {
    Path file = dir.resolve("models.md");
    Files.writeString(file, "# Models\n\nintro\n");
    TrainModels.writeSection(file, TrainModels.LIFECYCLE_HEADING, "figures");
    assertEquals("# Models\n\nintro\n\n## The ML lifecycle\n\nfigures\n", Files.readString(file));
    assertEquals("", TrainModels.section("# Models\n", TrainModels.LIFECYCLE_HEADING));
  }
}
