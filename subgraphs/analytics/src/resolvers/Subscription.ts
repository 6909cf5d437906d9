import { streamEvents } from '@meridian/service-kit';
import type { SubscriptionResolvers, SubscriptionStatsUpdatedArgs } from '../generated/resolvers-types';
import { resolveStatsRange } from '../domain/statsRange';
import type { Context } from '../context';

export const Subscription: SubscriptionResolvers = {
  statsUpdated: {
    subscribe: (_parent, args, { bus }) => {
      // Validates the range now, so a bad one fails the subscription rather than every event.
      resolveStatsRange(args, new Date(), 'LAST_7_DAYS');
      return streamEvents(bus, { types: ['analytics.stats-updated'], filter: () => true });
    },
    resolve: (_event: unknown, args: SubscriptionStatsUpdatedArgs, context: Context) => {
      // One context serves every event of a subscription: start each from fresh figures.
      context.renewStats();
      return { range: resolveStatsRange(args, new Date(), 'LAST_7_DAYS') };
    },
  },
};
