export { graphql, graphqlOk, errorCodes, type GraphQLResponse, type RequestOptions } from './graphql';
export { getTestModes, preparePlatformEnv, type TestMode, type PreparedEnv } from './modes';
export { freePort, freeStablePort } from './ports';
export { PrivateRedis } from './privateRedis';
