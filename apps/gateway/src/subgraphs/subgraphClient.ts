import { EventEmitter } from 'node:events';
import { Agent } from 'undici';
import CircuitBreaker from 'opossum';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayCacheHint, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { Kind, parse, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { GatewayContext } from '../server';

export interface SubgraphClientOptions {
  /** Whole budget of one subgraph fetch, retries included (ms). Shorter than the gateway's request timeout. */
  timeoutMs: number;
  /** Extra attempts for queries that failed to connect or got 502/503/504; mutations are never retried. */
  retries: number;
  /** Delay before the first retry, doubled for each next one (ms). */
  retryBackoffMs: number;
  /** Keep-alive connections per subgraph origin. */
  maxConnections: number;
  circuit: {
    /** Failure rate (percent) over the rolling window that opens the circuit. */
    errorThresholdPercentage: number;
    /** Fetches in the window before the rate counts. */
    volumeThreshold: number;
    /** Time the circuit stays open before one trial fetch is let through (ms). */
    resetTimeoutMs: number;
    /** Rolling window of the failure rate (ms). */
    windowMs: number;
  };
}

export const DEFAULT_SUBGRAPH_CLIENT_OPTIONS: SubgraphClientOptions = {
  // Above the slowest operation by design: signUp waits up to 10 s for the profile (SIGN_UP_PROFILE_TIMEOUT_MS).
  timeoutMs: 15_000,
  retries: 2,
  retryBackoffMs: 25,
  maxConnections: 128,
  circuit: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 5_000, windowMs: 10_000 },
};

/** How a subgraph fetch ended, for metrics and logs. */
export type FetchOutcome = 'success' | 'graphql-errors' | 'timeout' | 'unreachable' | 'bad-response' | 'circuit-open';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Hook points of the subgraph client. Metrics and tracing plug in here; they must not throw.
 * `onFetch` runs once per fetch (after retries), `onCircuit` when a subgraph's circuit changes state.
 */
export interface SubgraphClientHooks {
  /** Before each attempt: add headers (e.g. `traceparent`). */
  onRequest?: (subgraph: string, headers: { set(name: string, value: string): void }, context: Partial<GatewayContext>) => void;
  onFetch?: (subgraph: string, durationMs: number, outcome: FetchOutcome, attempts: number) => void;
  onCircuit?: (subgraph: string, state: CircuitState) => void;
}

/** Per-request deadline, set by the gateway from its own request timeout. */
export interface RequestDeadline {
  /** Epoch ms after which no subgraph fetch of this request may run. */
  deadline?: number;
}

class SubgraphFailure extends Error {
  constructor(
    readonly outcome: Exclude<FetchOutcome, 'success' | 'graphql-errors'>,
    message: string,
    readonly retryable: boolean,
    /** False for answers that say the request was wrong (4xx), not that the subgraph is unwell. */
    readonly countsForCircuit = true,
  ) {
    super(message);
  }
}

/**
 * The time budget of one subgraph fetch, retries included. undici's `request` takes an
 * EventEmitter as its abort signal: far cheaper per fetch than an AbortSignal (a profile of the
 * federation benchmark put AbortSignal creation at ~3 % of the gateway's CPU).
 */
class FetchBudget extends EventEmitter {
  aborted = false;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly ms: number) {
    super();
    this.timer = setTimeout(() => {
      this.aborted = true;
      this.emit('abort');
    }, ms);
  }

  done() {
    clearTimeout(this.timer);
  }
}

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>;

/**
 * The gateway's client for one subgraph: a keep-alive connection pool, a time budget per fetch
 * (bounded by the request's own deadline), retries for queries only, and a circuit breaker.
 * A failed fetch is answered as a GraphQL error result rather than thrown: the executor then
 * adds `serviceName` and the path, and keeps the data of every other fetch (partial data).
 *
 * It speaks GraphQL over HTTP itself, on undici's `request` (no WHATWG fetch, no web streams):
 * the same POST body, headers and error semantics as Apollo's RemoteGraphQLDataSource, at a
 * fraction of the CPU per fetch (docs/benchmarks.md).
 */
export class SubgraphDataSource implements GraphQLDataSource<GatewayContext & RequestDeadline> {
  private readonly breaker: CircuitBreaker<[ProcessOptions, FetchBudget, { attempts: number }], GatewayGraphQLResponse>;
  private readonly origin: string;
  private readonly path: string;

