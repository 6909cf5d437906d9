import type { DocumentNode, ExecutionResult } from 'graphql';
import { createError } from '@meridian/errors';
import { isSignedIn, type SignedInViewer } from '@meridian/tokens';
import { otelContext, ROOT_CONTEXT } from '@meridian/observability';
import type { GatewayContext } from '../server';
import type { SubscriptionHub } from './hub';
import type { SubscriptionPlanner } from './planner';
import type { Subscriber, SubscriberSink } from './subscriber';

export interface SubscriptionLimits {
  /** Per WebSocket connection (HTTP streams are one subscription each). */
  maxSubscriptionsPerConnection: number;
  /** Across every transport and connection of one user on this gateway (all its workers). */
  maxSubscriptionsPerUser: number;
  /**
   * How often the tokens of live subscriptions are checked again (signature, claims and the
   * account's status): a subscription of an account that is locked or deleted meanwhile ends with
   * UNAUTHENTICATED within this, rather than at its token's expiry.
   */
  accountCheckIntervalMs: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  maxSubscriptionsPerConnection: 50,
  maxSubscriptionsPerUser: 200,
  accountCheckIntervalMs: 30_000,
};

/** What the periodic check needs of a signed-in subscription: the context the gate gave the hub. */
interface SignedInContext {
  viewer: SignedInViewer;
  authorization: string | undefined;
}

export interface OpenSubscription {
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  context: GatewayContext;
  /** The WebSocket connection's counter, when the transport has one. */
  connection?: { active: number };
  /** Results written straight to the client; the iterator then yields only a terminal error. */
  sink?: SubscriberSink;
}

/**
 * Counts shared with the gateway's other workers (`WorkerPeers` from service-kit): the per-user
 * limit then holds for the whole gateway, however a user's connections spread over its workers.
 */
export interface SharedCounters {
  acquire(key: string, limit: number): Promise<boolean>;
  release(key: string): void;
}

/** What an admission needs of its gate to give its place back. */
interface AdmissionLedger {
  perUser: Map<string, number>;
  shared: SharedCounters | undefined;
  untrack(subscriber: Subscriber, userId: string): void;
}

/**
 * One subscription's place under the limits, from its admission to its end. A class rather than
 * closures: a gateway holds one per client subscription (10,000s), ADR 0024.
 */
class Admission {
  private released = false;
  subscriber: Subscriber | undefined;
  /** The token-expiry timer of a signed-in subscription. */
  expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: AdmissionLedger,
    private readonly connection: { active: number } | undefined,
    private readonly userKey: string,
    private readonly userId: string | undefined,
  ) {}

  /** The key of the user's count shared with the other workers. */
  get sharedKey(): string {
    return `subscriptions:${this.userKey}`;
  }

  /** Gives the place back, once: the connection's and the user's counts (and the shared one when taken). */
  release(shared: boolean): void {
    if (this.released) return;
    this.released = true;
    if (this.connection) this.connection.active -= 1;
    const { perUser } = this.ledger;
    const remaining = (perUser.get(this.userKey) ?? 1) - 1;
    if (remaining <= 0) perUser.delete(this.userKey);
    else perUser.set(this.userKey, remaining);
    if (shared) this.ledger.shared?.release(this.sharedKey);
  }

  /** The hub's end listener: called once, however the subscription ends. */
  subscriberEnded(): void {
    clearTimeout(this.expiry);
    if (this.subscriber && this.userId !== undefined) this.ledger.untrack(this.subscriber, this.userId);
    this.release(true);
  }
}

function expire(subscriber: Subscriber): void {
  subscriber.fail(createError('UNAUTHENTICATED', 'Access token expired; reconnect with a fresh token and your last cursor.'));
}

type Opened = { iterator: AsyncIterableIterator<ExecutionResult> } | { errors: ReturnType<typeof createError>[] };

/**
 * What every transport (WebSocket, multipart HTTP, SSE) goes through to start a subscription:
 * limits per connection and per user, planning, the shared stream, and token expiry, which
 * ends the subscription with an UNAUTHENTICATED error.
 */
