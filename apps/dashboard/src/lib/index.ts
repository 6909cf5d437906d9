export { createDashboardClient, createDashboardCache, createBearerTokenLink, type DashboardClient, type DashboardClientOptions } from './dashboardClient';
export { SessionManager, createMemoryTokenStore, createInProcessLock, type SessionTokens, type SessionEvent, type TokenStore, type WithLock, type RefreshSession } from './session';
export { LiveSubscriptionLink, cursorOf, type ConnectionStatus } from './liveSubscriptionLink';
export { createAuthApi, GraphQLRequestError, type AuthApi, type LogInOutcome } from './authApi';
export { SessionExpiredError, GatewayUnavailableError, describeError, errorCode } from './errors';
export {
  applyTaskChange,
  applyNotificationDelivery,
  applyNotificationRead,
  applyAllNotificationsRead,
  applyStatsUpdate,
  taskMatchesFilter,
  argumentsOfStoreFieldName,
} from './cacheUpdates';
export { createQueryRetryLink, isTransientFailure, type QueryRetryOptions } from './queryRetryLink';
