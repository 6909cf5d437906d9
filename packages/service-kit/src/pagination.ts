import { badUserInput } from '@meridian/errors';

export const MAX_PAGE_SIZE = 100;

/** Opaque Relay cursors: base64url of the row's sortable id. */
export function encodeCursor(id: string): string {
  return Buffer.from(`c:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('c:') || decoded.length < 3) throw badUserInput(field, 'is not a valid cursor.');
  return decoded.slice(2);
}

/** Validates Relay `first`/`after` arguments. */
export function pageArgs(args: { first?: number | null; after?: string | null }, defaultSize = 20) {
  const first = args.first ?? defaultSize;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badUserInput('first', `must be between 0 and ${MAX_PAGE_SIZE}.`);
  }
  return { first, afterId: args.after ? decodeCursor(args.after) : undefined };
}

/** Builds a Relay connection from rows sorted by id. */
export function toConnection<T extends { id: string }>(page: { rows: T[]; hasNextPage: boolean; totalCount?: number }) {
  const edges = page.rows.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: page.totalCount ?? edges.length,
  };
}
