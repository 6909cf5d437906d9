import type http from 'node:http';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import cors from 'cors';
import helmet from 'helmet';
import Redis from 'ioredis';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createError, errorCodes, type ErrorCode } from '@meridian/errors';
import { isSignedIn, type TokenVerifier, type Viewer } from '@meridian/tokens';
import type { Logger } from '@meridian/service-kit';
import { createOperationLimiter, type OperationLimits } from './limits';
import {
  APQ_PREFIX,
  createPersistedQueryCache,
  loadTrustedDocuments,
  trustedDocumentCache,
  type DocumentCache,
  type TrustedDocuments,
} from './persistedDocuments';
import { createRateLimiters, DEFAULT_RATE_LIMITS, type RateLimits } from './rateLimits';
import { clientAddressOf, compileTrustProxy, type TrustProxy } from './clientAddress';

export interface ProtectionOptions {
  /** Largest accepted HTTP body and WebSocket message, in bytes. */
  maxBodyBytes: number;
  limits: Partial<OperationLimits>;
  rateLimits: RateLimits;
  /** HTTP batches (arrays of operations) are refused unless this is set. */
  maxBatchSize?: number;
  /** Origins allowed by CORS; unset: any origin in development, none in production. */
  corsOrigins?: readonly string[];
  /** Shared rate limits and persisted queries across gateway replicas. */
  redisUrl?: string;
  /** Namespace of this gateway's Redis keys. */
  redisKeyPrefix: string;
  /** Only the operations of this manifest run (trusted documents); see loadTrustedDocuments. */
  trustedDocumentsPath?: string;
  /** Seconds an automatically persisted query stays in Redis. */
  persistedQueryTtlSeconds: number;
  /** Proxies whose X-Forwarded-For is believed (rate-limit key, client address): default none. */
  trustProxy: TrustProxy;
}

export const DEFAULT_PROTECTION_OPTIONS: ProtectionOptions = {
  maxBodyBytes: 102_400,
  limits: {},
  rateLimits: DEFAULT_RATE_LIMITS,
  redisKeyPrefix: 'meridian:gateway:',
  persistedQueryTtlSeconds: 86_400,
  trustProxy: 0,
};

/** Who a request is charged to: the verified user, else the client address. */
interface ClientIdentity {
  key: string;
  viewer?: Promise<Viewer>;
}

