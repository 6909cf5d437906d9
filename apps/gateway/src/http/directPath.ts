import type http from 'node:http';
import Negotiator from 'negotiator';
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestListener } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from '@meridian/service-kit';
import type { TokenVerifier, Viewer } from '@meridian/tokens';
import { isSignedIn } from '@meridian/tokens';
import type { GatewayContext } from '../server';
import type { GatewayProtection } from '../protection';
import { PRE_READ_BODY_ERROR } from '../protection/protection';
import type { KnownOperation, OperationExecutor, ServiceMap } from '../execution/operationExecutor';
import { formatErrors, type FormatError } from './formatErrors';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void) => void;
type RequestTracer = (req: http.IncomingMessage, res: http.ServerResponse, route: string, next: (requestId: string) => void) => void;

export interface DirectPathDeps {
  /** Express: everything the direct path does not answer itself. */
  app: Handler;
  executor: () => OperationExecutor;
  /** The data sources of an executor's subgraphs (cached by the caller). */
  serviceMap: (executor: OperationExecutor) => ServiceMap;
  protection: GatewayProtection;
  verifier: TokenVerifier;
  readiness: { readonly draining: boolean };
  /** The gateway's Apollo Server plugins (their request hooks run as Apollo Server runs them). */
  plugins: readonly ApolloServerPlugin<GatewayContext>[];
  formatError: FormatError;
  /** The security headers middleware (helmet) and CORS of the Express path. */
  securityHeaders: Middleware;
  cors: Middleware;
  trace: RequestTracer;
  requestTimeoutMs: number;
  logger: Logger;
  /** Called for each request the direct path answers (a metric). */
  onAnswered?: () => void;
}

const GRAPHQL_PATH = '/graphql';
const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;
const MEDIA_TYPES = ['application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8', 'application/json; callbackSpec=1.0; charset=utf-8'];

/**
 * The gateway's direct path for `POST /graphql`: a query or mutation that Apollo Server has
 * already parsed, validated and handed to the fast executor (an operation the executor "knows")
 * is answered here, on the bare Node.js request, without Express's router, body-parser and
 * Apollo Server's HTTP and request pipeline. What it answers it answers exactly as that path
 * would: the same protection (rate limits, operation limits, sign-in budget, security headers,
 * CORS), the same tracing span, the same plugin hooks (metrics, request logs), the same error
 * formatting and masking, status, headers and bytes (test/directPath.test.ts compares both).
 *
 * Everything else goes to Express untouched, decided before anything is charged or run: other
 * methods and paths, batches, persisted-query hashes, unknown operations (Apollo Server validates
 * them first), invalid variables, bad tokens, streaming `Accept` headers, chunked or large bodies,
 * non-JSON bodies, and any request while the gateway drains. A body it already read travels with
 * the request (`req.body`), so Express never reads it twice.
 */
