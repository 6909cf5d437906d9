export { startDashboardServer, normalizeGatewayUrl, DEFAULT_STATIC_DIR, type DashboardServer, type DashboardServerOptions } from './dashboardServer';
export { loadDashboardConfig } from './config';