interface OperationParams {
  query?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

export type Rejection = { error: GraphQLError; retryAfter?: number };

/** Where the direct path leaves a body-parser error for Express to report (see `parseBody`). */
export const PRE_READ_BODY_ERROR = Symbol('body error found by the direct path');
type PreReadRequest = Request & { [PRE_READ_BODY_ERROR]?: Error & { type: string; status: number } };

/**
 * Everything that stands between a client and the subgraphs: body cap, operation limits,
 * rate limits, persisted and trusted documents, production hardening (helmet, CORS, no schema
 * details). HTTP goes through `guard` (an Express middleware in front of the subscription handler
 * and Apollo Server); WebSocket operations through `checkWebSocketOperation` (graphql-ws
 * `onSubscribe`). Both reject before anything is planned or fetched.
 */
export function createGatewayProtection(deps: {
  options?: Partial<ProtectionOptions>;
  production: boolean;
  verifier: TokenVerifier;
  logger: Logger;
  schema: () => GraphQLSchema;
  supergraphSdl: () => string;
  /** One of GATEWAY_WORKERS processes: without Redis, rate budgets are kept in the primary. */
  acrossWorkers?: boolean;
}) {
  const options = { ...DEFAULT_PROTECTION_OPTIONS, ...deps.options };
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
    : undefined;
  // Errors reach the insurance limiter and the logs; an unhandled 'error' event would crash the process.
  redis?.on('error', (error) => deps.logger.warn({ err: error }, 'gateway protection: Redis error'));

  const operations = createOperationLimiter({
    schema: deps.schema,
    supergraphSdl: deps.supergraphSdl,
    limits: options.limits,
    hideSchemaDetails: deps.production,
    introspection: !deps.production,
  });
  const rateLimiters = createRateLimiters({ limits: options.rateLimits, redis, keyPrefix: options.redisKeyPrefix, acrossWorkers: deps.acrossWorkers });
  const trusted: TrustedDocuments | undefined = options.trustedDocumentsPath ? loadTrustedDocuments(options.trustedDocumentsPath) : undefined;
  const documentCache: DocumentCache = trusted
    ? trustedDocumentCache(trusted)
    : createPersistedQueryCache({ redis, keyPrefix: `${options.redisKeyPrefix}pq:` });
  const viewers = new WeakMap<Request, Promise<Viewer>>();
  const trustProxy = compileTrustProxy(options.trustProxy);
  const clientAddress = (request: http.IncomingMessage) => clientAddressOf(request, trustProxy);

  /** Finds the operation text (from the request, the persisted-query cache or the manifest) and judges it. */
  async function checkOperation(
    params: OperationParams,
  ): Promise<{ rejection?: Rejection; authFields: number; query?: string; hash?: string; sha256?: () => string }> {
    const extensions = asObject(params.extensions);
    const persisted = asObject(extensions?.persistedQuery);
    const hash = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash.toLowerCase() : undefined;
    let query = typeof params.query === 'string' && params.query !== '' ? params.query : undefined;

    if (trusted) {
      if (query === undefined && hash !== undefined) query = trusted.get(hash);
      if (query === undefined) {
        return { authFields: 0, rejection: { error: createError('OPERATION_NOT_TRUSTED', 'Only registered operations are accepted: send the sha256 hash of a registered operation.') } };
      }
    } else if (query === undefined && hash !== undefined) {
      query = await documentCache.get(`${APQ_PREFIX}${hash}`);
      // Unknown hash: the persisted-query protocol answers PERSISTED_QUERY_NOT_FOUND (Apollo Server over HTTP).
      if (query === undefined) return { authFields: 0, hash };
    }
    if (query === undefined) return { authFields: 0, hash };

    const verdict = operations.check(query, asObject(params.variables));
    if (verdict.error) return { authFields: 0, rejection: { error: verdict.error } };
    if (trusted && !trusted.has(hash ?? verdict.sha256())) {
      return { authFields: 0, rejection: { error: createError('OPERATION_NOT_TRUSTED', 'This operation is not registered with the gateway.') } };
    }
    if (trusted && hash !== undefined && hash !== verdict.sha256()) {
      return { authFields: 0, rejection: { error: createError('OPERATION_NOT_TRUSTED', 'The query does not match the registered operation of that hash.') } };
    }
    return { authFields: verdict.authFields, query, hash, sha256: verdict.sha256 };
  }

  async function identify(req: Request): Promise<ClientIdentity> {
    const ip = req.ip ?? 'unknown'; // Express applies trustProxy (server.ts sets 'trust proxy')
    const authorization = req.headers.authorization;
    if (!authorization) return { key: `ip:${ip}` };
    const viewer = deps.verifier.viewerFromAuthorization(authorization);
    viewers.set(req, viewer);
    try {
      const verified = await viewer;
      return { key: isSignedIn(verified) ? `user:${verified.userId}` : `ip:${ip}`, viewer };
    } catch {
      return { key: `ip:${ip}`, viewer }; // the request fails with 401 later, still charged to its address
    }
  }

  /** Rate limits, then each operation's limits and documents, then the sign-in budget: the first refusal. */
  async function admit(clientKey: string, batch: readonly OperationParams[]): Promise<Rejection | undefined> {
    const retryAfter = await rateLimiters.consume('general', clientKey, Math.max(1, batch.length));
    if (retryAfter !== undefined) return rateLimited(retryAfter);
    let authFields = 0;
    for (const params of batch) {
      const checked = await checkOperation(asObject(params) ?? {});
      if (checked.rejection) return checked.rejection;
      authFields += checked.authFields;
    }
    if (authFields > 0) {
      const authRetry = await rateLimiters.consume('auth', clientKey, authFields);
      if (authRetry !== undefined) return rateLimited(authRetry, 'Too many sign-in attempts');
    }
    return undefined;
  }

  const guard: RequestHandler = async (req, res, next) => {
    try {
      if (req.method !== 'GET' && req.method !== 'POST') return next();
      const raw: unknown = req.method === 'GET' ? req.query : req.body;
      if (!raw || typeof raw !== 'object') return next(); // Apollo Server explains what is missing
      let batch: OperationParams[];
      if (Array.isArray(raw)) {
        // Batching is off unless configured: Apollo Server refuses the array itself.
        if (!options.maxBatchSize) return next();
        if (raw.length > options.maxBatchSize) {
          return reject(res, { error: createError('BATCH_TOO_LARGE', `At most ${options.maxBatchSize} operations per batch.`, { limit: options.maxBatchSize }) });
        }
        batch = raw as OperationParams[];
      } else batch = [raw as OperationParams];

      const client = await identify(req);
      const rejection = await admit(client.key, batch);
      if (rejection) return reject(res, rejection);
      next();
    } catch (error) {
      next(error);
    }
  };

  // A body the gateway's direct path already read arrives as req.body on a finished request, which
  // body-parser leaves alone; a body it found not to be JSON comes with the parser's own error.
  const jsonParser = express.json({ limit: options.maxBodyBytes });
  const parseBody: RequestHandler = (req, res, next) => {
    const preRead = (req as PreReadRequest)[PRE_READ_BODY_ERROR];
    if (preRead) return next(preRead);
    jsonParser(req, res, next);
  };

  /** Turns body-parser failures into GraphQL errors (instead of Express's HTML page). */
  const errorHandler: ErrorRequestHandler = (error: { type?: string; status?: number }, _req, res, next) => {
    if (res.headersSent) return next(error);
    if (error?.type === 'entity.too.large') {
      return reject(res, { error: createError('REQUEST_TOO_LARGE', `The request body is larger than ${options.maxBodyBytes} bytes.`, { limit: options.maxBodyBytes }) });
    }
    if (error?.type === 'entity.parse.failed') {
      return sendErrors(res, 400, [new GraphQLError('The request body is not valid JSON.', { extensions: { code: 'BAD_REQUEST' } })]);
    }
    next(error);
  };

  const corsOrigins = options.corsOrigins?.length ? [...options.corsOrigins] : undefined;
  return {
    options,
    operations,
    /** For Express's 'trust proxy' setting, so `req.ip` follows the same rule. */
    trustProxy,
    /** The client's address of an HTTP request or WebSocket upgrade, behind trusted proxies. */
    clientAddress,
    /** Security headers on every response; development leaves CSP to Apollo Sandbox's page (inline scripts, CDN). */
    securityHeaders: deps.production ? helmet() : helmet({ contentSecurityPolicy: false, crossOriginEmbedderPolicy: false }),
    cors: cors({ origin: corsOrigins ?? !deps.production, maxAge: 600 }),
    parseBody,
    guard,
    admit,
    errorHandler,
    /** For the direct path: a refusal answered exactly as `guard` answers it. */
    reject: (res: http.ServerResponse, accept: string | undefined, rejection: Rejection) => reject(res, rejection, accept),
    /** Options for Apollo Server: persisted queries (or the trusted manifest), batching, schema details. */
    apolloOptions: {
      persistedQueries: { cache: documentCache, ttl: trusted ? null : options.persistedQueryTtlSeconds },
      allowBatchedHttpRequests: Boolean(options.maxBatchSize),
      hideSchemaDetailsFromClientErrors: deps.production,
      csrfPrevention: true,
    },
    /** The viewer `guard` already verified for this request (so the token is checked once). */
    viewerFor: (req: Request) => viewers.get(req),
    /**
     * graphql-ws `onSubscribe`: the same limits, rate limits and documents as over HTTP, for
     * queries, mutations and subscription starts. A persisted or trusted hash is resolved into
     * `payload.query`, which graphql-ws then parses as usual.
     */
    async checkWebSocketOperation(
      payload: { query: string; variables?: unknown; extensions?: unknown },
      client: { viewer?: Viewer; ip: string | undefined },
    ): Promise<readonly GraphQLError[] | undefined> {
      const viewer = client.viewer;
      const key = viewer && isSignedIn(viewer) ? `user:${viewer.userId}` : `ip:${client.ip ?? 'unknown'}`;
      const retryAfter = await rateLimiters.consume('general', key);
      if (retryAfter !== undefined) return [rateLimited(retryAfter).error];
      const checked = await checkOperation(payload);
      if (checked.rejection) return [checked.rejection.error];
      if (checked.query === undefined) {
        return [
          checked.hash
            ? new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })
            : new GraphQLError('The subscribe payload has no query.', { extensions: { code: 'BAD_REQUEST' } }),
        ];
      }
      if (payload.query === '') payload.query = checked.query;
      else if (!trusted && checked.hash !== undefined) {
        // Registering a persisted query (the same protocol as over HTTP): the hash must be the text's.
        if (checked.hash !== checked.sha256?.()) {
          return [new GraphQLError('provided sha does not match query', { extensions: { code: 'BAD_REQUEST' } })];
        }
        await documentCache.set(`${APQ_PREFIX}${checked.hash}`, checked.query, { ttl: options.persistedQueryTtlSeconds });
      }
      if (checked.authFields > 0) {
        const authRetry = await rateLimiters.consume('auth', key, checked.authFields);
        if (authRetry !== undefined) return [rateLimited(authRetry, 'Too many sign-in attempts').error];
      }
      return undefined;
    },
    /**
     * Waits (at most `timeoutMs`) for Redis, so a fresh replica draws on the shared budgets from
     * its first request; if Redis is not there, it starts anyway on its in-memory fallback.
     */
    async ready(timeoutMs = 5_000) {
      if (!redis || redis.status === 'ready') return;
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!connected) deps.logger.warn('gateway protection: Redis not ready; rate limits are per replica until it is');
    },
    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export type GatewayProtection = ReturnType<typeof createGatewayProtection>;

function rateLimited(retryAfter: number, what = 'Too many requests'): Rejection {
  return { error: createError('RATE_LIMITED', `${what}; retry in ${retryAfter} s.`, { retryAfter }), retryAfter };
}

function reject(res: http.ServerResponse, rejection: Rejection, accept?: string) {
  const code = rejection.error.extensions.code as ErrorCode;
  if (rejection.retryAfter !== undefined) res.setHeader('retry-after', String(rejection.retryAfter));
  sendErrors(res, errorCodes[code]?.httpStatus ?? 400, [rejection.error], accept);
}

/** A GraphQL error response written on the bare Node.js response (Express's and the direct path's alike). */
function sendErrors(res: http.ServerResponse, status: number, errors: readonly GraphQLError[], accept = res.req.headers.accept ?? '') {
  const body = JSON.stringify({ errors: errors.map((error) => ({ message: error.message, extensions: error.extensions })) });
  res.statusCode = status;
  res.setHeader('content-type', `${accept.includes('application/graphql-response+json') ? 'application/graphql-response+json' : 'application/json'}; charset=utf-8`);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
