package dev.adengine.engine.cli;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignSummary;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.ListCampaignsRequest;
import dev.adengine.api.v1.ListCampaignsResponse;
import dev.adengine.api.v1.NodeAllowance;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.PauseCampaignRequest;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.ResumeCampaignRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.api.v1.UpsertCampaignResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code adsctl campaign ...}: campaigns of the catalog. {@code list} reads the answering node's
 * catalog replica; the others ask the campaign's entity (the source of truth). Money is integer
 * micros: amounts in currency units are converted exactly (at most 6 decimals), never through a double.
 */
@Command(name = "campaign", mixinStandardHelpOptions = true,
    description = "Campaigns: list, show, create, pause, resume, budget.",
    subcommands = {CampaignCli.ListCampaigns.class, CampaignCli.Show.class, CampaignCli.Create.class,
        CampaignCli.Pause.class, CampaignCli.Resume.class, CampaignCli.Budget.class})
final class CampaignCli extends AdsCtl.Group {
  abstract static class Sub extends AdsCtl.Leaf {
    @ParentCommand
    CampaignCli parent;

    /** The view as JSON, or its one-line state. */
    int printState(CampaignView v) {
      if (output.json) {
        out().println(ProtoJson.of(v));
      } else {
        out().printf(Locale.ROOT, "campaign %s: %s, daily budget %s, revision %d%n", v.getCampaign().getCampaignId(),
            v.getStatus(), money(v.getCampaign().getDailyBudgetMicros()), v.getRevision());
      }
      return 0;
    }
  }

  /** Micros as currency units with their six decimals: 150250000 -> 150.250000. */
  static String money(long micros) {
    return BigDecimal.valueOf(micros, 6).toPlainString();
  }

