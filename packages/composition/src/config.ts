import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  /** Absolute path of the SDL file. */
  schemaPath: string;
}

export interface SupergraphConfig {
  /** Absolute path of supergraph.yaml. */
  configPath: string;
  subgraphs: SubgraphEntry[];
}

/** Reads a Rover-format supergraph.yaml; errors name the entry that is wrong. */
export function readSupergraphConfig(configPath: string): SupergraphConfig {
  const absolute = path.resolve(configPath);
  const raw = parseYaml(readFileSync(absolute, 'utf8')) as unknown;
  const subgraphs = (raw as { subgraphs?: unknown } | null)?.subgraphs;
  if (!subgraphs || typeof subgraphs !== 'object') throw new Error(`${absolute}: "subgraphs" must be a map of name -> { routing_url, schema }`);
  const entries = Object.entries(subgraphs as Record<string, unknown>).map(([name, value]) => {
    const entry = value as { routing_url?: unknown; schema?: { file?: unknown } } | null;
    if (typeof entry?.routing_url !== 'string') throw new Error(`${absolute}: subgraphs.${name}.routing_url must be a URL string`);
    if (typeof entry.schema?.file !== 'string') throw new Error(`${absolute}: subgraphs.${name}.schema.file must be a path`);
    return {
      name,
      routingUrl: entry.routing_url,
      schemaPath: path.resolve(path.dirname(absolute), entry.schema.file),
    };
  });
  return { configPath: absolute, subgraphs: entries };
}

/** Environment variable that overrides a subgraph's routing URL, e.g. TASK_SUBGRAPH_URL. */
export function routingUrlVariable(subgraphName: string): string {
  return `${subgraphName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SUBGRAPH_URL`;
}

/** Routing URLs from the config, each overridable by its environment variable. */
export function resolveRoutingUrls(config: SupergraphConfig, env: Record<string, string | undefined> = process.env) {
  return Object.fromEntries(config.subgraphs.map((s) => [s.name, env[routingUrlVariable(s.name)] ?? s.routingUrl]));
}
