import { createHash } from 'node:crypto';
import {
  GraphQLError,
  Kind,
  Lexer,
  NoSchemaIntrospectionCustomRule,
  Source,
  TokenKind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { createError, type ErrorCode } from '@meridian/errors';
import { estimateCost, readCostDirectives, type CostDirectives } from './cost';

export interface OperationLimits {
  /** Deepest field nesting (graphql-armor's default: 6). */
  maxDepth: number;
  /** Aliases per operation (graphql-armor: 15). */
  maxAliases: number;
  /** Directives per operation (graphql-armor: 50). */
  maxDirectives: number;
  /** Lexical tokens per document (graphql-armor: 1000); counted before parsing. */
  maxTokens: number;
  /** Schema-aware cost (`@cost` / `@listSize`) of the costliest operation. */
  maxCost: number;
  /**
   * graphql-armor's schema-blind cost model (objects 2, scalars 1, x1.5 per level); 0 = off (the
   * default). Off because it grows exponentially with depth and refuses ordinary paginated
   * queries (the dashboard's board of 100 tasks scores ~14,600): `maxCost`, which reads
   * `@cost` / `@listSize` and the page sizes asked for, is the cost limit.
   */
  maxComplexity: number;
  /** Size assumed for lists with no `@listSize` and no slicing argument. */
  defaultListSize: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxDepth: 6,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1_000,
  maxCost: 5_000,
  maxComplexity: 0,
  defaultListSize: 10,
};

/** Mutations that take or hand out credentials: their own, stricter rate-limit budget. */
export const DEFAULT_AUTH_MUTATIONS: readonly string[] = [
  'signUp',
  'logIn',
  'verifyMfa',
  'refreshSession',
  'changePassword',
  'requestPasswordReset',
  'resetPassword',
  'startMfaEnrollment',
  'confirmMfaEnrollment',
  'disableMfa',
];

/** The cached judgement on one document text. */
interface Verdict {
  error?: GraphQLError;
  /** Root fields of a mutation that are auth mutations (each alias counts). */
  authFields: number;
  /** The cost depends on variables: re-estimated per request. */
  document?: DocumentNode;
  sha256?: string;
}

export interface CheckResult {
  error?: GraphQLError;
  authFields: number;
  /** sha256 (hex) of the text, computed once per cached text. */
  sha256: () => string;
}

const MAX_CACHED_CHARACTERS = 8_000_000;

/**
 * Judges operations against the limits before anything is planned or fetched: tokens (counted
 * by the lexer, before parsing), then syntax (left to the normal GraphQL error path), validation
 * against the API schema, depth, aliases, directives and cost. The verdict is cached per
 * document text (bounded by total characters), so a client repeating an operation pays a map
 * lookup; only a cost read from variables is recomputed per request.
 */
export function createOperationLimiter(options: {
  schema: () => GraphQLSchema;
  supergraphSdl: () => string;
  limits?: Partial<OperationLimits>;
  authMutations?: readonly string[];
  /** Production: "Did you mean ...?" suggestions are cut from validation messages. */
  hideSchemaDetails?: boolean;
  /** False (production): `__schema` / `__type` are refused on every transport, as Apollo Server does over HTTP. */
  introspection?: boolean;
}) {
  const limits = { ...DEFAULT_OPERATION_LIMITS, ...options.limits };
  const authMutations = new Set(options.authMutations ?? DEFAULT_AUTH_MUTATIONS);
  const validationRules = options.introspection === false ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  let current: { schema: GraphQLSchema; directives: CostDirectives; verdicts: Map<string, Verdict>; characters: number } | undefined;

  // graphql-armor's rules, told not to throw: the first rejection is kept and given our code.
  // Depth (and complexity, when on) count fields, not fragment spreads (`flattenFragments`): a client that
  // packages its selections in fragments (Apollo Client, the dashboard) asks for no more data
  // than the same selection written inline, and must not be judged deeper for it.
  const armorRules = (reject: (code: ErrorCode, error: GraphQLError) => void): ValidationRule[] => {
    const handler = (code: ErrorCode) => [(_context: unknown, error: GraphQLError) => reject(code, error)];
    return [
      maxDepthRule({ n: limits.maxDepth, flattenFragments: true, propagateOnRejection: false, onReject: handler('QUERY_TOO_DEEP') }),
      maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject: handler('TOO_MANY_ALIASES') }),
      maxDirectivesRule({ n: limits.maxDirectives, propagateOnRejection: false, onReject: handler('TOO_MANY_DIRECTIVES') }),
      ...(limits.maxComplexity > 0
        ? [costLimitRule({ maxCost: limits.maxComplexity, flattenFragments: true, propagateOnRejection: false, onReject: handler('QUERY_TOO_COSTLY') })]
        : []),
    ] as ValidationRule[];
  };

  function state() {
    const schema = options.schema();
    if (current?.schema !== schema) {
      // A new supergraph: new cost declarations, and every verdict is judged again.
      current = { schema, directives: readCostDirectives(options.supergraphSdl()), verdicts: new Map(), characters: 0 };
    }
    return current;
  }

  function judge(text: string, schema: GraphQLSchema, directives: CostDirectives, variables: Record<string, unknown> | undefined): Verdict {
    const tokens = countTokens(text, limits.maxTokens);
    if (tokens > limits.maxTokens) {
      return { error: createError('TOO_MANY_TOKENS', `The operation has more than ${limits.maxTokens} tokens.`, { limit: limits.maxTokens }), authFields: 0 };
    }
    let document: DocumentNode;
    try {
      document = parse(text, { noLocation: false });
    } catch {
      return { authFields: 0 }; // a syntax error: Apollo Server answers it in its usual shape
    }
    // The limits come before full validation: some validation rules are quadratic in the
    // number of fields, which is what a flood of aliases exploits.
    let rejected: { code: ErrorCode; error: GraphQLError } | undefined;
    validate(schema, document, armorRules((code, error) => (rejected ??= { code, error })));
    if (rejected) {
      const message = rejected.error.message.replace(/^Syntax Error: /, '');
      return { error: createError(rejected.code, message, limitExtensions(rejected.code, limits)), authFields: 0 };
    }
    const validationErrors = validate(schema, document, validationRules);
    if (validationErrors.length > 0) {
      // Validated once per text here; Apollo Server and graphql-ws would say the same, but the
      // HTTP subscription transports don't hide schema details in production.
      const first = validationErrors[0] as GraphQLError;
      const message = options.hideSchemaDetails ? first.message.replace(/ ?Did you mean(.+)\?$/, '') : first.message;
      return { error: new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }), authFields: 0 };
    }
    const estimate = estimateCost(schema, directives, document, variables, limits);
    const verdict: Verdict = { authFields: countAuthFields(document, authMutations), ...(estimate.usesVariables ? { document } : {}) };
    // A cost read from variables is judged per request (in check), never cached.
    if (!estimate.usesVariables && estimate.cost > limits.maxCost) verdict.error = costError(estimate.cost, limits.maxCost);
    return verdict;
  }

  return {
    limits,
    /** Judges one operation text; `variables` only matter when a list size is given by a variable. */
    check(text: string, variables?: Record<string, unknown>): CheckResult {
      const { schema, directives, verdicts } = state();
      let verdict = verdicts.get(text);
      if (!verdict) {
        verdict = judge(text, schema, directives, variables);
        remember(text, verdict);
      }
      if (verdict.document && !verdict.error) {
        const estimate = estimateCost(schema, directives, verdict.document, variables, limits);
        if (estimate.cost > limits.maxCost) return { error: costError(estimate.cost, limits.maxCost), authFields: verdict.authFields, sha256: () => sha256Of(text, verdict!) };
      }
      const cached = verdict;
      return { error: cached.error, authFields: cached.authFields, sha256: () => sha256Of(text, cached) };
    },
  };

  function remember(text: string, verdict: Verdict) {
    const cache = current!;
    // A document too long to count past the limit is not worth a cache slot.
    if (text.length > MAX_CACHED_CHARACTERS / 100) return;
    while (cache.characters + text.length > MAX_CACHED_CHARACTERS && cache.verdicts.size > 0) {
      const oldest = cache.verdicts.keys().next().value as string;
      cache.verdicts.delete(oldest);
      cache.characters -= oldest.length;
    }
    cache.verdicts.set(text, verdict);
    cache.characters += text.length;
  }
}

