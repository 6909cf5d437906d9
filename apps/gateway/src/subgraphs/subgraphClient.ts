import { Agent, fetch as undiciFetch } from 'undici';
import CircuitBreaker from 'opossum';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher } from '@apollo/utils.fetcher';
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
 * The gateway's client for one subgraph: a keep-alive connection pool, a time budget per fetch
 * (bounded by the request's own deadline), retries for queries only, and a circuit breaker.
 * A failed fetch is answered as a GraphQL error result rather than thrown: Apollo's executor
 * then adds `serviceName` and the path, and keeps the data of every other fetch (partial data).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext & RequestDeadline> {
  private readonly breaker: CircuitBreaker<[GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>, AbortSignal, { attempts: number }], GatewayGraphQLResponse>;

  constructor(
    readonly name: string,
    url: string,
    private readonly options: SubgraphClientOptions,
    private readonly agent: Agent,
    private readonly hooks: SubgraphClientHooks,
  ) {
    super({ url });
    // undici's fetch through a shared keep-alive agent; the signal of each attempt bounds it, body included.
    this.fetcher = ((input: string, init?: Record<string, unknown>) =>
      undiciFetch(input, { ...(init as object), dispatcher: this.agent } as Parameters<typeof undiciFetch>[1])) as unknown as Fetcher;
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

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>) {
    const headers = request.http?.headers;
    if (!headers) return;
    if (!('requestId' in context)) return; // health checks and schema loading have no request context
    if (context.authorization) headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
    if (context.client.ip) headers.set('x-forwarded-for', context.client.ip);
    if (context.client.userAgent) headers.set('user-agent', context.client.userAgent);
  }

  override async process(processOptions: GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>): Promise<GatewayGraphQLResponse> {
    const started = performance.now();
    const requestDeadline = 'deadline' in processOptions.context ? processOptions.context.deadline : undefined;
    const budget = Math.min(this.options.timeoutMs, requestDeadline === undefined ? Infinity : requestDeadline - Date.now());
    const counter = { attempts: 0 };
    let outcome: FetchOutcome = 'success';
    try {
      if (budget <= 0) throw new SubgraphFailure('timeout', `the request's deadline passed before ${this.name} was called`, false);
      const response = await this.breaker.fire(processOptions, AbortSignal.timeout(budget), counter);
      if (response.errors?.length) outcome = 'graphql-errors';
      return response;
    } catch (error) {
      const failure = this.toFailure(error, budget);
      outcome = failure.outcome;
      return this.failureResponse(failure, processOptions);
    } finally {
      this.hooks.onFetch?.(this.name, performance.now() - started, outcome, counter.attempts);
    }
  }

  private async processWithRetries(
    processOptions: GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>,
    signal: AbortSignal,
    counter: { attempts: number },
  ): Promise<GatewayGraphQLResponse> {
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
        if (signal.aborted) throw this.toFailure(signal.reason, 0);
      }
    }
  }

  private async attempt(
    processOptions: GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>,
    signal: AbortSignal,
  ): Promise<GatewayGraphQLResponse> {
    // Each attempt gets fresh headers (process() rebuilds request.http), and the shared signal.
    const fetcher = this.fetcher;
    const hooks = this.hooks;
    const name = this.name;
    const context = processOptions.context;
    const request = { ...processOptions.request, http: undefined };
    const scoped = Object.create(this) as SubgraphDataSource;
    scoped.fetcher = ((input: string, init?: Record<string, unknown>) => {
      const headers = (init?.headers ?? {}) as Record<string, string>;
      hooks.onRequest?.(name, { set: (key, value) => (headers[key.toLowerCase()] = value) }, context);
      return (fetcher as unknown as (input: string, init: Record<string, unknown>) => Promise<unknown>)(input, { ...init, headers, signal });
    }) as unknown as Fetcher;
    return RemoteGraphQLDataSource.prototype.process.call(scoped, { ...processOptions, request } as typeof processOptions);
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
  private failureResponse(failure: SubgraphFailure, processOptions: GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>): GatewayGraphQLResponse {
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
    const response = await undiciFetch(this.url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: '{ __typename }' }),
      dispatcher: this.agent,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  }

  shutdown() {
    this.breaker.shutdown();
  }
}

const MAX_PARSED_FETCHES = 1_000;
// The planner sends a small set of distinct operations to each subgraph: parse each once.
const parsedFetches = new Map<string, DocumentNode | undefined>();

/** The fetch's operation: the executor's document when it passes one, else its query text parsed once. */
function documentOf(options: GraphQLDataSourceProcessOptions<GatewayContext & RequestDeadline>): DocumentNode | undefined {
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
