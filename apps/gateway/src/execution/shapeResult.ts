import type { GraphQLError } from 'graphql';
import {
  ERRORS,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  typenameFieldName,
  Variable,
  type NamedType,
  type Operation,
  type OperationElement,
  type Schema,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
// Apollo's own shaping, for the rare inputs the compiled shaper does not decide itself (below).
import { computeResponse } from '@apollo/gateway/dist/resultShaping';

/**
 * The objects of shaped results. Like Apollo's they inherit nothing (a field aliased `toString`
 * or `__proto__` is an ordinary own property), but unlike `Object.create(null)`, which V8 keeps
 * in dictionary mode, they are fast-mode objects: cheaper to build, walk and JSON.stringify
 * (~10 % of the gateway's CPU on the federation benchmark). Their prototype is an empty
 * null-prototype object rather than null; the JSON is the same.
 */
const ResultObject = function ResultObject(this: Record<string, unknown>) {} as unknown as new () => Record<string, any>;
ResultObject.prototype = Object.create(null);

export interface ShapedResult {
  data: Record<string, any> | null | undefined;
  /** Value-completion errors (null in a non-null field, invalid leaf value or `__typename`). */
  errors: GraphQLError[];
}

/** Shapes the data a plan assembled into the client's response. Throws where Apollo's shaping throws. */
export type ResultShaper = (input: Record<string, any>, variables: Record<string, any> | undefined) => ShapedResult;

/**
 * Compiles the result shaping of Apollo's `computeResponse` for one operation: keeps only the
 * fields the client asked for, in its order, under its aliases; resolves fragments and inline
 * fragments by `__typename`; applies @skip/@include; fills `__typename`; nulls what does not
 * complete and propagates nulls of non-null fields to the nearest nullable parent, with the same
 * errors and paths.
 *
 * Directives, types and type conditions are resolved once here (type conditions per `__typename`,
 * memoized per schema) instead of per value. Inputs that would trip one of Apollo's internal
 * assertions (a list where an object is expected, a non-boolean @skip variable, ...) are handed
 * to Apollo's own `computeResponse`, so even those answers are its own.
 */
export function compileResultShaper(operation: Operation): ResultShaper {
  const schema = operation.schema();
  const types = typeIndexOf(schema);
  const compiler = new ShaperCompiler(schema, types);
  const root = compiler.selectionSet(operation.selectionSet);
  const rootType = schema.schemaDefinition.rootType(operation.rootKind);
  if (!rootType) throw new Error(`The schema has no ${operation.rootKind} root type`);
  const rootInfo = types.get(rootType.name)!;
  const usesVariables = compiler.usesVariables;
  let defaults: Record<string, any> | undefined;

  return (input, variables) => {
    const run: Run = {
      types,
      errors: [],
      path: [],
      variables: undefined,
      invalid: false,
      hasErrors: false,
    };
    if (usesVariables) {
      defaults ??= operation.collectDefaultedVariableValues();
      run.variables = { __proto__: null, ...defaults, ...variables };
    }
    try {
      const data = new ResultObject();
      const bubbled = applySelectionSet(run, input, root, data, rootInfo);
      return { data: bubbled ? null : data, errors: run.errors };
    } catch (error) {
      if (error !== BAIL_OUT) throw error;
      return computeResponse({
        operation,
        variables,
        input,
        introspectionHandling: () => {
          throw new Error('introspection is not handled by the fast executor');
        },
      });
    }
  };
}

// A plain constant: the library's export is a getter on every access once compiled to CommonJS.
const TYPENAME: string = typenameFieldName;

/** Thrown when Apollo's shaping would hit an internal assertion: its own code then decides. */
const BAIL_OUT: unique symbol = Symbol('shape with Apollo');

interface TypeInfo {
  name: string;
  isObject: boolean;
  isComposite: boolean;
}

interface TypeIndex {
  get(name: string): TypeInfo | undefined;
  /** isSubtype(condition, type named `name`), false when the schema has no such type. */
  conditionApplies(condition: string, name: string): boolean;
}

const typeIndexes = new WeakMap<Schema, TypeIndex>();

/** Type facts of one API schema, looked up by name (`__typename` values come from subgraphs). */
function typeIndexOf(schema: Schema): TypeIndex {
  let index = typeIndexes.get(schema);
  if (index) return index;
  const infos = new Map<string, TypeInfo | null>();
  const conditions = new Map<string, Map<string, boolean>>();
  const lookup = (name: string): TypeInfo | undefined => {
    const known = infos.get(name);
    if (known !== undefined) return known ?? undefined;
    const type = schema.type(name);
    const info = type ? { name: type.name, isObject: isObjectType(type), isComposite: isCompositeType(type) } : null;
    if (info || infos.size < 10_000) infos.set(name, info);
    return info ?? undefined;
  };
  index = {
    get: lookup,
    conditionApplies(condition, name) {
      let answers = conditions.get(condition);
      if (!answers) conditions.set(condition, (answers = new Map()));
      let answer = answers.get(name);
      if (answer === undefined) {
        const type = schema.type(name);
        const conditionType = schema.type(condition);
        answer = Boolean(type && conditionType && isSubtype(conditionType, type));
        if (answers.size < 1_000) answers.set(name, answer);
      }
      return answer;
    },
  };
  typeIndexes.set(schema, index);
  return index;
}

/** @skip / @include of one selection: a constant or a variable name for each. */
interface Condition {
  skip: boolean | string | undefined;
  include: boolean | string | undefined;
}

type TypeStep =
  | { kind: 'nonNull'; ofType: TypeStep; text: string }
  | { kind: 'list'; ofType: TypeStep; text: string }
  | { kind: 'composite'; info: TypeInfo; text: string }
  | { kind: 'leaf'; valid: (value: unknown) => boolean; text: string };

type CompiledSelection =
  | { kind: 'typename'; condition: Condition | undefined; responseName: string }
  | { kind: 'field'; condition: Condition | undefined; responseName: string; type: TypeStep; selections: CompiledSelection[] | undefined }
  | { kind: 'fragment'; condition: Condition | undefined; typeCondition: TypeInfo | undefined; selections: CompiledSelection[] };

class ShaperCompiler {
  usesVariables = false;
  private readonly sets = new Map<SelectionSet, CompiledSelection[]>();

  constructor(
    private readonly schema: Schema,
    private readonly types: TypeIndex,
  ) {}

  selectionSet(selectionSet: SelectionSet): CompiledSelection[] {
    // Named fragments share one SelectionSet object wherever they are spread: compile it once.
    const known = this.sets.get(selectionSet);
    if (known) return known;
    const compiled: CompiledSelection[] = [];
    this.sets.set(selectionSet, compiled);
    for (const selection of selectionSet.selections()) {
      const condition = this.condition(selection.element);
      if (selection.kind === 'FieldSelection') {
        const field = selection.element;
        if (field.definition.isSchemaIntrospectionField()) throw new Error('introspection fields are not supported by the fast executor');
        if (field.name === TYPENAME) {
          compiled.push({ kind: 'typename', condition, responseName: field.responseName() });
          continue;
        }
        const subSelection = selection.selectionSet;
        compiled.push({
          kind: 'field',
          condition,
          responseName: field.responseName(),
          type: this.typeStep(field.definition.type!),
          selections: subSelection ? this.selectionSet(subSelection) : undefined,
        });
      } else {
        const typeCondition = selection.element.typeCondition;
        compiled.push({
          kind: 'fragment',
          condition,
          typeCondition: typeCondition ? this.types.get(typeCondition.name) : undefined,
          selections: this.selectionSet(selection.selectionSet),
        });
      }
    }
    return compiled;
  }

  private condition(element: OperationElement): Condition | undefined {
    const skip = element.appliedDirectivesOf(this.schema.skipDirective())[0];
    const include = element.appliedDirectivesOf(this.schema.includeDirective())[0];
    if (!skip && !include) return undefined;
    const value = (argument: unknown): boolean | string => {
      if (argument instanceof Variable) {
        this.usesVariables = true;
        return argument.name;
      }
      return argument as boolean;
    };
    return { skip: skip ? value(skip.arguments().if) : undefined, include: include ? value(include.arguments().if) : undefined };
  }

  private typeStep(type: Type): TypeStep {
    const text = String(type);
    if (isNonNullType(type)) return { kind: 'nonNull', ofType: this.typeStep(type.ofType), text };
    if (isListType(type)) return { kind: 'list', ofType: this.typeStep(type.ofType), text };
    if (isCompositeType(type)) return { kind: 'composite', info: this.types.get(type.name)!, text };
    return { kind: 'leaf', valid: this.leafValidator(type as NamedType), text };
  }

  /** `isValidLeafValue` of the federation library, specialized to one type. */
  private leafValidator(type: NamedType): (value: unknown) => boolean {
    if (isCustomScalarType(type)) return () => true;
    const schema = this.schema;
    const isBoolean = type === schema.booleanType();
    const isInt = type === schema.intType();
    const isId = type === schema.idType();
    const isFloat = type === schema.floatType();
    const enumValues = isEnumType(type) ? new Set(type.values.map((value) => value.name)) : undefined;
    const integerString = /^-?(?:0|[1-9][0-9]*)$/;
    return (value) => {
      switch (typeof value) {
        case 'boolean':
          return isBoolean;
        case 'number':
          if (!isFinite(value)) return false;
          if (isInt || isId) return Number.isSafeInteger(value) || integerString.test(String(value));
          return isFloat;
        case 'string':
          if (enumValues) return enumValues.has(value);
          return !isBoolean && !isInt && !isFloat;
        default:
          return false;
      }
    };
  }
}

interface Run {
  types: TypeIndex;
  errors: GraphQLError[];
  path: (string | number)[];
  /** `{ ...defaults, ...variables }`, only when a @skip/@include uses a variable. */
  variables: Record<string, any> | undefined;
  /** Out-values of the last `updateOutputValue` call (kept here rather than allocated per value). */
  invalid: boolean;
  hasErrors: boolean;
}

const hasOwnProperty = Object.prototype.hasOwnProperty;

function conditionValue(run: Run, value: boolean | string): boolean {
  if (typeof value === 'boolean') return value;
  const resolved = run.variables![value];
  if (typeof resolved !== 'boolean') throw BAIL_OUT;
  return resolved;
}

function isSkipped(run: Run, condition: Condition): boolean {
  if (condition.skip !== undefined && conditionValue(run, condition.skip)) return true;
  if (condition.include !== undefined && !conditionValue(run, condition.include)) return true;
  return false;
}

/** Fills `output` from `input` for one selection set; true when a null must bubble up to the parent. */
function applySelectionSet(run: Run, input: any, selections: CompiledSelection[], output: Record<string, any>, parentType: TypeInfo): boolean {
  for (const selection of selections) {
    if (selection.condition && isSkipped(run, selection.condition)) continue;
    if (selection.kind === 'fragment') {
      const typename = input[TYPENAME];
      if (typename && typeof typename !== 'string') throw BAIL_OUT;
      const condition = selection.typeCondition;
      if (condition && !run.types.conditionApplies(condition.name, typename || parentType.name)) continue;
      if (applySelectionSet(run, input, selection.selections, output, condition ?? parentType)) return true;
      continue;
    }
    const responseName = selection.responseName;
    const outputValue = output[responseName];
    let inputValue = hasOwnProperty.call(input, responseName) ? (input[responseName] ?? null) : null;
    if (selection.kind === 'typename') {
      // Root types and @interfaceObject types: the type comes from the schema, not the subgraph.
      if (outputValue === undefined) {
        if (inputValue === null && responseName !== TYPENAME) inputValue = input[TYPENAME] ?? null;
        const type = inputValue !== null && typeof inputValue === 'string' ? (run.types.get(inputValue) ?? parentType) : parentType;
        if (!type.isObject) return true;
        output[responseName] = type.name;
      }
      continue;
    }
    run.path.push(responseName);
    const updated = updateOutputValue(run, outputValue, selection.type, inputValue, selection.selections, parentType);
    output[responseName] = updated;
    run.path.pop();
    if (run.invalid) return true;
  }
  return false;
}

function describeLast(run: Run, typeText: string, parentType: TypeInfo): string {
  const element = run.path[run.path.length - 1]!;
  return typeof element === 'string' ? `field ${parentType.name}.${element}` : `array element of type ${typeText} at index ${element}`;
}

function valueError(run: Run, message: string): void {
  run.errors.push(ERRORS.INVALID_GRAPHQL.err(message, { path: Array.from(run.path) }));
}

/**
 * The completed value of one field (or list element), merged into what earlier selections of the
 * same response name produced. Sets `run.invalid` (a null in a non-null position: bubble up) and
 * `run.hasErrors` (an error was already recorded below, do not record another).
 */
function updateOutputValue(run: Run, outputValue: any, type: TypeStep, inputValue: any, selections: CompiledSelection[] | undefined, parentType: TypeInfo): any {
  run.invalid = false;
  run.hasErrors = false;
  // Already completed: a scalar seen again, or a null (any bubbling already happened).
  if (outputValue === null || (outputValue !== undefined && !selections)) return outputValue;

  switch (type.kind) {
    case 'nonNull': {
      const updated = updateOutputValue(run, outputValue, type.ofType, inputValue, selections, parentType);
      if (updated === null) {
        if (!run.hasErrors) valueError(run, `Cannot return null for non-nullable ${describeLast(run, type.ofType.text, parentType)}.`);
        run.invalid = true;
        run.hasErrors = true;
        return null;
      }
      run.invalid = false;
      run.hasErrors = false;
      return updated;
    }
    case 'list': {
      if (inputValue === null) return null;
      if (!Array.isArray(inputValue)) throw BAIL_OUT;
      if (outputValue !== undefined && (!Array.isArray(outputValue) || outputValue.length !== inputValue.length)) throw BAIL_OUT;
      let shouldNullify = false;
      let hasErrors = false;
      const updated: any[] = [];
      const path = run.path;
      for (let index = 0; index < inputValue.length; index++) {
        const item = inputValue[index];
        if (item === undefined) throw BAIL_OUT;
        path.push(index);
        updated.push(updateOutputValue(run, outputValue === undefined ? undefined : outputValue[index], type.ofType, item, selections, parentType));
        path.pop();
        // Keep going after an invalid element: every element's errors are reported.
        if (run.invalid) shouldNullify = true;
        if (run.hasErrors) hasErrors = true;
      }
      run.invalid = false;
      run.hasErrors = hasErrors;
      return shouldNullify ? null : updated;
    }
    case 'composite': {
      if (inputValue === null) return null;
      if (!selections || typeof inputValue !== 'object') throw BAIL_OUT;
      if (outputValue !== undefined && typeof outputValue !== 'object') throw BAIL_OUT;
      const typename = inputValue[TYPENAME];
      if (typename !== undefined && typeof typename !== 'string') throw BAIL_OUT;
      let objectType = type.info;
      if (typename) {
        const found = run.types.get(typename);
        if (!found || !found.isComposite) {
          // The subgraph's type name is not in the API schema (e.g. @inaccessible): never echo it.
          valueError(run, `Invalid __typename found for object at ${describeLast(run, type.text, parentType)}.`);
          run.hasErrors = true;
          return null;
        }
        objectType = found;
      }
      const object = outputValue === undefined ? new ResultObject() : outputValue;
      const bubbled = applySelectionSet(run, inputValue, selections, object, objectType);
      run.invalid = false;
      run.hasErrors = bubbled;
      return bubbled ? null : object;
    }
    case 'leaf': {
      if (inputValue === null) return null;
      if (type.valid(inputValue)) return inputValue;
      valueError(run, `Invalid value found for ${describeLast(run, type.text, parentType)}.`);
      run.hasErrors = true;
      return null;
    }
  }
}
