package dev.adengine.engine.grpc;

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
      return new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription(msg));
    }
    if (e instanceof AskTimeoutException || e instanceof TimeoutException) {
      return new GrpcServiceException(Status.UNAVAILABLE.withDescription("timed out waiting for the owner of the data"));
    }
    return new GrpcServiceException(Status.INTERNAL.withDescription("internal error: " + e.getClass().getSimpleName()));
  }
}