  /**
   * An amount in currency units (up to 6 decimals: 150, 150.25, 0.000001) as exact integer micros;
   * a usage error names {@code option} for anything else (more decimals, not a number, not positive).
   */
  static long micros(CommandLine line, String option, String amount) {
    try {
      BigDecimal units = new BigDecimal(amount.trim());
      if (units.signum() <= 0) {
        throw new CommandLine.ParameterException(line, option + " must be positive, got " + amount);
      }
      return units.movePointRight(6).longValueExact();
    } catch (NumberFormatException e) {
      throw new CommandLine.ParameterException(line, option + ": not an amount (e.g. 150 or 150.25), got " + amount);
    } catch (ArithmeticException e) {
      throw new CommandLine.ParameterException(line, option + ": at most 6 decimals (micros), got " + amount);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists campaigns from the answering node's catalog replica (by id).")
  static final class ListCampaigns extends Sub {
    @Option(names = "--advertiser", paramLabel = "ID", description = "only this advertiser's campaigns")
    String advertiser;

    @Option(names = "--status", paramLabel = "STATUS", description = "ACTIVE or PAUSED (default: both)")
    CampaignStatus status;

    @Option(names = "--limit", defaultValue = "100", description = "at most this many (1..1000, default ${DEFAULT-VALUE})")
    int limit;

    @Override
    public Integer call() throws Exception {
      if (status == CampaignStatus.UNRECOGNIZED) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--status is ACTIVE or PAUSED");
      }
      ListCampaignsRequest.Builder req = ListCampaignsRequest.newBuilder().setLimit(limit);
      if (advertiser != null) {
        req.setAdvertiserId(advertiser);
      }
      if (status != null) {
        req.setStatus(status);
      }
      ListCampaignsResponse r = parent.root.call(a -> a.listCampaigns(req.build()));
      if (output.json) {
        out().println(ProtoJson.of(r));
        return 0;
      }
      if (r.getCampaignsCount() == 0) {
        out().println("no campaigns");
        return 0;
      }
      String row = "%-24s %-20s %-7s %-4s %14s %16s %4s%n";
      out().printf(Locale.ROOT, row, "CAMPAIGN", "ADVERTISER", "STATUS", "PAY", "BID", "DAILY BUDGET", "ADS");
      for (CampaignSummary c : r.getCampaignsList()) {
        out().printf(Locale.ROOT, row, c.getCampaignId(), c.getAdvertiserId(),
            c.getStatus() + (c.getAdvertiserPaused() ? "*" : ""), c.getPricing(), money(c.getBidMicros()),
            money(c.getDailyBudgetMicros()), c.getAds());
      }
      if (r.getMatched() > r.getCampaignsCount()) {
        out().printf(Locale.ROOT, "(%d of %d; raise --limit for more)%n", r.getCampaignsCount(), r.getMatched());
      }
      if (r.getCampaignsList().stream().anyMatch(CampaignSummary::getAdvertiserPaused)) {
        out().println("* the advertiser is paused: the campaign does not serve");
      }
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Shows a campaign with today's spend, reservations, remaining budget and each node's allowance.")
  static final class Show extends Sub {
    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() throws Exception {
      CampaignView v = parent.root.call(a -> a.getCampaign(GetCampaignRequest.newBuilder().setCampaignId(id).build()));
      if (output.json) {
        out().println(ProtoJson.of(v));
        return 0;
      }
      Campaign c = v.getCampaign();
      PrintWriter o = out();
      o.printf(Locale.ROOT, "campaign       %s (%s), revision %d%n", c.getCampaignId(), v.getStatus(), v.getRevision());
      o.printf(Locale.ROOT, "advertiser     %s%n", c.getAdvertiserId());
      o.printf(Locale.ROOT, "name           %s%n", c.getName().isEmpty() ? "-" : c.getName());
      o.printf(Locale.ROOT, "pricing        %s, bid %s, pacing %s%n", c.getPricing(), money(c.getBidMicros()),
          c.getPacing() == Pacing.PACING_UNSPECIFIED ? "EVEN" : c.getPacing());
      o.printf(Locale.ROOT, "ads            %d%n", c.getAdsCount());
      o.printf(Locale.ROOT, "budget day     %s%n", v.getBudgetDay());
      o.printf(Locale.ROOT, "daily budget   %s%n", money(c.getDailyBudgetMicros()));
      o.printf(Locale.ROOT, "spent          %s%n", money(v.getSpentMicros()));
      o.printf(Locale.ROOT, "reserved       %s%n", money(v.getReservedMicros()));
      o.printf(Locale.ROOT, "remaining      %s%n", money(v.getRemainingMicros()));
      o.printf(Locale.ROOT, "impressions    %d, clicks %d%n", v.getImpressions(), v.getClicks());
      if (v.getAllowancesCount() == 0) {
        o.println("allowances     none granted today");
        return 0;
      }
      String row = "  %-40s %16s %16s %16s%n";
      o.printf(Locale.ROOT, row, "NODE", "ALLOWANCE", "SPENT", "RESERVED");
      for (NodeAllowance n : v.getAllowancesList()) {
        o.printf(Locale.ROOT, row, n.getNode(), money(n.getAllowanceMicros()), money(n.getSpentMicros()),
            money(n.getReservedMicros()));
      }
      return 0;
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = {"Creates (or replaces) a campaign, from options or from --file, a JSON Campaign message",
          "(proto field names, e.g. {\"campaign_id\": \"c1\", \"advertiser_id\": \"a1\", \"pricing\": \"CPC\", ...})."})
  static final class Create extends Sub {
    @Parameters(paramLabel = "ID", arity = "0..1", description = "the campaign id (with options; --file has its own)")
    String id;

    @Option(names = "--file", paramLabel = "JSON", description = "the Campaign message as JSON (no other option)")
    Path file;

    @Option(names = "--advertiser", paramLabel = "ID") String advertiser;
    @Option(names = "--name") String name;
    @Option(names = "--pricing", paramLabel = "CPC|CPM") Pricing pricing;
    @Option(names = "--bid", paramLabel = "AMOUNT", description = "max CPC or CPM in currency units (6 decimals at most)")
    String bid;
    @Option(names = "--budget", paramLabel = "AMOUNT", description = "daily budget in currency units")
    String budget;
    @Option(names = "--pacing", paramLabel = "EVEN|ASAP") Pacing pacing;
    @Option(names = "--destination", split = ",", description = "targeted destinations (default: all)")
    List<String> destinations = List.of();
    @Option(names = "--ad", paramLabel = "AD_ID[:TITLE]", description = "an ad (repeat for several)")
    List<String> ads = List.of();

    @Override
    public Integer call() throws Exception {
      Campaign campaign = file != null ? fromFile() : fromOptions();
      UpsertCampaignResponse r = parent.root.call(a -> a.upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign).build()));
      if (output.json) {
        out().println(ProtoJson.of(r));
      } else {
        out().printf(Locale.ROOT, "campaign %s: saved, revision %d%n", r.getCampaign().getCampaignId(),
            r.getRevision());
      }
      return 0;
    }

    private Campaign fromFile() {
      if (id != null || advertiser != null || name != null || pricing != null || bid != null || budget != null
          || pacing != null || !destinations.isEmpty() || !ads.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--file or the campaign's options, not both");
      }
      try {
        return ProtoJson.parse(Files.readString(file), Campaign.newBuilder()).build();
      } catch (IOException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--file " + file + ": cannot read it ("
            + e.getClass().getSimpleName() + ")");
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--file " + file + ": " + e.getMessage());
      }
    }

    private Campaign fromOptions() {
      if (id == null || advertiser == null || pricing == null || bid == null || budget == null || ads.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "give ID, --advertiser, --pricing, --bid, --budget and at least one --ad (or --file)");
      }
      Campaign.Builder c = Campaign.newBuilder().setCampaignId(id).setAdvertiserId(advertiser)
          .setName(name == null ? "" : name).setPricing(pricing)
          .setBidMicros(micros(spec.commandLine(), "--bid", bid))
          .setDailyBudgetMicros(micros(spec.commandLine(), "--budget", budget))
          .addAllDestinations(destinations);
      if (pacing != null) {
        c.setPacing(pacing);
      }
      for (String ad : ads) {
        int colon = ad.indexOf(':');
        c.addAds(Ad.newBuilder().setAdId(colon < 0 ? ad : ad.substring(0, colon))
            .setTitle(colon < 0 ? "" : ad.substring(colon + 1)));
      }
      return c.build();
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pauses a campaign: it stops serving.")
  static final class Pause extends Sub {
    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() throws Exception {
      return printState(parent.root.call(a -> a.pauseCampaign(PauseCampaignRequest.newBuilder().setCampaignId(id)
          .build())));
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resumes a paused campaign.")
  static final class Resume extends Sub {
    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() throws Exception {
      return printState(parent.root.call(a -> a.resumeCampaign(ResumeCampaignRequest.newBuilder().setCampaignId(id)
          .build())));
    }
  }

  @Command(name = "budget", mixinStandardHelpOptions = true,
      description = {"Sets a campaign's daily budget: AMOUNT in currency units (150, 150.25; at most 6 decimals),",
          "or --micros N; converted to integer micros exactly. Today's spend is kept."})
  static final class Budget extends Sub {
    /** Read-modify-write attempts when another change to the campaign comes in between. */
    static final int BUDGET_ATTEMPTS = 3;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "AMOUNT", arity = "0..1")
    String amount;

    @Option(names = "--micros", paramLabel = "N", description = "the budget in micros instead of AMOUNT")
    Long micros;

    @Override
    public Integer call() throws Exception {
      if ((amount == null) == (micros == null)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "give AMOUNT or --micros, one of them");
      }
      if (micros != null && micros <= 0) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--micros must be positive, got " + micros);
      }
      long budget = micros != null ? micros : micros(spec.commandLine(), "AMOUNT", amount);
      // Read, change the budget, write back only if nobody changed the campaign in between (the
      // revision read is the one expected); on a conflict read again and reapply, a few times.
      CampaignView current;
      UpsertCampaignResponse r;
      for (int attempt = 1; ; attempt++) {
        CampaignView read = parent.root.call(a -> a.getCampaign(GetCampaignRequest.newBuilder().setCampaignId(id)
            .build()));
        current = read;
        Campaign changed = read.getCampaign().toBuilder().setDailyBudgetMicros(budget).build();
        try {
          r = parent.root.call(a -> a.upsertCampaign(UpsertCampaignRequest.newBuilder().setCampaign(changed)
              .setExpectedRevision(read.getRevision()).build()));
          break;
        } catch (Exception e) {
          if (attempt >= BUDGET_ATTEMPTS || !AdsCtl.describe(e).startsWith("ABORTED")) {
            throw e;
          }
        }
      }
      if (output.json) {
        out().println(ProtoJson.of(r));
      } else {
        out().printf(Locale.ROOT, "campaign %s: daily budget %s (was %s), revision %d%n", id, money(budget),
            money(current.getCampaign().getDailyBudgetMicros()), r.getRevision());
      }
      return 0;
    }
  }
}
