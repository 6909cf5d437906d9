import type { Request, RequestHandler, Response } from 'express';
import { getOperationAST, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import type { GatewayContext } from '../server';
import type { SubscriptionGate } from './gate';
import type { SubscriptionPlanner } from './planner';

const BOUNDARY = 'graphql';
export const HEARTBEAT_MS = 5_000;

type Transport = 'multipart' | 'sse';

/**
 * Subscriptions over HTTP, for clients that don't speak WebSocket: Apollo's multipart protocol
 * (`Accept: multipart/mixed;subscriptionSpec=1.0`, what Apollo Client and Sandbox use) and
 * GraphQL over Server-Sent Events (`Accept: text/event-stream`). Anything else, or an operation
 * that is not a subscription, falls through to Apollo Server.
 */
export function createHttpSubscriptionHandler(deps: {
  planner: () => SubscriptionPlanner;
  gate: SubscriptionGate;
  /** The gateway's request context (verifies the bearer token; throws 401 errors). */
  buildContext: (req: Request) => Promise<GatewayContext>;
  heartbeatMs?: number;
}): RequestHandler {
  return async (req, res, next) => {
    const transport = transportFor(req.headers.accept);
    if (!transport) return next();
    const params = (req.method === 'GET' ? req.query : req.body) as Record<string, unknown> | undefined;
    const query = params?.query;
    if (typeof query !== 'string') return next();
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch {
      return next(); // Apollo Server answers parse errors in its usual shape
    }
    const operationName = typeof params?.operationName === 'string' ? params.operationName : undefined;
    if (getOperationAST(document, operationName)?.operation !== 'subscription') return next();

    const validationErrors = validate(deps.planner().schema, document);
    if (validationErrors.length > 0) return sendErrors(res, 400, validationErrors, 'GRAPHQL_VALIDATION_FAILED');
    let context: GatewayContext;
    try {
      context = await deps.buildContext(req);
    } catch (error) {
      const status = (error as GraphQLError).extensions?.http as { status?: number } | undefined;
      return sendErrors(res, status?.status ?? 401, [error as GraphQLError]);
    }
    // With gateway workers, opening waits for the primary's count: the client may leave meanwhile.
    let left = false;
    const onLeft = () => (left = true);
    res.once('close', onLeft);
    const opened = await deps.gate.open({ document, operationName, variables: parseVariables(params?.variables), context });
    res.off('close', onLeft);
    if ('errors' in opened) return sendErrors(res, 200, opened.errors);
    if (left) return void opened.iterator.return?.();

    const iterator = opened.iterator;
    const write = transport === 'multipart' ? multipartWriter(res) : sseWriter(res);
    const heartbeat = setInterval(() => write.heartbeat(), deps.heartbeatMs ?? HEARTBEAT_MS);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(heartbeat);
      void iterator.return?.();
    };
    // The client went away: stop its subscription (and the upstream one when it was the last).
    res.on('close', finish);
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || finished) break;
        write.result(next.value);
      }
    } finally {
      finish();
      write.end();
    }
  };
}

function transportFor(accept: string | undefined): Transport | undefined {
  if (!accept) return undefined;
  if (accept.includes('multipart/mixed') && accept.includes('subscriptionSpec')) return 'multipart';
  if (accept.includes('text/event-stream')) return 'sse';
  return undefined;
}

function parseVariables(raw: unknown): Record<string, unknown> {
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
}

function sendErrors(res: Response, status: number, errors: readonly GraphQLError[], code?: string) {
  res.status(status).json({
    errors: errors.map((error) => ({
      message: error.message,
      extensions: { ...(code ? { code } : {}), ...withoutHttp(error.extensions) },
    })),
  });
}

function withoutHttp(extensions: Record<string, unknown> | undefined) {
  const { http: _omit, ...rest } = extensions ?? {};
  return rest;
}

function formatResult(result: ExecutionResult) {
  return {
    ...(result.data !== undefined ? { data: result.data } : {}),
    ...(result.errors ? { errors: result.errors.map((error) => ('toJSON' in error ? error.toJSON() : error)) } : {}),
  };
}

function multipartWriter(res: Response) {
  res.writeHead(200, {
    'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  // Every part is followed at once by the boundary, so a client can parse it without waiting
  // for the next part (or heartbeat) to arrive.
  res.write(`\r\n--${BOUNDARY}`);
  const part = (body: unknown) => res.write(`\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${JSON.stringify(body)}\r\n--${BOUNDARY}`);
  return {
    result: (result: ExecutionResult) => part({ payload: formatResult(result) }),
    heartbeat: () => part({}),
    end: () => {
      if (!res.writableEnded) res.end('--\r\n');
    },
  };
}

function sseWriter(res: Response) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  return {
    result: (result: ExecutionResult) => res.write(`event: next\ndata: ${JSON.stringify(formatResult(result))}\n\n`),
    heartbeat: () => res.write(':\n\n'),
    end: () => {
      if (!res.writableEnded) res.end('event: complete\ndata:\n\n');
    },
  };
}
