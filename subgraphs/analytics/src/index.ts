export { createAnalyticsSubgraph, ANALYTICS_SCHEMA_PATH, type AnalyticsSubgraphDeps } from './server';
export { startAnalyticsService, type AnalyticsServiceHandle } from './service';
export { loadAnalyticsConfig, type AnalyticsConfig } from './config';
export { subscribeAnalyticsEventHandlers, ANALYTICS_CONSUMER_GROUP, type AnalyticsEventHandlers, type RebuildResult } from './events';
