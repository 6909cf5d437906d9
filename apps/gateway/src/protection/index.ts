export { createGatewayProtection, DEFAULT_PROTECTION_OPTIONS, type GatewayProtection, type ProtectionOptions } from './protection';
export { DEFAULT_OPERATION_LIMITS, DEFAULT_AUTH_MUTATIONS, type OperationLimits } from './limits';
export { DEFAULT_RATE_LIMITS, type RateLimits, type RateBudget } from './rateLimits';
export { parseTrustProxy, type TrustProxy } from './clientAddress';