  constructor(
    readonly name: string,
    readonly url: string,
    private readonly options: SubgraphClientOptions,
    private readonly agent: Agent,
    private readonly hooks: SubgraphClientHooks,
  ) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.path = `${parsed.pathname}${parsed.search}`;
    this.breaker = new CircuitBreaker((processOptions, signal, counter) => this.processWithRetries(processOptions, signal, counter), {
      timeout: false, // the fetch's own signal bounds it
      errorThresholdPercentage: options.circuit.errorThresholdPercentage,
      volumeThreshold: options.circuit.volumeThreshold,
      resetTimeout: options.circuit.resetTimeoutMs,
      rollingCountTimeout: options.circuit.windowMs,
      rollingCountBuckets: 10,
      // Only unavailability counts: a GraphQL error answer is a healthy subgraph saying no.
      errorFilter: (error: unknown) => !(error instanceof SubgraphFailure && error.countsForCircuit),
    });
    this.breaker.on('open', () => hooks.onCircuit?.(name, 'open'));
    this.breaker.on('halfOpen', () => hooks.onCircuit?.(name, 'half-open'));
    this.breaker.on('close', () => hooks.onCircuit?.(name, 'closed'));
  }

  get circuitState(): CircuitState {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  /** What the subgraph learns of the client: its token (each subgraph verifies it), request id, address, agent. */
  private forwardHeaders(headers: Record<string, string>, context: Partial<GatewayContext>) {
    if (!('requestId' in context) || !context.requestId) return; // health checks have no request context
    if (context.authorization) headers.authorization = context.authorization;
    headers['x-request-id'] = context.requestId;
    if (context.client?.ip) headers['x-forwarded-for'] = context.client.ip;
    if (context.client?.userAgent) headers['user-agent'] = context.client.userAgent;
  }

  async process(processOptions: ProcessOptions): Promise<GatewayGraphQLResponse> {
    const started = performance.now();
    const requestDeadline = 'deadline' in processOptions.context ? processOptions.context.deadline : undefined;
    const budget = Math.min(this.options.timeoutMs, requestDeadline === undefined ? Infinity : requestDeadline - Date.now());
    const counter = { attempts: 0 };
    let outcome: FetchOutcome = 'success';
    let fetchBudget: FetchBudget | undefined;
    try {
      if (budget <= 0) throw new SubgraphFailure('timeout', `the request's deadline passed before ${this.name} was called`, false);
      fetchBudget = new FetchBudget(budget);
      const response = await this.breaker.fire(processOptions, fetchBudget, counter);
      if (response.errors?.length) outcome = 'graphql-errors';
      return response;
    } catch (error) {
      const failure = this.toFailure(error, budget);
      outcome = failure.outcome;
      return this.failureResponse(failure, processOptions);
    } finally {
      fetchBudget?.done();
      this.hooks.onFetch?.(this.name, performance.now() - started, outcome, counter.attempts);
    }
  }

  private async processWithRetries(processOptions: ProcessOptions, signal: FetchBudget, counter: { attempts: number }): Promise<GatewayGraphQLResponse> {
    const retries = isQuery(documentOf(processOptions), processOptions.request.query) ? this.options.retries : 0;
    for (let attempt = 0; ; attempt += 1) {
      counter.attempts = attempt + 1;
      try {
        return await this.attempt(processOptions, signal);
      } catch (error) {
        const failure = this.toFailure(error, 0);
        if (!failure.retryable || attempt >= retries || signal.aborted) throw failure;
        const delay = this.options.retryBackoffMs * 2 ** attempt;
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (signal.aborted) throw new SubgraphFailure('timeout', `${this.name} did not answer within ${Math.round(signal.ms)} ms`, false);
      }
    }
  }

  /** One POST of the fetch, as Apollo's RemoteGraphQLDataSource sends it; throws on transport or HTTP failure. */
  private async attempt(processOptions: ProcessOptions, signal: FetchBudget): Promise<GatewayGraphQLResponse> {
    const { request, context } = processOptions;
    if (!request.query) throw new Error('Missing query');
    const headers: Record<string, string> = {};
    if (request.http?.headers) for (const [name, value] of request.http.headers) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    this.forwardHeaders(headers, context);
    this.hooks.onRequest?.(this.name, { set: (name, value) => (headers[name.toLowerCase()] = value) }, context);
    const response = await this.agent.request({
      origin: this.origin,
      path: this.path,
      method: 'POST',
      headers,
      body: requestBody(request),
      signal,
    });
    const contentType = headerValue(response.headers['content-type']);
    const isJson = contentType !== undefined && (contentType.startsWith('application/json') || contentType.startsWith('application/graphql-response+json'));
    if (response.statusCode < 200 || response.statusCode > 299) {
      const text = await response.body.text();
      throw Object.assign(new Error(`${response.statusCode}`), { extensions: { response: { url: this.url, status: response.statusCode, body: text } } });
    }
    const parsed: unknown = isJson ? await response.body.json() : await response.body.text();
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`Expected JSON response body, but received: ${String(parsed).slice(0, 200)}`);
    }
    this.restrictCachePolicy(processOptions, headerValue(response.headers['cache-control']));
    return parsed as GatewayGraphQLResponse;
  }

  /** The subgraph's Cache-Control narrows the operation's cache policy, as with Apollo's data source. */
  private restrictCachePolicy(processOptions: ProcessOptions, cacheControl: string | undefined) {
    if (!('incomingRequestContext' in processOptions)) return; // health checks and schema loading
    const policy = processOptions.incomingRequestContext?.overallCachePolicy;
    if (!policy || !('restrict' in policy)) return;
    const hint: GatewayCacheHint = { maxAge: 0 };
    for (const directive of (cacheControl ?? '').split(',')) {
      const [name, value] = directive.trim().toLowerCase().split('=', 2);
      if (name === 'max-age' && value && /^[0-9]+$/.test(value)) hint.maxAge = Number(value);
      else if (name === 'private') hint.scope = 'PRIVATE';
      else if (name === 'public') hint.scope = 'PUBLIC';
    }
    policy.restrict(hint);
  }

  private toFailure(error: unknown, budget: number): SubgraphFailure {
    if (error instanceof SubgraphFailure) return error;
    const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string; name?: string; message?: string }; extensions?: { response?: { status?: number } } };
    if (err?.code === 'EOPENBREAKER') return new SubgraphFailure('circuit-open', `the circuit to ${this.name} is open after repeated failures`, false);
    if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError' || err?.name === 'AbortError') {
      return new SubgraphFailure('timeout', `${this.name} did not answer within ${budget > 0 ? `${Math.round(budget)} ms` : 'its time budget'}`, false);
    }
    const status = err?.extensions?.response?.status;
    if (typeof status === 'number') {
      return new SubgraphFailure('bad-response', `${this.name} answered HTTP ${status}`, status === 502 || status === 503 || status === 504, status >= 500);
    }
    const code = err?.cause?.code ?? err?.code;
    if (code && /^(ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|UND_ERR_SOCKET|UND_ERR_CLOSED|UND_ERR_CONNECT_TIMEOUT)$/.test(code)) {
      return new SubgraphFailure('unreachable', `${this.name} cannot be reached (${code})`, true);
    }
    if (err instanceof SyntaxError || /Expected JSON/.test(err?.message ?? '')) {
      return new SubgraphFailure('bad-response', `${this.name} answered something that is not GraphQL`, false);
    }
    return new SubgraphFailure('unreachable', `${this.name} cannot be reached (${err?.cause?.message ?? err?.message ?? 'unknown error'})`, true);
  }

  /**
   * The failure as a GraphQL result: one error per top-level field of the fetch (its path), or
   * per entity for an `_entities` fetch (the executor maps `_entities.i` to the entity's path).
   */
  private failureResponse(failure: SubgraphFailure, processOptions: ProcessOptions): GatewayGraphQLResponse {
    const code = failure.outcome === 'timeout' ? 'SUBGRAPH_TIMEOUT' : 'SUBGRAPH_UNAVAILABLE';
    const message = `The ${this.name} subgraph is unavailable: ${failure.message}.`;
    const extensions = { code, serviceName: this.name, reason: failure.outcome };
    const operation = operationOf(documentOf(processOptions));
    const fields = operation ? topLevelFields(operation.selectionSet) : [];
    if (fields[0] === '_entities' && operation) {
      const representations = processOptions.request.variables?.representations;
      const count = Array.isArray(representations) ? representations.length : 1;
      const field = firstEntityField(operation.selectionSet);
      return {
        errors: Array.from({ length: count }, (_, index) => ({
          message,
          path: field ? ['_entities', index, field] : ['_entities', index],
          extensions,
        })) as never,
      };
    }
    const paths = fields.length ? fields.map((field) => [field]) : [undefined];
    return { errors: paths.map((path) => ({ message, ...(path ? { path } : {}), extensions })) as never };
  }

  /** A cheap reachability probe (`{ __typename }`) for readiness, outside the circuit breaker. */
  async probe(timeoutMs: number): Promise<void> {
    const response = await this.agent.request({
      origin: this.origin,
      path: this.path,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: '{ __typename }' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump().catch(() => undefined);
    if (response.statusCode < 200 || response.statusCode > 299) throw new Error(`HTTP ${response.statusCode}`);
  }

  shutdown() {
    this.breaker.shutdown();
  }
}

const MAX_PARSED_FETCHES = 1_000;
// The planner sends a small set of distinct operations to each subgraph: parse each once.
const parsedFetches = new Map<string, DocumentNode | undefined>();

/** The fetch's operation: the executor's document when it passes one, else its query text parsed once. */
function documentOf(options: ProcessOptions): DocumentNode | undefined {
  if ('document' in options && options.document) return options.document;
  const query = options.request.query;
  if (!query) return undefined;
  if (parsedFetches.has(query)) return parsedFetches.get(query);
  let document: DocumentNode | undefined;
  try {
    document = parse(query);
  } catch {
    document = undefined;
  }
  if (parsedFetches.size >= MAX_PARSED_FETCHES) parsedFetches.delete(parsedFetches.keys().next().value as string);
  parsedFetches.set(query, document);
  return document;
}

// The planner sends a few distinct operations: each one's JSON string is encoded once.
const encodedQueries = new Map<string, string>();

/**
 * The POST body Apollo's data source sends, `JSON.stringify({ query, variables, operationName, ... })`
 * (same keys, same order), without escaping the same operation text again for every fetch.
 */
function requestBody(request: ProcessOptions['request']): string {
  const { http: _http, query, ...rest } = request;
  let encoded = encodedQueries.get(query!);
  if (encoded === undefined) {
    encoded = JSON.stringify(query);
    if (encodedQueries.size >= MAX_PARSED_FETCHES) encodedQueries.delete(encodedQueries.keys().next().value as string);
    encodedQueries.set(query!, encoded);
  }
  const others = JSON.stringify(rest);
  return others === '{}' ? `{"query":${encoded}}` : `{"query":${encoded},${others.slice(1)}`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function operationOf(document: DocumentNode | undefined): OperationDefinitionNode | undefined {
  return document?.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
}

function isQuery(document: DocumentNode | undefined, query: string | undefined): boolean {
  const operation = operationOf(document);
  if (operation) return operation.operation === 'query';
  // Without a parsed document, only an operation that says it is a query is one.
  return /^\s*(query\b|\{)/.test(query ?? '');
}

function topLevelFields(selectionSet: SelectionSetNode): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.alias?.value ?? selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) names.push(...topLevelFields(selection.selectionSet));
  }
  return [...new Set(names)];
}

