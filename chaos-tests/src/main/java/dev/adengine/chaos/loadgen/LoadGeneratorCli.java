package dev.adengine.chaos.loadgen;

import dev.adengine.engine.sim.MarketSetup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The command line of {@link LoadGenerator} ({@code bin/loadgen}): options to {@link LoadOptions},
 * Ctrl-C stops sending and still prints the totals, {@code --json} keeps the {@link LoadResult}.
 */
@Command(name = "loadgen", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Open-loop load generator for AuctionService.Bid: sends the simulator's request mix at a fixed rate,"
            + " whatever the response times, and reports latency from each request's intended send time.",
        "Exit code 0 when the run completed (whatever its error count), 1 when the market setup failed."})
public final class LoadGeneratorCli implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = "--targets", split = ",", paramLabel = "HOST:PORT",
      defaultValue = "${env:ADENGINE_GRPC_HOST:-127.0.0.1}:${env:ADENGINE_GRPC_PORT:-8080}",
      description = "engine gRPC endpoints, comma-separated, used round-robin"
          + " (default: $ADENGINE_GRPC_HOST:$ADENGINE_GRPC_PORT, else ${DEFAULT-VALUE})")
  List<String> targets;

  @Option(names = "--rate", defaultValue = "500", description = "bid requests per second (default ${DEFAULT-VALUE})")
  double rate;

  @Option(names = "--duration", defaultValue = "30", paramLabel = "SECONDS",
      description = "measured seconds, after the warm-up (default ${DEFAULT-VALUE})")
  int duration;

  @Option(names = "--warmup", defaultValue = "5", paramLabel = "SECONDS",
      description = "seconds sent first and left out of the totals (default ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--max-in-flight", defaultValue = "10000",
      description = "requests outstanding at most; one due beyond it counts as error CLIENT_OVERLOAD (default ${DEFAULT-VALUE})")
  int maxInFlight;

  @Option(names = "--seed", defaultValue = "1", description = "market and request seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--setup-market", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "create the simulator's market through the first target before sending (default on;"
          + " --no-setup-market when it is already there)")
  boolean setupMarket;

  @Option(names = "--campaigns", defaultValue = "1000", description = "campaigns in the market (default ${DEFAULT-VALUE})")
  int campaigns;

  @Option(names = "--tmax-ms", defaultValue = "100",
      description = "tmax_ms of every request, also its deadline from the intended send time (default ${DEFAULT-VALUE})")
  int tmaxMs;

  @Option(names = "--users", defaultValue = "100000",
      description = "simulated user population, Zipf-skewed activity (default ${DEFAULT-VALUE})")
  int users;

  @Option(names = "--destinations", defaultValue = "0",
      description = "send to the N most popular destinations only; 0 = all (default ${DEFAULT-VALUE})")
  int destinations;

  @Option(names = "--load-test-budgets",
      description = "set the market up with every budget x1,000 and ASAP pacing, so no campaign runs dry during "
          + "the run whatever the time of day")
  boolean loadTestBudgets;

  @Option(names = "--ads", defaultValue = "0",
      description = "grow the market to N ads with room variants of its hotels; 0 = as generated, about 4,750 for"
          + " 1,000 campaigns (default ${DEFAULT-VALUE})")
  int ads;

  @Option(names = "--hedge-ms", defaultValue = "0", paramLabel = "MS",
      description = "also send a request to the next target when it has no answer this long after its intended"
          + " send time, keeping the first answer (0 = never; default ${DEFAULT-VALUE})")
  int hedgeMs;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the result (seconds, totals, histogram) as JSON")
  Path json;

  @Override
  public Integer call() throws Exception {
    LoadOptions options;
    try {
      List<LoadOptions.Target> parsed = new ArrayList<>();
      for (String t : targets) {
        parsed.add(LoadOptions.Target.parse(t.trim()));
      }
      options = LoadOptions.builder().targets(parsed).rate(rate).durationSeconds(duration).warmupSeconds(warmup)
          .maxInFlight(maxInFlight).seed(seed).setupMarket(setupMarket).campaigns(campaigns).tmaxMs(tmaxMs).hedgeMs(hedgeMs)
          .users(users).destinations(destinations).loadTestBudgets(loadTestBudgets).ads(ads).build();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    LoadGenerator generator = new LoadGenerator(options, System.out);
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      generator.requestStop();
      try {
        finished.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "loadgen-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      LoadResult result = generator.run();
      if (json != null) {
        writeJson(result);
      }
      return 0;
    } catch (MarketSetup.SetupException e) {
      System.err.println("[loadgen] setup failed: " + e.getMessage());
      return 1;
    } finally {
      finished.countDown();
    }
  }

  private void writeJson(LoadResult result) throws IOException {
    Path parent = json.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(json, result.toJson() + "\n", StandardCharsets.UTF_8);
    System.out.println("[loadgen] wrote " + json);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadGeneratorCli()).execute(args));
  }
}
