export { createNotificationSubgraph, NOTIFICATION_SCHEMA_PATH, type NotificationSubgraphDeps } from './server';
export { startNotificationService, type NotificationServiceHandle, type StartNotificationServiceOptions } from './service';
export { loadNotificationConfig, type NotificationConfig } from './config';
