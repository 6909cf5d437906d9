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
  /** Across every transport and connection of one user on this gateway. */
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
 * What every transport (WebSocket, multipart HTTP, SSE) goes through to start a subscription:
 * limits per connection and per user, planning, the shared stream, and token expiry, which
 * ends the subscription with an UNAUTHENTICATED error.
 */
export function createSubscriptionGate(deps: { planner: () => SubscriptionPlanner; hub: () => SubscriptionHub; limits?: Partial<SubscriptionLimits> }) {
  const limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...deps.limits };
  const perUser = new Map<string, number>();

  return {
    limits,
    open(args: OpenSubscription): { iterator: AsyncIterableIterator<ExecutionResult> } | { errors: ReturnType<typeof createError>[] } {
      const { viewer } = args.context;
      if (args.connection && args.connection.active >= limits.maxSubscriptionsPerConnection) {
        return { errors: [createError('RATE_LIMITED', `At most ${limits.maxSubscriptionsPerConnection} subscriptions per connection.`)] };
      }
      const userKey = isSignedIn(viewer) ? viewer.userId : `anonymous:${args.context.client.ip ?? ''}`;
      const userActive = perUser.get(userKey) ?? 0;
      if (userActive >= limits.maxSubscriptionsPerUser) {
        return { errors: [createError('RATE_LIMITED', `At most ${limits.maxSubscriptionsPerUser} subscriptions per user.`)] };
      }
      let plan;
      try {
        plan = deps.planner().plan(args.document, args.operationName);
      } catch (error) {
        return { errors: [createError('BAD_USER_INPUT', (error as Error).message)] };
      }
      const { connection } = args;
      if (connection) connection.active += 1;
      perUser.set(userKey, userActive + 1);
      let expiry: NodeJS.Timeout | undefined;
      const subscriber = deps.hub().subscribe({
        plan,
        variables: args.variables,
        // What per-event entity fetches need, as plain data: not the transport's own state (a
        // socket, a trace context), nor a request deadline (a subscription outlives its request).
        context: { viewer, requestId: args.context.requestId, authorization: args.context.authorization, client: args.context.client },
        authorization: args.context.authorization,
        scope: isSignedIn(viewer) ? `${viewer.userId}|${[...viewer.roles].sort().join(',')}` : 'anonymous',
        sink: args.sink,
        // However the subscription ends (result error, completion, the client's return): free its
        // place under the limits. The subscriber calls this once.
        onEnd: () => {
          clearTimeout(expiry);
          if (connection) connection.active -= 1;
          const remaining = (perUser.get(userKey) ?? 1) - 1;
          if (remaining <= 0) perUser.delete(userKey);
          else perUser.set(userKey, remaining);
        },
      });
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