export function createSubscriptionGate(deps: {
  planner: () => SubscriptionPlanner;
  hub: () => SubscriptionHub;
  limits?: Partial<SubscriptionLimits>;
  shared?: SharedCounters;
  /**
   * Verifies an Authorization header again (the gateway's token verifier: it throws an
   * UNAUTHENTICATED error for a token no longer accepted, e.g. of a locked or deleted account).
   */
  verifyAuthorization?: (authorization: string | undefined) => Promise<unknown>;
}) {
  const limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...deps.limits };
  /** Live signed-in subscriptions by user (each with its context), for the periodic check of their accounts. */
  const live = new Map<string, Map<Subscriber, SignedInContext>>();
  let checkTimer: NodeJS.Timeout | undefined;
  let checking = false;

  /**
   * Checks one token per user (the one that lasts longest: the account's status is the same for
   * all of them), one user after the other, and ends every subscription of a user whose token is
   * refused. A check that fails for another reason (the auth service unreachable) ends nothing.
   */
  async function checkAccounts() {
    if (checking || !deps.verifyAuthorization) return;
    checking = true;
    try {
      for (const [userId, subscriptions] of [...live]) {
        let newest: SignedInContext | undefined;
        for (const context of subscriptions.values()) if (!newest || context.viewer.expiresAt > newest.viewer.expiresAt) newest = context;
        if (!newest) continue;
        let refused = false;
        try {
          await deps.verifyAuthorization(newest.authorization);
        } catch (error) {
          refused = (error as { extensions?: { code?: unknown } }).extensions?.code === 'UNAUTHENTICATED';
        }
        if (!refused) continue;
        const error = createError('UNAUTHENTICATED', 'Your access token is no longer accepted (the account is locked or deleted).');
        for (const subscriber of [...(live.get(userId)?.keys() ?? [])]) subscriber.fail(error);
      }
    } finally {
      checking = false;
    }
  }

  /** No closure per subscription: the check keys on the subscriber and keeps the hub's context. */
  function track(subscriber: Subscriber, context: SignedInContext): void {
    if (!deps.verifyAuthorization) return;
    let subscriptions = live.get(context.viewer.userId);
    if (!subscriptions) live.set(context.viewer.userId, (subscriptions = new Map()));
    subscriptions.set(subscriber, context);
    if (!checkTimer) {
      checkTimer = setInterval(() => void checkAccounts(), limits.accountCheckIntervalMs);
      checkTimer.unref();
    }
  }

  function untrack(subscriber: Subscriber, userId: string): void {
    const subscriptions = live.get(userId);
    if (!subscriptions?.delete(subscriber)) return;
    if (subscriptions.size === 0) live.delete(userId);
    if (live.size === 0 && checkTimer) {
      clearInterval(checkTimer);
      checkTimer = undefined;
    }
  }

  /** This process's subscriptions per user: the whole count without workers, a first check with them. */
  const perUser = new Map<string, number>();
  const ledger: AdmissionLedger = { perUser, shared: deps.shared, untrack };
  const tooManyForUser = () => ({ errors: [createError('RATE_LIMITED', `At most ${limits.maxSubscriptionsPerUser} subscriptions per user.`)] });

  return {
    limits,
    async open(args: OpenSubscription): Promise<Opened> {
      const { viewer } = args.context;
      const { connection } = args;
      if (connection && connection.active >= limits.maxSubscriptionsPerConnection) {
        return { errors: [createError('RATE_LIMITED', `At most ${limits.maxSubscriptionsPerConnection} subscriptions per connection.`)] };
      }
      const userKey = isSignedIn(viewer) ? viewer.userId : `anonymous:${args.context.client.ip ?? ''}`;
      if ((perUser.get(userKey) ?? 0) >= limits.maxSubscriptionsPerUser) return tooManyForUser();
      // Counted before anything is awaited, so that concurrent subscriptions cannot all pass.
      if (connection) connection.active += 1;
      perUser.set(userKey, (perUser.get(userKey) ?? 0) + 1);
      const admission = new Admission(ledger, connection, userKey, isSignedIn(viewer) ? viewer.userId : undefined);
      if (deps.shared && !(await deps.shared.acquire(admission.sharedKey, limits.maxSubscriptionsPerUser))) {
        admission.release(false);
        return tooManyForUser();
      }
      const planner = deps.planner();
      let plan;
      try {
        plan = planner.plan(args.document, args.operationName);
      } catch (error) {
        admission.release(true);
        return { errors: [createError('BAD_USER_INPUT', (error as Error).message)] };
      }
      // What per-event entity fetches need, as plain data: not the transport's own state (a
      // socket, a trace context), nor a request deadline (a subscription outlives its request).
      const context = { viewer, requestId: args.context.requestId, authorization: args.context.authorization, client: args.context.client };
      let subscriber: Subscriber;
      try {
        subscriber = deps.hub().subscribe({
          plan,
          variables: args.variables,
          context,
          authorization: args.context.authorization,
          // The viewer's roles and scopes when the subgraphs declare the events the same for all
          // such viewers (their cache hints), otherwise the viewer (viewerScope.ts, ADR 0023).
          scope: planner.scopeOf(plan, viewer),
          sink: args.sink,
          // However the subscription ends (result error, completion, the client's return): free its
          // place under the limits. The subscriber tells it once.
          endListener: admission,
        });
      } catch (error) {
        admission.release(true);
        throw error;
      }
      admission.subscriber = subscriber;
      if (isSignedIn(viewer) && !subscriber.ended) {
        track(subscriber, context as SignedInContext);
        // Set outside the operation's trace context: a timer keeps the context it was created in
        // (the set-up span, its baggage) for as long as it is pending, here the token's lifetime.
        const expiry = otelContext.with(ROOT_CONTEXT, () => setTimeout(expire, Math.max(0, viewer.expiresAt * 1000 - Date.now()), subscriber));
        expiry.unref();
        admission.expiry = expiry;
      }
      return { iterator: subscriber.iterator };
    },
  };
}

export type SubscriptionGate = ReturnType<typeof createSubscriptionGate>;
