export { graphql, graphqlOk, errorCodes, type GraphQLResponse, type RequestOptions } from './graphql';
