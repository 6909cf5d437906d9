import { defaultFieldResolver, type DocumentNode, type GraphQLResolveInfo } from 'graphql';
import { forbidden, unauthenticated } from '@meridian/errors';
import { isSignedIn, type SignedInViewer, type Viewer } from '@meridian/tokens';
import { readRequirements, readTypeRequirement, type FieldRequirement } from './requirements';
import { KNOWN_SCOPES } from './scopes';

export interface PolicyInput<TContext> {
  viewer: SignedInViewer;
  /** The parent object (the entity representation for `__resolveReference`). */
  parent: unknown;
  args: Record<string, unknown>;
  context: TContext;
  coordinate: string;
}

/**
 * A named rule that needs the resource (ownership). Returns whether the caller may go on;
 * `false` becomes FORBIDDEN. A policy may throw its own error instead (e.g. NOT_FOUND where
 * even the existence of someone else's resource is private).
 */
export type Policy<TContext> = (input: PolicyInput<TContext>) => boolean | Promise<boolean>;

export interface AuthorizeOptions<TContext extends { viewer: Viewer }> {
  /** The subgraph SDL: its directives are the single source of truth. */
  typeDefs: DocumentNode;
  resolvers: Record<string, unknown>;
  policies?: Record<string, Policy<TContext>>;
}

type Resolver = (parent: unknown, args: Record<string, unknown>, context: { viewer: Viewer }, info: GraphQLResolveInfo) => unknown;

/**
 * Wraps the resolvers of every field that carries `@authenticated`, `@requiresScopes` or
 * `@policy` (on the field or its type) with the check the directives declare, before the
 * resolver runs: queries, mutations, entity fields, `__resolveReference` of a protected type,
 * and the `subscribe` of subscription fields (checked when the subscription starts, with the
 * subscriber's token). Fields without a resolver get the default one, wrapped.
 *
 * Fails at start-up, naming the field, when the SDL names an unknown scope or policy.
 */
export function authorizeResolvers<TContext extends { viewer: Viewer }>(options: AuthorizeOptions<TContext>): Record<string, unknown> {
  const policies = options.policies ?? {};
  const requirements = readRequirements(options.typeDefs);
  for (const requirement of requirements.values()) validate(requirement, policies);

  const result: Record<string, unknown> = { ...options.resolvers };
  const wrappedTypes = new Set<string>();
  for (const requirement of requirements.values()) {
    const [typeName, fieldName] = requirement.coordinate.split('.') as [string, string];
    const typeResolvers = { ...((result[typeName] as Record<string, unknown> | undefined) ?? {}) };
    const current = typeResolvers[fieldName];
    const check = createCheck(requirement, policies);
    if (typeName === 'Subscription') {
      const field = (current ?? {}) as { subscribe?: Resolver; resolve?: Resolver };
      if (!field.subscribe) throw new Error(`Subscription.${fieldName} has @authenticated/@requiresScopes/@policy but no subscribe resolver.`);
      typeResolvers[fieldName] = { ...field, subscribe: guard(check, field.subscribe) };
    } else {
      const resolve = typeof current === 'function' ? (current as Resolver) : (defaultFieldResolver as unknown as Resolver);
      typeResolvers[fieldName] = guard(check, resolve);
    }
    if (!wrappedTypes.has(typeName)) {
      wrappedTypes.add(typeName);
      const onType = readTypeRequirement(options.typeDefs, typeName);
      const reference = typeResolvers.__resolveReference as ((ref: unknown, context: { viewer: Viewer }, info: GraphQLResolveInfo) => unknown) | undefined;
      if (onType) {
        validate(onType, policies);
        const typeCheck = createCheck(onType, policies);
        const resolveReference = reference ?? ((ref: unknown) => ref);
        typeResolvers.__resolveReference = (ref: unknown, context: { viewer: Viewer }, info: GraphQLResolveInfo) =>
          then(typeCheck(ref, {}, context, info), () => resolveReference(ref, context, info));
      }
    }
    result[typeName] = typeResolvers;
  }
  return result;
}

type Check = (parent: unknown, args: Record<string, unknown>, context: { viewer: Viewer }, info: GraphQLResolveInfo) => void | Promise<void>;

function guard(check: Check, resolve: Resolver): Resolver {
  return (parent, args, context, info) => then(check(parent, args, context, info), () => resolve(parent, args, context, info));
}

/** Stays synchronous when the check is (no promise per field for sign-in and scope checks). */
function then<T>(outcome: void | Promise<void>, next: () => T): T | Promise<T> {
  return outcome instanceof Promise ? outcome.then(next) : next();
}

function createCheck<TContext extends { viewer: Viewer }>(requirement: FieldRequirement, policies: Record<string, Policy<TContext>>): Check {
  const { coordinate } = requirement;
  return (parent, args, context) => {
    const viewer = context.viewer;
    if (!isSignedIn(viewer)) throw unauthenticated(`You must be signed in to use ${coordinate}.`);
    if (requirement.scopes && !requirement.scopes.some((all) => all.every((scope) => viewer.scopes.includes(scope)))) {
      throw forbidden(`${coordinate} requires the scope${requirement.scopes.length > 1 ? 's of one of' : ''} ${describe(requirement.scopes)}.`);
    }
    if (!requirement.policies) return;
    return evaluatePolicies(requirement.policies, policies, { viewer, parent, args, context: context as TContext, coordinate });
  };
}

async function evaluatePolicies<TContext>(alternatives: string[][], policies: Record<string, Policy<TContext>>, input: PolicyInput<TContext>): Promise<void> {
  for (const all of alternatives) {
    let allowed = true;
    for (const name of all) {
      if (!(await policies[name]!(input))) {
        allowed = false;
        break;
      }
    }
    if (allowed) return;
  }
  throw forbidden(`${input.coordinate} is not allowed for you (policy ${describe(alternatives)}).`);
}

function describe(alternatives: string[][]): string {
  return alternatives.map((all) => all.join(' + ')).join(' | ');
}

function validate(requirement: FieldRequirement, policies: Record<string, unknown>) {
  for (const scope of requirement.scopes?.flat() ?? []) {
    if (!KNOWN_SCOPES.has(scope)) {
      throw new Error(`@requiresScopes on ${requirement.coordinate}: unknown scope "${scope}" (known: ${[...KNOWN_SCOPES].join(', ')}).`);
    }
  }
  for (const name of requirement.policies?.flat() ?? []) {
    if (!(name in policies)) {
      throw new Error(`@policy on ${requirement.coordinate}: no policy named "${name}" is registered (registered: ${Object.keys(policies).join(', ') || 'none'}).`);
    }
  }
}