export type OperationLimiter = ReturnType<typeof createOperationLimiter>;

function sha256Of(text: string, verdict: Verdict): string {
  verdict.sha256 ??= createHash('sha256').update(text).digest('hex');
  return verdict.sha256;
}

function costError(cost: number, limit: number) {
  return createError('QUERY_TOO_COSTLY', `The operation's estimated cost ${Math.ceil(cost)} is above the limit of ${limit}.`, {
    cost: Math.ceil(cost),
    limit,
  });
}

function limitExtensions(code: ErrorCode, limits: OperationLimits): Record<string, unknown> {
  if (code === 'QUERY_TOO_DEEP') return { limit: limits.maxDepth };
  if (code === 'TOO_MANY_ALIASES') return { limit: limits.maxAliases };
  if (code === 'TOO_MANY_DIRECTIVES') return { limit: limits.maxDirectives };
  return { limit: limits.maxComplexity };
}

/** Counts lexical tokens, stopping as soon as the count passes `max`. */
function countTokens(text: string, max: number): number {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      count += 1;
      if (count > max) break;
    }
  } catch {
    // A lexical error: parsing reports it.
  }
  return count;
}

function countAuthFields(document: DocumentNode, names: ReadonlySet<string>): number {
  const fragments = new Map(
    document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])),
  );
  const count = (selectionSet: SelectionSetNode, seen: Set<string>): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) total += names.has(selection.name.value) ? 1 : 0;
      else if (selection.kind === Kind.INLINE_FRAGMENT) total += count(selection.selectionSet, seen);
      else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) continue;
        seen.add(fragment.name.value);
        total += count(fragment.selectionSet, seen);
      }
    }
    return total;
  };
  let highest = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'mutation') {
      highest = Math.max(highest, count(definition.selectionSet, new Set()));
    }
  }
  return highest;
}
