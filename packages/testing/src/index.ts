export { captureLogs, type CapturedLogs } from './captureLogs';
export { deleteRedisKeys } from './deleteRedisKeys';
export { eventually } from './eventually';
export { graphql, graphqlOk, errorCodes, type GraphQLResponse, type RequestOptions } from './graphql';
export { getTestModes, preparePlatformEnv, type TestMode, type PreparedEnv } from './modes';
export { openTestDatabase, type OpenTestDatabase } from './openTestDatabase';
export { freePort, freeStablePort } from './ports';
export { PrivateRedis } from './privateRedis';
export { startTestTokenIssuer, type TestTokenClaims, type TestTokenIssuer, type TestTokenIssuerOptions } from './testTokenIssuer';
