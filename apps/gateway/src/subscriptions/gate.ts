import type { DocumentNode, ExecutionResult } from 'graphql';
import { createError } from '@meridian/errors';
import { isSignedIn } from '@meridian/tokens';
import type { GatewayContext } from '../server';
import type { SubscriptionHub } from './hub';
import type { SubscriptionPlanner } from './planner';
import type { SubscriberSink } from './subscriber';

export interface SubscriptionLimits {
  /** Per WebSocket connection (HTTP streams are one subscription each). */
  maxSubscriptionsPerConnection: number;
  /** Across every transport and connection of one user on this gateway (all its workers). */
  maxSubscriptionsPerUser: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  maxSubscriptionsPerConnection: 50,
  maxSubscriptionsPerUser: 200,
};

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
}) {
  const limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...deps.limits };
  /** This process's subscriptions per user: the whole count without workers, a first check with them. */
  const perUser = new Map<string, number>();
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
      const sharedKey = `subscriptions:${userKey}`;
      let released = false;
      const release = (shared: boolean) => {
        if (released) return;
        released = true;
        if (connection) connection.active -= 1;
        const remaining = (perUser.get(userKey) ?? 1) - 1;
        if (remaining <= 0) perUser.delete(userKey);
        else perUser.set(userKey, remaining);
        if (shared) deps.shared?.release(sharedKey);
      };
      if (deps.shared && !(await deps.shared.acquire(sharedKey, limits.maxSubscriptionsPerUser))) {
        release(false);
        return tooManyForUser();
      }
      const planner = deps.planner();
      let plan;
      try {
        plan = planner.plan(args.document, args.operationName);
      } catch (error) {
        release(true);
        return { errors: [createError('BAD_USER_INPUT', (error as Error).message)] };
      }
      let expiry: NodeJS.Timeout | undefined;
      let subscriber;
      try {
        subscriber = deps.hub().subscribe({
          plan,
          variables: args.variables,
          // What per-event entity fetches need, as plain data: not the transport's own state (a
          // socket, a trace context), nor a request deadline (a subscription outlives its request).
          context: { viewer, requestId: args.context.requestId, authorization: args.context.authorization, client: args.context.client },
          authorization: args.context.authorization,
          // The viewer's roles and scopes when the subgraphs declare the events the same for all
          // such viewers (their cache hints), otherwise the viewer (viewerScope.ts, ADR 0023).
          scope: planner.scopeOf(plan, viewer),
          sink: args.sink,
          // However the subscription ends (result error, completion, the client's return): free its
          // place under the limits. The subscriber calls this once.
          onEnd: () => {
            clearTimeout(expiry);
            release(true);
          },
        });
      } catch (error) {
        release(true);
        throw error;
      }
      if (isSignedIn(viewer)) {
        expiry = setTimeout(
          () => subscriber.fail(createError('UNAUTHENTICATED', 'Access token expired; reconnect with a fresh token and your last cursor.')),
          Math.max(0, viewer.expiresAt * 1000 - Date.now()),
        );
        expiry.unref();
      }
      return { iterator: subscriber.iterator };
    },
  };
}

export type SubscriptionGate = ReturnType<typeof createSubscriptionGate>;
