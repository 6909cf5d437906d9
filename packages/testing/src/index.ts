export { graphql, graphqlOk, errorCodes, type GraphQLResponse, type RequestOptions } from './graphql';
export { getTestModes, preparePlatformEnv, type TestMode, type PreparedEnv } from './modes';
