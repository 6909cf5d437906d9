import { z } from 'zod';
import { domainEventCatalogue } from './catalogue';

/** docs/events.md, generated from the catalogue so the two cannot disagree. */
export function renderEventDocs(): string {
  const sections = Object.values(domainEventCatalogue).map((definition) => {
    const schema = z.toJSONSchema(definition.schema as z.ZodType, { unrepresentable: 'any' }) as {
      properties?: Record<string, JsonSchemaProperty>;
      required?: string[];
    };
    const rows = Object.entries(schema.properties ?? {}).map(([field, property]) => {
      const types = typeOf(property);
      const required = schema.required?.includes(field) ? 'yes' : 'no';
      return `| \`${field}\` | ${types}${property.format ? ` (${property.format})` : ''} | ${required} |`;
    });
    return [
      `## \`${definition.type}\` (v${definition.version})`,
      '',
      `Source: **${definition.source}**.${definition.description ? ` ${definition.description}` : ''}`,
      '',
      '| payload field | type | required |',
      '|---|---|---|',
      ...rows,
      '',
    ].join('\n');
  });
  return [
    '# Domain events',
    '',
    '<!-- Generated from packages/domain-events/src/catalogue.ts by `npm run docs:events`. Do not edit. -->',
    '',
    'Every event travels in an envelope: `id` (ULID, sortable), `type`, `version`, `source`,',
    '`aggregateId`, `occurredAt` (ISO-8601), optional `traceparent` (W3C trace context of the',
    'producing request) and `requestId` (its request id), and the `payload` below.',
    'Payloads are validated on publish and on consume. Events of one aggregate are delivered in',
    'order, at least once; consumers make the effect exactly-once with an inbox (docs/adr/0006).',
    '',
    ...sections,
  ].join('\n');
}

interface JsonSchemaProperty {
  type?: string | string[];
  anyOf?: { type?: string }[];
  enum?: unknown[];
  format?: string;
  items?: JsonSchemaProperty;
}

function typeOf(property: JsonSchemaProperty): string {
  if (property.enum) return property.enum.map((value) => JSON.stringify(value)).join(' \\| ');
  const base = [property.type, ...(property.anyOf ?? []).map((option) => option.type)].flat().filter(Boolean).join(' \\| ');
  // Arrays of an enum say which values they hold (e.g. roles).
  if (property.type === 'array' && property.items?.enum) return `array of ${typeOf(property.items)}`;
  return base;
}
