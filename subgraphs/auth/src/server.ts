import path from 'node:path';
import { createSubgraphServer, readSchema, type Logger, type SubgraphServer } from '@meridian/service-kit';
import type { TokenVerifier } from '@meridian/tokens';
import type { PrismaClient } from './generated/prisma/client';
import type { AuthService } from './domain/authService';
import type { TokenIssuer } from './domain/signingKeys';
import { resolvers } from './resolvers';
import { authorizeResolvers } from '@meridian/authorization';

export const AUTH_SCHEMA_PATH = path.join(__dirname, 'schema.graphql');
export const JWKS_PATH = '/.well-known/jwks.json';
/** Next to the JWKS; verifiers derive it from the JWKS URL (see @meridian/tokens). Internal: not routed by the gateway. */
export const SUBJECT_STATUS_PATH = '/.well-known/subject-status';

export interface AuthSubgraphDeps {
  prisma: PrismaClient;
  auth: AuthService;
  issuer: TokenIssuer;
  verifier: TokenVerifier;
  logger: Logger;
  production?: boolean;
}

/** Builds the auth subgraph's HTTP server (GraphQL + JWKS); does not listen. */
export function createAuthSubgraph(deps: AuthSubgraphDeps): SubgraphServer {
  const typeDefs = readSchema(AUTH_SCHEMA_PATH);
  return createSubgraphServer({
    name: 'auth',
    typeDefs,
    // The SDL's @authenticated / @requiresScopes / @policy decide who may resolve what.
    resolvers: authorizeResolvers({ typeDefs, resolvers: resolvers as Record<string, unknown> }),
    verifier: deps.verifier,
    logger: deps.logger,
    production: deps.production,
    createContext: (base) => ({ ...base, auth: deps.auth, device: base.client }),
    routes: (app) => {
      app.get(JWKS_PATH, async (_req, res, next) => {
        try {
          // Verifiers cache keys by kid; a short max-age lets them see a rotation quickly.
          res.set('cache-control', 'public, max-age=60');
          res.json(await deps.issuer.jwks());
        } catch (error) {
          next(error);
        }
      });
      // Answers whether an account's tokens may still be used (exists, not hard-locked). Says
      // nothing else about the account; never cached by intermediaries.
      app.get(`${SUBJECT_STATUS_PATH}/:sub`, async (req, res, next) => {
        try {
          res.set('cache-control', 'no-store');
          res.json({ active: await deps.auth.isSubjectActive(req.params.sub) });
        } catch (error) {
          next(error);
        }
      });
    },
    isReady: async () => {
      await deps.prisma.$queryRaw`SELECT 1`;
    },
  });
}
