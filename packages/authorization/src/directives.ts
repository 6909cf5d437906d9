import { parse, type DocumentNode } from 'graphql';

/** The `@link` URL of Meridian's authorization directives; each subgraph imports them from it. */
export const AUTHORIZATION_SPEC_URL = 'https://specs.meridian.dev/authorization/v1.0';

/**
 * The directive definitions every subgraph SDL carries (composition needs them in each SDL
 * that uses them). Their shapes follow Apollo's router directives of the same names: lists of
 * alternatives, each a list of requirements that must all hold ("OR of ANDs").
 */
export const AUTHORIZATION_DIRECTIVES_SDL = /* GraphQL */ `
directive @authenticated on FIELD_DEFINITION | OBJECT
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT
directive @policy(policies: [[String!]!]!) on FIELD_DEFINITION | OBJECT
`;

export const AUTHORIZATION_DIRECTIVE_NAMES = ['authenticated', 'requiresScopes', 'policy'] as const;

export function authorizationDirectiveDefinitions(): DocumentNode {
  return parse(AUTHORIZATION_DIRECTIVES_SDL);
}
