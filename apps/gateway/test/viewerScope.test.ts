import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { anonymousViewer, type SignedInViewer } from '@meridian/tokens';
import { createSubscriptionPlanner } from '../src/subscriptions/planner';

/**
 * Which subscriptions users with the same authorization share, decided from the cache hints the
 * subgraphs declare in the real supergraph (task: its workspace types PUBLIC; user: User public,
 * email PRIVATE; analytics and notification: no hints).
 */
const planner = createSubscriptionPlanner(readFileSync(path.join(__dirname, '../../../supergraph.graphql'), 'utf8'));
const plan = (query: string) => planner.plan(parse(query), undefined);
const viewer = (userId: string, roles: SignedInViewer['roles'], scopes = ['tasks:read', 'users:read']): SignedInViewer => ({
  kind: 'user',
  userId,
  roles,
  scopes,
  tokenId: `t-${userId}`,
  expiresAt: 2_000_000_000,
});

describe('viewer scopes of subscriptions', () => {
  it.each([
    ['the task and public user fields', 'subscription { taskChanged { cursor kind task { title assignee { displayName } } actor { displayName } } }'],
    ['comments and their page info (inheritMaxAge)', 'subscription { taskChanged { task { comments { edges { node { body author { displayName } } } pageInfo { hasNextPage } } } } }'],
    ['a fragment on the task', 'subscription { taskChanged { task { ...T } } } fragment T on Task { title project { name owner { displayName } } }'],
  ])('shares %s between users with the same roles and scopes', (_name, query) => {
    const subscription = plan(query);
    const ada = planner.scopeOf(subscription, viewer('ada', ['MEMBER']));
    expect(ada).toBe(planner.scopeOf(subscription, viewer('bob', ['MEMBER'])));
    expect(ada).not.toContain('ada');
    // Other roles or other token scopes: another stream (the subgraph's answer may differ).
    expect(planner.scopeOf(subscription, viewer('cy', ['ADMIN', 'MEMBER']))).not.toBe(ada);
    expect(planner.scopeOf(subscription, viewer('dee', ['MEMBER'], ['tasks:read']))).not.toBe(ada);
    expect(planner.scopeOf(subscription, anonymousViewer)).toBe('anonymous');
  });

  it.each([
    ['a PRIVATE field fetched from another subgraph (email)', 'subscription { taskChanged { task { assignee { displayName email } } } }'],
    ['a type without hints, fetched per event (analytics stats)', 'subscription { taskChanged { task { assignee { stats { tasksCompleted } } } } }'],
    ['a subscription field without hints (the viewer\'s own notifications)', 'subscription { notificationReceived { cursor } }'],
    ['a subscription field without hints (analytics)', 'subscription { statsUpdated { __typename } }'],
  ])('keeps one stream per user for %s', (_name, query) => {
    const subscription = plan(query);
    const ada = planner.scopeOf(subscription, viewer('ada', ['MEMBER']));
    expect(ada).toContain('ada');
    expect(planner.scopeOf(subscription, viewer('bob', ['MEMBER']))).not.toBe(ada);
  });
});
