import { readFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
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

describe('viewer scopes: rules the real supergraph does not exercise', () => {
  // A small supergraph of two subgraphs, composed here: `board` owns the subscription, `people`
  // resolves the members per event.
  const link = `extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
    @link(url: "https://specs.meridian.dev/authorization/v1.0", import: ["@policy"])
    @link(url: "https://specs.meridian.dev/cache-control/v1.0", import: ["@cacheControl"])
    @composeDirective(name: "@policy")
    @composeDirective(name: "@cacheControl")
  directive @policy(policies: [[String!]!]!) on FIELD_DEFINITION | OBJECT
  directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
  enum CacheControlScope { PUBLIC PRIVATE }`;
  const composed = composeServices([
    {
      name: 'board',
      url: 'http://board/graphql',
      typeDefs: parse(`${link}
        type Query { card(id: ID!): Card }
        type Subscription {
          cardMoved: Card! @cacheControl(scope: PUBLIC)
          cardArchived: Card!
        }
        type Card @key(fields: "id") @cacheControl(scope: PUBLIC) {
          id: ID!
          title: String!
          secretNote: String @policy(policies: [["card:owner"]])
          owner: Member!
          tags: TagList!
          labels: TagList! @cacheControl(inheritMaxAge: true)
        }
        type TagList { names: [String!]! }
        type Member @key(fields: "id", resolvable: false) { id: ID! }`),
    },
    {
      name: 'people',
      url: 'http://people/graphql',
      typeDefs: parse(`${link}
        type Query { member(id: ID!): Member }
        type Member @key(fields: "id") @cacheControl(maxAge: 60) {
          id: ID!
          name: String!
          mood: String @cacheControl(scope: PRIVATE)
        }`),
    },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join('\n'));
  const small = createSubscriptionPlanner(composed.supergraphSdl);
  const shared = (query: string) => {
    const subscription = small.plan(parse(query), undefined);
    return small.scopeOf(subscription, viewer('ada', ['MEMBER'])) === small.scopeOf(subscription, viewer('bob', ['MEMBER']));
  };

  it('shares a declared selection, across the entity fetch of another subgraph', () => {
    expect(shared('subscription { cardMoved { title owner { name } } }')).toBe(true);
  });

  it('lets a field inherit from a declared parent, but not declare a type of its own', () => {
    // TagList has no hint: `labels` inherits Card's declaration, `tags` has none.
    expect(shared('subscription { cardMoved { labels { names } } }')).toBe(true);
    expect(shared('subscription { cardMoved { tags { names } } }')).toBe(false);
  });

  it('keeps one stream per user for a field under a @policy or a PRIVATE field', () => {
    expect(shared('subscription { cardMoved { title secretNote } }')).toBe(false);
    expect(shared('subscription { cardMoved { owner { mood } } }')).toBe(false);
  });

  it('takes a type hint as declaring every field that returns the type, as Apollo does', () => {
    // `cardArchived` has no hint of its own; Card's covers it.
    expect(shared('subscription { cardArchived { title } }')).toBe(true);
  });
});
