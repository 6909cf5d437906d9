import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { SupergraphConfig } from './config';

export type CompositionOutcome =
  | { ok: true; supergraphSdl: string; hints: string[] }
  | { ok: false; errors: string[] };

/** Composes the subgraph SDLs in-process (no Rover binary needed). */
export function composeSupergraph(config: SupergraphConfig): CompositionOutcome {
  const services = config.subgraphs.map((subgraph) => {
    let sdl: string;
    try {
      sdl = readFileSync(subgraph.schemaPath, 'utf8');
    } catch (error) {
      throw new Error(`subgraph "${subgraph.name}": cannot read ${subgraph.schemaPath}: ${(error as Error).message}`);
    }
    try {
      return { name: subgraph.name, url: subgraph.routingUrl, typeDefs: parse(sdl) };
    } catch (error) {
      throw new Error(`subgraph "${subgraph.name}": ${subgraph.schemaPath} is not valid GraphQL: ${(error as Error).message}`);
    }
  });
  const result = composeServices(services);
  if (result.errors) {
    return {
      ok: false,
      errors: result.errors.map((error) => {
        const code = (error.extensions?.code as string | undefined) ?? 'COMPOSITION_ERROR';
        return `[${code}] ${error.message}`;
      }),
    };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: result.hints.map((hint) => `[${hint.definition.code}] ${hint.message}`) };
}
