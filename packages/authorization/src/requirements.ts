import { Kind, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

/** What one field asks of the caller; every listed condition must hold. */
export interface FieldRequirement {
  /** `Type.field`. */
  coordinate: string;
  authenticated: boolean;
  /** Alternatives: the caller needs every scope of at least one inner list. */
  scopes?: string[][];
  /** Alternatives: every policy of at least one inner list must allow. */
  policies?: string[][];
}

interface Conditions {
  authenticated: boolean;
  scopes: string[][][];
  policies: string[][][];
}

const empty = (): Conditions => ({ authenticated: false, scopes: [], policies: [] });

/**
 * Reads `@authenticated`, `@requiresScopes` and `@policy` from an SDL (a subgraph's or the
 * composed supergraph): a directive on an object type applies to every field of that type. The
 * result has one entry per field that has at least one requirement, keyed by `Type.field`.
 */
export function readRequirements(document: DocumentNode): Map<string, FieldRequirement> {
  const typeConditions = new Map<string, Conditions>();
  const fieldConditions = new Map<string, Conditions>();
  const fieldsOfType = new Map<string, Set<string>>();

  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const typeName = definition.name.value;
    const onType = typeConditions.get(typeName) ?? empty();
    addDirectives(onType, definition.directives ?? [], typeName);
    typeConditions.set(typeName, onType);
    const fields = fieldsOfType.get(typeName) ?? new Set<string>();
    for (const field of definition.fields ?? []) {
      fields.add(field.name.value);
      const coordinate = `${typeName}.${field.name.value}`;
      const onField = fieldConditions.get(coordinate) ?? empty();
      addDirectives(onField, field.directives ?? [], coordinate);
      fieldConditions.set(coordinate, onField);
    }
    fieldsOfType.set(typeName, fields);
  }

  const result = new Map<string, FieldRequirement>();
  for (const [typeName, fields] of fieldsOfType) {
    const onType = typeConditions.get(typeName) ?? empty();
    for (const field of fields) {
      const coordinate = `${typeName}.${field}`;
      const onField = fieldConditions.get(coordinate) ?? empty();
      const scopes = [...onType.scopes, ...onField.scopes];
      const policies = [...onType.policies, ...onField.policies];
      const authenticated = onType.authenticated || onField.authenticated || scopes.length > 0 || policies.length > 0;
      if (!authenticated) continue;
      result.set(coordinate, {
        coordinate,
        authenticated,
        ...(scopes.length ? { scopes: combine(scopes) } : {}),
        ...(policies.length ? { policies: combine(policies) } : {}),
      });
    }
  }
  return result;
}

/** The type-level requirement of an object type (applies to its entity references too). */
export function readTypeRequirement(document: DocumentNode, typeName: string): FieldRequirement | undefined {
  const conditions = empty();
  for (const definition of document.definitions) {
    if ((definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) && definition.name.value === typeName) {
      addDirectives(conditions, definition.directives ?? [], typeName);
    }
  }
  const authenticated = conditions.authenticated || conditions.scopes.length > 0 || conditions.policies.length > 0;
  if (!authenticated) return undefined;
  return {
    coordinate: typeName,
    authenticated,
    ...(conditions.scopes.length ? { scopes: combine(conditions.scopes) } : {}),
    ...(conditions.policies.length ? { policies: combine(conditions.policies) } : {}),
  };
}

function addDirectives(into: Conditions, directives: readonly ConstDirectiveNode[], where: string) {
  for (const directive of directives) {
    const name = directive.name.value;
    if (name === 'authenticated') into.authenticated = true;
    else if (name === 'requiresScopes') into.scopes.push(listOfLists(directive, 'scopes', where));
    else if (name === 'policy') into.policies.push(listOfLists(directive, 'policies', where));
  }
}

function listOfLists(directive: ConstDirectiveNode, argument: string, where: string): string[][] {
  const value = directive.arguments?.find((arg) => arg.name.value === argument)?.value;
  const bad = () => new Error(`@${directive.name.value} on ${where}: "${argument}" must be a non-empty list of non-empty lists of strings, e.g. [["tasks:write"]].`);
  if (!value || value.kind !== Kind.LIST || value.values.length === 0) throw bad();
  return value.values.map((inner: ConstValueNode) => {
    if (inner.kind !== Kind.LIST || inner.values.length === 0) throw bad();
    return inner.values.map((item) => {
      if (item.kind !== Kind.STRING || item.value === '') throw bad();
      return item.value;
    });
  });
}

/**
 * Two directives (type and field) both apply: (a1 or a2) and (b1 or b2) becomes
 * (a1+b1 or a1+b2 or a2+b1 or a2+b2).
 */
function combine(groups: string[][][]): string[][] {
  let alternatives: string[][] = [[]];
  for (const group of groups) {
    alternatives = alternatives.flatMap((prefix) => group.map((alternative) => [...new Set([...prefix, ...alternative])]));
  }
  return alternatives;
}
