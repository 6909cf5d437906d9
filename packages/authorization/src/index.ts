export { AUTHORIZATION_SPEC_URL, AUTHORIZATION_DIRECTIVES_SDL, AUTHORIZATION_DIRECTIVE_NAMES, authorizationDirectiveDefinitions } from './directives';
export { readRequirements, readTypeRequirement, type FieldRequirement } from './requirements';
export { authorizeResolvers, type AuthorizeOptions, type Policy, type PolicyInput } from './enforce';
export { ROLE_SCOPES, ROLES, KNOWN_SCOPES, scopesForRoles, type Scope } from './scopes';