export function createDirectPath(deps: DirectPathDeps): Handler {
  const securityHeaders = recordHeaders(deps.securityHeaders);
  const corsWithoutOrigin = recordHeaders(deps.cors);
  const maxBodyBytes = deps.protection.options.maxBodyBytes;
  const contentTypes = new Map<string, string | null>();

  /** Apollo Server's choice between the JSON media types (negotiator, the same preference order), cached per Accept. */
  function contentTypeFor(accept: string | undefined): string | null {
    if (!accept) return MEDIA_TYPES[0]!;
    let type = contentTypes.get(accept);
    if (type === undefined) {
      type = new Negotiator({ headers: { accept } }).mediaType(MEDIA_TYPES) ?? null;
      if (contentTypes.size >= 100) contentTypes.clear();
      contentTypes.set(accept, type);
    }
    return type;
  }

  function eligible(req: http.IncomingMessage): boolean {
    if (req.method !== 'POST' || req.url !== GRAPHQL_PATH || deps.readiness.draining) return false;
    const headers = req.headers;
    const contentType = headers['content-type'];
    if (!contentType || !JSON_CONTENT_TYPE.test(contentType)) return false;
    if (headers['content-encoding'] && headers['content-encoding'] !== 'identity') return false;
    const length = Number(headers['content-length']);
    if (!(length > 0 && length <= maxBodyBytes)) return false;
    const accept = headers.accept;
    if (accept && (accept.includes('multipart/') || accept.includes('text/event-stream') || accept.includes('text/html'))) return false;
    return headers['apollo-query-plan-experimental'] === undefined;
  }

  /** Hands the request to Express, with the body the direct path read (or the error it found in it). */
  function fallBack(req: http.IncomingMessage, res: http.ServerResponse, body: unknown, error?: Error) {
    const request = req as http.IncomingMessage & { body?: unknown; [PRE_READ_BODY_ERROR]?: Error };
    request.body = body;
    if (error) request[PRE_READ_BODY_ERROR] = error;
    deps.app(req, res);
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) {
    // body-parser decodes with iconv, which drops a byte-order mark.
    const decoded = raw.toString('utf8');
    const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
    const parsed = parseJson(text);
    if (parsed instanceof Error) return fallBack(req, res, undefined, parsed);
    const body = parsed as Record<string, unknown> | unknown[];
    if (Array.isArray(body)) return fallBack(req, res, body);
    const { query, operationName, variables, extensions } = body;
    if (typeof query !== 'string' || query === '') return fallBack(req, res, body);
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return fallBack(req, res, body);
    if (variables !== undefined && variables !== null && !isRecord(variables)) return fallBack(req, res, body);
    if (extensions !== undefined && extensions !== null && (!isRecord(extensions) || 'persistedQuery' in extensions)) return fallBack(req, res, body);
    const contentType = contentTypeFor(req.headers.accept);
    if (contentType === null) return fallBack(req, res, body);
    const executor = deps.executor();
    const known = executor.knownOperation(query, operationName as string | undefined);
    if (!known) return fallBack(req, res, body);
    const variableValues = (variables ?? undefined) as Record<string, unknown> | undefined;
    if (executor.variableErrors(known.compiled, variableValues)) return fallBack(req, res, body);
    const authorization = req.headers.authorization || undefined;
    let viewer: Viewer;
    try {
      viewer = await deps.verifier.viewerFromAuthorization(authorization);
    } catch {
      return fallBack(req, res, body); // Express answers 401 (and charges the request to its address)
    }

    // From here on the request is answered here.
    deps.onAnswered?.();
    const type = contentType;
    const operation = known;
    const respond = (requestId: string) => {
      void answer({ req, res, body: body as Record<string, unknown>, known: operation, executor, viewer, authorization, requestId, contentType: type }).catch((error: unknown) => {
        deps.logger.error({ err: error }, 'direct path: unexpected error');
        if (!res.headersSent) writeJson(res, 500, type, '{"errors":[{"message":"Internal server error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}', true);
        else res.destroy();
      });
    };
    for (const [name, value] of securityHeaders) res.setHeader(name, value);
    if (req.headers.origin === undefined) {
      // What CORS adds to a request without Origin does not depend on the request (recorded once).
      for (const [name, value] of corsWithoutOrigin) res.setHeader(name, value);
      deps.trace(req, res, GRAPHQL_PATH, respond);
    } else {
      deps.cors(req, res, () => deps.trace(req, res, GRAPHQL_PATH, respond));
    }
  }

  async function answer(args: {
    req: http.IncomingMessage;
    res: http.ServerResponse;
    body: Record<string, unknown>;
    known: KnownOperation;
    executor: OperationExecutor;
    viewer: Viewer;
    authorization: string | undefined;
    requestId: string;
    contentType: string;
  }) {
    const { req, res, body, known, executor, viewer } = args;
    const ip = deps.protection.clientAddress(req);
    const rejection = await deps.protection.admit(isSignedIn(viewer) ? `user:${viewer.userId}` : `ip:${ip}`, [body]);
    if (rejection) {
      closeIfDraining(res);
      return deps.protection.reject(res, req.headers.accept, rejection);
    }

    const contextValue: GatewayContext = {
      viewer,
      requestId: args.requestId,
      authorization: args.authorization,
      client: { ip, userAgent: req.headers['user-agent'] },
      deadline: Date.now() + deps.requestTimeoutMs,
    };
    const request = {
      query: body.query as string,
      operationName: (body.operationName ?? undefined) as string | undefined,
      variables: (body.variables ?? undefined) as Record<string, unknown> | undefined,
      extensions: (body.extensions ?? undefined) as Record<string, unknown> | undefined,
      get http() {
        return httpRequestOf(req, body);
      },
    };
    const responseHttp = { status: undefined as number | undefined, headers: new HeaderMap() };
    const requestContext: Record<string, any> = {
      logger: deps.logger,
      schema: executor.schema,
      request,
      response: { http: responseHttp, body: undefined },
      contextValue,
      context: contextValue,
      metrics: { persistedQueryHit: false, persistedQueryRegister: false },
      overallCachePolicy: newCachePolicy(),
      requestIsBatched: false,
      queryHash: known.queryHash,
      source: request.query,
      document: known.document,
      operation: known.operation,
      operationName: known.operation.name?.value ?? null,
    };

    const listeners: Listener[] = [];
    for (const plugin of deps.plugins) {
      const listener = await plugin.requestDidStart?.(requestContext as never);
      if (listener) listeners.push(listener);
    }
    const hook = (name: HookName) => callHooks(listeners, name, requestContext);
    let errors: readonly unknown[] | undefined;
    let data: unknown;
    let extensions: Record<string, unknown> | undefined;
    let failed = false;
    try {
      await hook('didResolveSource');
      await hook('didResolveOperation');
    } catch (error) {
      errors = [error];
      failed = true;
    }
    if (!failed) {
      const executionListeners = listeners.some((listener) => listener.executionDidStart)
        ? (await Promise.all(listeners.map((listener) => listener.executionDidStart?.(requestContext as never)))).filter(Boolean)
        : [];
      const result = await executor.run(known.compiled, requestContext as never, deps.serviceMap(executor));
      ({ errors, data, extensions } = result as { errors?: readonly unknown[]; data?: unknown; extensions?: Record<string, unknown> });
      if (errors?.length === 0) errors = undefined;
      if (errors) {
        requestContext.errors = errors;
        await hook('didEncounterErrors');
      }
      if (executionListeners.length > 0) await Promise.all(executionListeners.map((listener) => listener!.executionDidEnd?.()));
    } else {
      requestContext.errors = errors;
      await hook('didEncounterErrors');
    }

    let formatted: GraphQLFormattedError[] | undefined;
    if (errors) {
      const { formatted: list, http } = formatErrors(errors, deps.formatError);
      formatted = list;
      if (http.status) responseHttp.status = http.status;
      for (const [name, value] of http.headers) responseHttp.headers.set(name, value);
      // Apollo Server: errors without data are a 400 (status400ForVariableCoercionErrors), or a 500 when the pipeline failed.
      if (!responseHttp.status && (failed || data === undefined)) responseHttp.status = failed ? 500 : 400;
    }
    const singleResult = failed ? { errors: formatted } : { errors: formatted, data, extensions };
    requestContext.response.body = { kind: 'single', singleResult };
    // Apollo Server's cache-control plugin: the policy the subgraphs' Cache-Control left, when nothing failed.
    const policy = requestContext.overallCachePolicy.policyIfCacheable();
    responseHttp.headers.set('cache-control', policy && !formatted ? `max-age=${policy.maxAge}, ${policy.scope.toLowerCase()}` : 'no-store');
    await hook('willSendResponse');

    for (const [name, value] of responseHttp.headers) res.setHeader(name, value);
    closeIfDraining(res);
    const json = JSON.stringify(failed ? { errors: formatted } : { errors: formatted, data, extensions });
    writeJson(res, responseHttp.status ?? 200, responseHttp.headers.get('content-type') ?? args.contentType, json, true);
  }

  /** As on the Express path (closeConnectionsWhileDraining): a gateway that drains asks clients to reconnect elsewhere. */
  function closeIfDraining(res: http.ServerResponse) {
    if (deps.readiness.draining) res.setHeader('connection', 'close');
  }

  return function handle(req, res) {
    if (!eligible(req)) return deps.app(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    req.once('end', () => {
      serve(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).catch((error: unknown) => {
        deps.logger.error({ err: error }, 'direct path: unexpected error');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    req.once('error', () => res.destroy());
  };
}

/**
 * Writes a JSON body, with Apollo Server's trailing newline when `newline` is set: encoded once
 * into one buffer (appending "\n" to an 88 KB string would copy it before it is encoded).
 */
type Listener = GraphQLRequestListener<GatewayContext>;
type HookName = 'didResolveSource' | 'didResolveOperation' | 'didEncounterErrors' | 'willSendResponse';

/** Calls one hook of every listener, as Apollo Server does (together), awaiting only what returns a promise. */
function callHooks(listeners: readonly Listener[], name: HookName, requestContext: unknown): Promise<unknown> | undefined {
  let pending: Promise<unknown>[] | undefined;
  for (const listener of listeners) {
    const hook = listener[name] as ((context: unknown) => unknown) | undefined;
    if (!hook) continue;
    const result = hook.call(listener, requestContext);
    if (result && typeof (result as Promise<unknown>).then === 'function') (pending ??= []).push(result as Promise<unknown>);
  }
  return pending && Promise.all(pending);
}

function writeJson(res: http.ServerResponse, status: number, contentType: string, json: string, newline = false) {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  if (json.length < 16_384) {
    // Small answers: copying the string costs less than a buffer of their own.
    const text = newline ? `${json}\n` : json;
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
    return;
  }
  const length = Buffer.byteLength(json);
  const body = Buffer.allocUnsafe(newline ? length + 1 : length);
  body.write(json, 0, length, 'utf8');
  if (newline) body[length] = 0x0a;
  res.setHeader('content-length', body.length);
  res.end(body);
}

/** body-parser's strict JSON (objects and arrays only), or the error it would report. */
function parseJson(text: string): unknown {
  const first = /^[\x20\x09\x0a\x0d]*(.|$)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') return bodyParseError('Unexpected token in JSON body');
  try {
    return JSON.parse(text);
  } catch (error) {
    return bodyParseError((error as Error).message);
  }
}

function bodyParseError(message: string): Error {
  return Object.assign(new SyntaxError(message), { type: 'entity.parse.failed', status: 400, statusCode: 400, expose: true });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request as Apollo Server's plugins see it (`request.http`), built only when one asks. */
function httpRequestOf(req: http.IncomingMessage, body: unknown) {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return { method: 'POST', headers, search: '', body };
}

/**
 * The headers a middleware sets on a request without an Origin header (helmet's are the same for
 * every request; CORS adds only `Vary` when there is no Origin).
 */
function recordHeaders(middleware: Middleware): [string, string | number | readonly string[]][] {
  const headers = new Map<string, string | number | readonly string[]>();
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => headers.set(name.toLowerCase(), value),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
    getHeader: (name: string) => headers.get(name.toLowerCase()),
  };
  let synchronous = false;
  middleware({ method: 'POST', url: GRAPHQL_PATH, headers: {} } as http.IncomingMessage, recorder as unknown as http.ServerResponse, () => (synchronous = true));
  if (!synchronous) throw new Error('the security headers middleware must answer synchronously');
  return [...headers];
}

/** Apollo Server's cache policy (`newCachePolicy`, not exported): the most restrictive hint wins. */
function newCachePolicy() {
  return {
    maxAge: undefined as number | undefined,
    scope: undefined as 'PUBLIC' | 'PRIVATE' | undefined,
    restrict(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }) {
      if (hint.maxAge !== undefined && (this.maxAge === undefined || hint.maxAge < this.maxAge)) this.maxAge = hint.maxAge;
      if (hint.scope !== undefined && this.scope !== 'PRIVATE') this.scope = hint.scope;
    },
    replace(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }) {
      if (hint.maxAge !== undefined) this.maxAge = hint.maxAge;
      if (hint.scope !== undefined) this.scope = hint.scope;
    },
    policyIfCacheable() {
      if (this.maxAge === undefined || this.maxAge === 0) return null;
      return { maxAge: this.maxAge, scope: this.scope ?? 'PUBLIC' };
    },
  };
}