/** The first field asked of the entities (`_entities { ... on User { stats } }` -> "stats"). */
function firstEntityField(selectionSet: SelectionSetNode): string | undefined {
  const entities = selectionSet.selections.find((selection) => selection.kind === Kind.FIELD && selection.name.value === '_entities');
  if (entities?.kind !== Kind.FIELD || !entities.selectionSet) return undefined;
  const fields = topLevelFields(entities.selectionSet).filter((name) => name !== '__typename');
  return fields[0];
}

/**
 * The subgraph clients of one gateway: one data source per subgraph, sharing one undici Agent
 * (a keep-alive pool per origin, `maxConnections` each).
 */
export function createSubgraphClients(options: { client?: Partial<SubgraphClientOptions>; hooks?: SubgraphClientHooks } = {}) {
  const settings: SubgraphClientOptions = {
    ...DEFAULT_SUBGRAPH_CLIENT_OPTIONS,
    ...options.client,
    circuit: { ...DEFAULT_SUBGRAPH_CLIENT_OPTIONS.circuit, ...options.client?.circuit },
  };
  const agent = new Agent({ connections: settings.maxConnections, keepAliveTimeout: 30_000, pipelining: 1 });
  const sources = new Map<string, SubgraphDataSource>();
  return {
    settings,
    /** The data source of `name` (created on first use; a new URL replaces it). */
    get(name: string, url: string): SubgraphDataSource {
      let source = sources.get(name);
      if (!source || source.url !== url) {
        source?.shutdown();
        source = new SubgraphDataSource(name, url, settings, agent, options.hooks ?? {});
        sources.set(name, source);
      }
      return source;
    },
    all: () => [...sources.values()],
    async close() {
      for (const source of sources.values()) source.shutdown();
      await agent.close();
    },
  };
}

export type SubgraphClients = ReturnType<typeof createSubgraphClients>;
