import {
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** What `@cost` / `@listSize` (federation v2.9, `https://specs.apollo.dev/cost/v0.1`) say about one field. */
interface FieldCost {
  weight?: number;
  /** `@cost` on arguments: added when the argument is given. */
  argumentWeights?: Map<string, number>;
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

export interface CostDirectives {
  /** `Type.field` -> its declarations. */
  fields: Map<string, FieldCost>;
  /** `@cost` on object, scalar and enum types. */
  types: Map<string, number>;
}

export interface CostOptions {
  /** Size assumed for a list field that declares neither `assumedSize` nor slicing arguments. */
  defaultListSize: number;
}

/**
 * Reads the `@cost` and `@listSize` declarations the composed supergraph carries (composition
 * keeps them; the API schema the gateway executes against drops them). Honours a renaming
 * import in the supergraph's `@link` to the cost spec.
 */
export function readCostDirectives(supergraphSdl: string): CostDirectives {
  const document = parse(supergraphSdl, { noLocation: true });
  let costName = 'cost';
  let listSizeName = 'listSize';
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      const url = argument(link, 'url');
      if (link.name.value !== 'link' || url?.kind !== Kind.STRING || !url.value.includes('specs.apollo.dev/cost/')) continue;
      const imports = argument(link, 'import');
      for (const entry of imports?.kind === Kind.LIST ? imports.values : []) {
        if (entry.kind !== Kind.OBJECT) continue;
        const name = entry.fields.find((field) => field.name.value === 'name')?.value;
        const as = entry.fields.find((field) => field.name.value === 'as')?.value;
        if (name?.kind !== Kind.STRING || as?.kind !== Kind.STRING) continue;
        if (name.value === '@cost') costName = as.value.replace(/^@/, '');
        if (name.value === '@listSize') listSizeName = as.value.replace(/^@/, '');
      }
    }
  }

  const fields = new Map<string, FieldCost>();
  const types = new Map<string, number>();
  for (const definition of document.definitions) {
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
      definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
      definition.kind === Kind.INTERFACE_TYPE_EXTENSION
    ) {
      const typeWeight = weightOf(definition.directives, costName);
      if (typeWeight !== undefined) types.set(definition.name.value, typeWeight);
      for (const field of definition.fields ?? []) {
        const declared: FieldCost = {};
        const weight = weightOf(field.directives, costName);
        if (weight !== undefined) declared.weight = weight;
        for (const arg of field.arguments ?? []) {
          const argWeight = weightOf(arg.directives, costName);
          if (argWeight === undefined) continue;
          declared.argumentWeights ??= new Map();
          declared.argumentWeights.set(arg.name.value, argWeight);
        }
        const listSize = field.directives?.find((directive) => directive.name.value === listSizeName);
        if (listSize) {
          const assumed = argument(listSize, 'assumedSize');
          if (assumed?.kind === Kind.INT) declared.assumedSize = Number(assumed.value);
          const slicing = stringList(argument(listSize, 'slicingArguments'));
          if (slicing) declared.slicingArguments = slicing;
          const sized = stringList(argument(listSize, 'sizedFields'));
          if (sized) declared.sizedFields = sized;
        }
        if (Object.keys(declared).length > 0) fields.set(`${definition.name.value}.${field.name.value}`, declared);
      }
    } else if (
      definition.kind === Kind.SCALAR_TYPE_DEFINITION ||
      definition.kind === Kind.ENUM_TYPE_DEFINITION
    ) {
      const typeWeight = weightOf(definition.directives, costName);
      if (typeWeight !== undefined) types.set(definition.name.value, typeWeight);
    }
  }
  return { fields, types };
}

function argument(directive: ConstDirectiveNode, name: string) {
  return directive.arguments?.find((arg) => arg.name.value === name)?.value;
}

function weightOf(directives: readonly ConstDirectiveNode[] | undefined, costName: string): number | undefined {
  const cost = directives?.find((directive) => directive.name.value === costName);
  const weight = cost && argument(cost, 'weight');
  return weight?.kind === Kind.INT ? Number(weight.value) : undefined;
}

function stringList(value: ValueNode | undefined): string[] | undefined {
  if (value?.kind !== Kind.LIST) return undefined;
  return value.values.flatMap((entry) => (entry.kind === Kind.STRING ? [entry.value] : []));
}

/** Did the estimate read a variable (a slicing argument given as `$first`)? Then it is per request. */
export interface CostEstimate {
  cost: number;
  usesVariables: boolean;
}

