export { createGateway, type Gateway, type GatewayDeps, type GatewayContext } from './server';
export { loadGatewayConfig, type GatewayConfig } from './config';
export { startGatewayService, type GatewayHandle } from './service';
