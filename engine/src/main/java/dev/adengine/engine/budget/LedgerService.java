package dev.adengine.engine.budget;

import dev.adengine.engine.CborSerializable;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * This node's ledger, reachable from other nodes: a click accepted on node B for an ad that node A
 * served converts A's reservation into spend, because A's allowance paid for the win. Registered
 * with the receptionist under the serving node's id. Conversion is idempotent (a reservation
 * converts once), so a retried message is harmless.
 */
public final class LedgerService {
  private LedgerService() {}

  public sealed interface Command extends CborSerializable {}

  public record ConvertClick(String requestId, String adId, String eventId, ActorRef<Converted> replyTo)
      implements Command {}

  public record Converted(BudgetLedger.Conversion outcome) implements CborSerializable {}

  public static ServiceKey<Command> key(String nodeId) {
    return ServiceKey.create(Command.class, "ledger-" + nodeId);
  }

  public static Behavior<Command> create(String nodeId, BudgetLedger ledger) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(key(nodeId), ctx.getSelf()));
      return Behaviors.receiveMessage(msg -> {
        if (msg instanceof ConvertClick c) {
          c.replyTo().tell(new Converted(ledger.convertClick(c.requestId(), c.adId(), c.eventId())));
        }
        return Behaviors.same();
      });
    });
  }

  /**
   * Asks the node that served an ad to convert its reservation for a click, retrying until that
   * node answers or {@code attempts} run out. Never blocks.
   */
  public static final class Router {
    private final ActorSystem<?> system;
    private final Duration timeout;
    private final int attempts;

    public Router(ActorSystem<?> system, Duration timeout, int attempts) {
      this.system = system;
      this.timeout = timeout;
      this.attempts = attempts;
    }

    public CompletionStage<BudgetLedger.Conversion> convert(String servingNode, String requestId, String adId,
        String eventId) {
      return attempt(servingNode, requestId, adId, eventId, 1);
    }

    private CompletionStage<BudgetLedger.Conversion> attempt(String node, String requestId, String adId,
        String eventId, int n) {
      CompletionStage<BudgetLedger.Conversion> once = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
              system.receptionist(), replyTo -> Receptionist.find(key(node), replyTo), timeout, system.scheduler())
          .thenCompose(listing -> {
            var refs = listing.getServiceInstances(key(node));
            if (refs.isEmpty()) {
              return CompletableFuture.failedFuture(new IllegalStateException("no ledger for node " + node));
            }
            return AskPattern.<Command, Converted>ask(refs.iterator().next(),
                replyTo -> new ConvertClick(requestId, adId, eventId, replyTo), timeout, system.scheduler())
                .thenApply(Converted::outcome);
          });
      return once.handle((ok, err) -> {
        if (err == null) {
          return CompletableFuture.completedFuture(ok);
        }
        if (n >= attempts) {
          return CompletableFuture.<BudgetLedger.Conversion>failedFuture(err);
        }
        CompletableFuture<BudgetLedger.Conversion> next = new CompletableFuture<>();
        system.scheduler().scheduleOnce(timeout, () -> attempt(node, requestId, adId, eventId, n + 1)
            .whenComplete((v, e) -> {
              if (e != null) {
                next.completeExceptionally(e);
              } else {
                next.complete(v);
              }
            }), system.executionContext());
        return next;
      }).thenCompose(x -> x);
    }
  }
}
