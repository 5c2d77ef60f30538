package dev.adengine.engine.grpc;

import dev.adengine.api.v1.ArmAuctionType;
import dev.adengine.api.v1.ArmParamsSpec;
import dev.adengine.api.v1.ArmReportView;
import dev.adengine.api.v1.ArmSpec;
import dev.adengine.api.v1.ArmView;
import dev.adengine.api.v1.ComparisonView;
import dev.adengine.api.v1.ExperimentConfigView;
import dev.adengine.api.v1.ExperimentReportView;
import dev.adengine.api.v1.ExperimentView;
import dev.adengine.api.v1.SampleRatioView;
import dev.adengine.experiments.ArmDef;
import dev.adengine.experiments.ArmParams;
import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.ExperimentDef;
import dev.adengine.experiments.Layer;
import dev.adengine.experiments.stats.ArmStats;
import dev.adengine.experiments.stats.ExperimentReport;
import dev.adengine.experiments.stats.SignificanceTests;
import java.util.ArrayList;
import java.util.List;

/** Experiment config and report: proto <-> domain, nothing else. */
final class ExperimentViews {
  private ExperimentViews() {}

  static List<ArmDef> arms(String experimentId, List<ArmSpec> specs) {
    List<ArmDef> arms = new ArrayList<>(specs.size());
    for (ArmSpec a : specs) {
      arms.add(ArmDef.of(a.getName(), a.getBasisPoints(), a.getControl(), params(experimentId, a)));
    }
    return arms;
  }

  private static ArmParams params(String experimentId, ArmSpec arm) {
    ArmParamsSpec p = arm.getParams();
    try {
      return new ArmParams(
          p.getModelVersion().isEmpty() ? null : p.getModelVersion(),
          switch (p.getAuctionType()) {
            case ARM_AUCTION_GSP -> ArmParams.AuctionType.GSP;
            case ARM_AUCTION_FIRST_PRICE -> ArmParams.AuctionType.FIRST_PRICE;
            default -> null;
          },
          p.hasReserveMicros() ? p.getReserveMicros() : null,
          p.hasQualityFactor() ? p.getQualityFactor() : null,
          p.hasTopK() ? p.getTopK() : null,
          p.getShadowModelVersion().isEmpty() ? null : p.getShadowModelVersion());
    } catch (dev.adengine.experiments.InvalidConfigException e) {
      // ArmParams names its field "params.x": say which experiment and arm
      throw new dev.adengine.experiments.InvalidConfigException(
          "experiments[" + experimentId + "].arms[" + arm.getName() + "]." + e.field(), e.getMessage()
              .substring(e.field().length() + 2));
    }
  }

  static ExperimentConfigView config(ExperimentConfig c, long nodeVersion) {
    ExperimentConfigView.Builder b = ExperimentConfigView.newBuilder()
        .setVersion(c.version())
        .setHoldoutBasisPoints(c.holdout().basisPoints())
        .setNodeVersion(nodeVersion);
    for (Layer l : c.layers()) {
      b.addLayers(l.id());
    }
    for (ExperimentDef e : c.experiments()) {
      ExperimentView.Builder v = ExperimentView.newBuilder().setExperimentId(e.id()).setLayerId(e.layerId())
          .setState(e.state().name()).setAllocationBasisPoints(e.allocationBasisPoints());
      for (ArmDef a : e.arms()) {
        v.addArms(ArmView.newBuilder().setName(a.name()).setBasisPoints(a.basisPoints()).setControl(a.control())
            .setParams(spec(a.params())));
      }
      b.addExperiments(v);
    }
    return b.build();
  }

  private static ArmParamsSpec spec(ArmParams p) {
    ArmParamsSpec.Builder b = ArmParamsSpec.newBuilder();
    if (p.modelVersion() != null) {
      b.setModelVersion(p.modelVersion());
    }
    if (p.auctionType() != null) {
      b.setAuctionType(p.auctionType() == ArmParams.AuctionType.GSP ? ArmAuctionType.ARM_AUCTION_GSP
          : ArmAuctionType.ARM_AUCTION_FIRST_PRICE);
    }
    if (p.reserveMicros() != null) {
      b.setReserveMicros(p.reserveMicros());
    }
    if (p.qualityFactor() != null) {
      b.setQualityFactor(p.qualityFactor());
    }
    if (p.topK() != null) {
      b.setTopK(p.topK());
    }
    if (p.shadowModelVersion() != null) {
      b.setShadowModelVersion(p.shadowModelVersion());
    }
    return b.build();
  }

  static ExperimentReportView report(ExperimentReport r) {
    ExperimentReportView.Builder b = ExperimentReportView.newBuilder()
        .setExperimentId(r.experimentId())
        .setControlArm(r.controlArm())
        .setConfidence(r.confidence())
        .setRendered(r.render());
    for (ExperimentReport.ArmReport a : r.arms()) {
      ArmStats s = a.stats();
      ArmReportView.Builder v = ArmReportView.newBuilder().setArm(a.arm()).setControl(a.control())
          .setConfiguredBasisPoints(a.configuredBasisPoints()).setRequests(s.requests())
          .setFilledRequests(s.filledRequests()).setImpressions(s.impressions()).setClicks(s.clicks())
          .setRevenueMicros(s.revenueMicros()).setSpendMicros(s.spendMicros())
          .setLatencyP99Micros(s.latencyP99Micros());
      if (a.ctr() != null) {
        v.setCtr(comparison(a.ctr()));
      }
      if (a.fillRate() != null) {
        v.setFillRate(comparison(a.fillRate()));
      }
      if (a.revenuePerRequest() != null) {
        SignificanceTests.MeanTest m = a.revenuePerRequest();
        v.setRevenuePerRequest(ComparisonView.newBuilder().setControlValue(m.controlMean())
            .setTreatmentValue(m.treatmentMean()).setDifference(m.difference()).setRelativeLift(m.relativeLift())
            .setCiLow(m.ciLow()).setCiHigh(m.ciHigh()).setPValue(m.pValue()).setSignificant(m.significant()));
      }
      b.addArms(v);
    }
    ExperimentReport.SampleRatio sr = r.sampleRatio();
    SampleRatioView.Builder s = SampleRatioView.newBuilder().setUnit(sr.unit())
        .setChiSquare(sr.chiSquare().statistic()).setPValue(sr.chiSquare().pValue()).setMismatch(sr.mismatch());
    for (long o : sr.observed()) {
      s.addObserved(o);
    }
    for (double e : sr.expected()) {
      s.addExpected(e);
    }
    return b.setSampleRatio(s).build();
  }

  private static ComparisonView comparison(SignificanceTests.ProportionTest t) {
    return ComparisonView.newBuilder().setControlValue(t.controlRate()).setTreatmentValue(t.treatmentRate())
        .setDifference(t.difference()).setRelativeLift(t.relativeLift()).setCiLow(t.ciLow()).setCiHigh(t.ciHigh())
        .setPValue(t.pValue()).setSignificant(t.significant()).build();
  }
}
