package dev.adengine.engine.grpc;

import dev.adengine.engine.campaign.CampaignEntity;
import dev.adengine.engine.experiment.ExperimentAdmin;
import dev.adengine.experiments.InvalidConfigException;
import io.grpc.Status;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.pattern.AskTimeoutException;
import org.apache.pekko.pattern.StatusReply;

/** The one place that maps failures to gRPC status codes. */
public final class GrpcErrors {
  private GrpcErrors() {}

  /**
   * The status code a call failed with {@code error} is answered with (OK for null): a {@link
   * GrpcServiceException}'s (what {@link #convertError} produces) or a grpc-java status
   * exception's, else what Pekko gRPC's default mapper answers (UNIMPLEMENTED for unsupported
   * operations, INTERNAL for anything else). Completion and execution wrappers are looked through.
   */
  public static Status.Code codeOf(Throwable error) {
    if (error == null) {
      return Status.Code.OK;
    }
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof GrpcServiceException g) {
      return g.status().getCode();
    }
    if (e instanceof io.grpc.StatusRuntimeException s) {
      return s.getStatus().getCode();
    }
    if (e instanceof io.grpc.StatusException s) {
      return s.getStatus().getCode();
    }
    if (e instanceof UnsupportedOperationException || e instanceof scala.NotImplementedError) {
      return Status.Code.UNIMPLEMENTED;
    }
    return Status.Code.INTERNAL;
  }

  /**
   * The answer of a node whose catalog replica has not been loaded from Cassandra yet (it is starting,
   * or Cassandra has not answered it since it started): UNAVAILABLE, so a client tries another node
   * or again later. Such a node would otherwise answer bids with an auction missing campaigns, and
   * reject valid events as naming an unknown ad.
   */
  public static GrpcServiceException catalogNotLoaded() {
    return new GrpcServiceException(Status.UNAVAILABLE.withDescription(
        "this node's catalog replica is not loaded yet (the node is starting); try another node or retry"));
  }

  public static GrpcServiceException convertError(Throwable t) {
    Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (e instanceof GrpcServiceException g) {
      return g;
    }
    if (e instanceof InvalidArgument ia) {
      return new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription(ia.getMessage()));
    }
    if (e instanceof ExperimentAdmin.UnknownExperimentException u) {
      return new GrpcServiceException(Status.NOT_FOUND.withDescription(u.getMessage()));
    }
    if (e instanceof java.util.NoSuchElementException nf) {
      return new GrpcServiceException(Status.NOT_FOUND.withDescription(nf.getMessage()));
    }
    if (e instanceof dev.adengine.engine.lifecycle.ModelAdmin.PipelineBusyException busy) {
      return new GrpcServiceException(Status.FAILED_PRECONDITION.withDescription(busy.getMessage()));
    }
    if (e instanceof InvalidConfigException ic) {
      // the message starts with the field's path, e.g. experiments[x].arms[t].basisPoints
      return new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription(ic.getMessage()));
    }
    if (e instanceof ExperimentAdmin.ConflictException ce) {
      return new GrpcServiceException(Status.ABORTED.withDescription(ce.getMessage()));
    }
    if (e instanceof StatusReply.ErrorMessage em) {
      String msg = em.getMessage();
      if (msg.startsWith("NOT_FOUND: ")) {
        return new GrpcServiceException(Status.NOT_FOUND.withDescription(msg.substring("NOT_FOUND: ".length())));
      }
      if (msg.startsWith(CampaignEntity.CONFLICT)) {
        return new GrpcServiceException(Status.ABORTED.withDescription(
            msg.substring(CampaignEntity.CONFLICT.length())));
      }
      return new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription(msg));
    }
    if (e instanceof AskTimeoutException || e instanceof TimeoutException) {
      return new GrpcServiceException(Status.UNAVAILABLE.withDescription("timed out waiting for the owner of the data"));
    }
    return new GrpcServiceException(Status.INTERNAL.withDescription("internal error: " + e.getClass().getSimpleName()));
  }
}