/**
 * Static cost of the costliest operation of a document, in the model of the cost spec that
 * `@cost` / `@listSize` come from: an object (or interface, union) field costs 1, a scalar or
 * enum 0, a root mutation field 10, unless `@cost(weight)` on the field or its type says
 * otherwise; `@cost` on a given argument adds its weight; a list multiplies what it holds by its
 * size, read from the slicing argument (`first`), else `assumedSize`, else `defaultListSize`;
 * `sizedFields` hands that size to the named child lists (`edges` of a connection).
 */
export function estimateCost(
  schema: GraphQLSchema,
  directives: CostDirectives,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  options: CostOptions,
): CostEstimate {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let usesVariables = false;
  let highest = 0;

  for (const operation of document.definitions) {
    if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
    const root = rootType(schema, operation);
    if (!root) continue;
    const variableDefaults = defaultsOf(operation);

    const sizeFromArgument = (node: FieldNode, field: GraphQLField<unknown, unknown>, names: readonly string[]) => {
      let size: number | undefined;
      for (const name of names) {
        let value: unknown;
        const given = node.arguments?.find((arg) => arg.name.value === name)?.value;
        if (given?.kind === Kind.INT) value = Number(given.value);
        else if (given?.kind === Kind.VARIABLE) {
          usesVariables = true;
          value = variables?.[given.name.value] ?? variableDefaults.get(given.name.value);
        } else if (!given) value = field.args.find((arg) => arg.name === name)?.defaultValue;
        if (typeof value === 'number' && Number.isFinite(value)) size = Math.max(size ?? 0, value);
      }
      return size;
    };

    const selectionCost = (
      parent: GraphQLCompositeType,
      selectionSet: SelectionSetNode,
      sizedChildren: ReadonlyMap<string, number> | undefined,
      visiting: Set<string>,
    ): number => {
      let total = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          total += fieldCost(parent, selection, sizedChildren?.get(selection.name.value), visiting);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
          if (type && isCompositeType(type)) total += selectionCost(type, selection.selectionSet, sizedChildren, visiting);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // A fragment that spreads itself is invalid (validation rejects it); don't loop on it.
          if (!fragment || visiting.has(name)) continue;
          const type = schema.getType(fragment.typeCondition.name.value);
          if (!type || !isCompositeType(type)) continue;
          visiting.add(name);
          total += selectionCost(type, fragment.selectionSet, sizedChildren, visiting);
          visiting.delete(name);
        }
      }
      return total;
    };

    const fieldCost = (parent: GraphQLCompositeType, node: FieldNode, sizeFromParent: number | undefined, visiting: Set<string>): number => {
      if (node.name.value.startsWith('__')) return 0; // __typename, introspection
      if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
      const field = parent.getFields()[node.name.value];
      if (!field) return 0; // unknown fields fail validation
      const declared = directives.fields.get(`${parent.name}.${field.name}`);
      const named = getNamedType(field.type);
      let own = declared?.weight ?? directives.types.get(named.name);
      if (own === undefined) own = parent === schema.getMutationType() ? 10 : isCompositeType(named) ? 1 : 0;
      let argumentsCost = 0;
      for (const arg of node.arguments ?? []) argumentsCost += declared?.argumentWeights?.get(arg.name.value) ?? 0;

      const declaredSize =
        (declared?.slicingArguments && sizeFromArgument(node, field, declared.slicingArguments)) ?? declared?.assumedSize;
      let sizedChildren: Map<string, number> | undefined;
      if (declared?.sizedFields) {
        const size = declaredSize ?? options.defaultListSize;
        sizedChildren = new Map(declared.sizedFields.map((name) => [name, size]));
      }
      const children = node.selectionSet && isCompositeType(named) ? selectionCost(named, node.selectionSet, sizedChildren, visiting) : 0;
      const isList = isListType(getNullableType(field.type));
      if (!isList) return argumentsCost + own + children;
      const size = sizeFromParent ?? (declared?.sizedFields ? undefined : declaredSize) ?? options.defaultListSize;
      return argumentsCost + size * (own + children);
    };

    const cost = selectionCost(root, operation.selectionSet, undefined, new Set());
    highest = Math.max(highest, cost);
  }
  return { cost: highest, usesVariables };
}

function rootType(schema: GraphQLSchema, operation: OperationDefinitionNode) {
  if (operation.operation === 'query') return schema.getQueryType();
  if (operation.operation === 'mutation') return schema.getMutationType();
  return schema.getSubscriptionType();
}

function defaultsOf(operation: OperationDefinitionNode): Map<string, unknown> {
  const defaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    const value = definition.defaultValue;
    if (value?.kind === Kind.INT) defaults.set(definition.variable.name.value, Number(value.value));
  }
  return defaults;
}
