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
 * served claims A's reservation, because A's allowance paid for the win, and once B has stored the
 * click's charge it commits the claim, which turns the reservation into spend. Registered with the
 * receptionist under the serving node's id. Claims and commits are idempotent per click event, so
 * a retried message is harmless; a lost commit is made good by A itself, from the charge log, when
 * the reservation's click window has ended.
 */
public final class LedgerService {
  private LedgerService() {}

  public sealed interface Command extends CborSerializable {}

  /** Claims the reservation for click {@code eventId} (its money stays reserved until committed). */
  public record ConvertClick(String requestId, String adId, String eventId, ActorRef<Converted> replyTo)
      implements Command {}

  /** The click's charge is durable: its claimed reservation becomes spend. No reply. */
  public record CommitClick(String requestId, String adId, String eventId) implements Command {}

  public record Converted(BudgetLedger.Conversion outcome) implements CborSerializable {}

  public static ServiceKey<Command> key(String nodeId) {
    return ServiceKey.create(Command.class, "ledger-" + nodeId);
  }

  public static Behavior<Command> create(String nodeId, BudgetLedger ledger) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(key(nodeId), ctx.getSelf()));
      return Behaviors.receiveMessage(msg -> {
        if (msg instanceof ConvertClick c) {
          c.replyTo().tell(new Converted(ledger.claimClick(c.requestId(), c.adId(), c.eventId())));
        } else if (msg instanceof CommitClick c) {
          ledger.commitClick(c.requestId(), c.adId(), c.eventId());
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

    /**
     * Tells the serving node that the click's charge is durable, once, without waiting: if the
     * message is lost, the serving node finds the charge in the charge log when the claim expires.
     */
    public void commit(String servingNode, String requestId, String adId, String eventId) {
      AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
              system.receptionist(), replyTo -> Receptionist.find(key(servingNode), replyTo), timeout, system.scheduler())
          .thenAccept(listing -> listing.getServiceInstances(key(servingNode))
              .forEach(ref -> ref.tell(new CommitClick(requestId, adId, eventId))));
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
