import { Kind, parse, type DocumentNode } from 'graphql';
import { buildSchema, operationFromDocument } from '@apollo/federation-internals';
import { computeResponse } from '@apollo/gateway/dist/resultShaping';
import { compileResultShaper } from '../src/execution/shapeResult';

/**
 * The compiled result shaping against Apollo's `computeResponse`, on data no well-behaved subgraph
 * sends: wrong types, wrong shapes, unknown or abstract `__typename`s, nulls everywhere, odd
 * variables. Both must return the same objects and errors, or throw the same error.
 */
const schema = buildSchema(`
  interface Media { id: ID! title: String! }
  type Book implements Media { id: ID! title: String! pages: Int kind: Kind rating: Float }
  type Movie implements Media { id: ID! title: String! minutes: Int! }
  type Author { id: ID! name: String! }
  union SearchResult = Book | Movie | Author
  enum Kind { PAPER EBOOK }
  scalar JSON
  type Query {
    media: [Media!]!
    search: [SearchResult]
    featured: Media
    shelves: [[Book]]
    book: Book
    extra: JSON
    ids: [ID]
  }
`);

const OPERATION = `
query Shape($flag: Boolean, $on: Boolean!, $dflt: Boolean = true) {
  __typename
  kind: __typename @include(if: $dflt)
  media { __typename id title ... on Book { pages kind } ... on Movie { minutes @include(if: $on) } }
  search { t: __typename ... on Book { id title rating } ...MediaTitle ... on Author { name } ... on Movie { title id } }
  featured { id title @skip(if: $flag) ... on Book @skip(if: $on) { pages } }
  shelves { id pages kind }
  book { ...Pages ...Pages id }
  again: book { title }
  extra
  ids
}
fragment MediaTitle on Media { title }
fragment Pages on Book { pages kind rating }
`;

function operationOf(text: string) {
  const document: DocumentNode = parse(text);
  // As Apollo's executor builds it: the operation and its fragments, unvalidated.
  return operationFromDocument(schema, { kind: Kind.DOCUMENT, definitions: document.definitions }, { validate: false });
}

const good = {
  media: [
    { __typename: 'Book', id: 'b1', title: 'Dune', pages: 412, kind: 'PAPER' },
    { __typename: 'Movie', id: 'm1', title: 'Alien', minutes: 117 },
  ],
  search: [{ __typename: 'Book', id: 'b1', title: 'Dune', rating: 4.5 }, null, { __typename: 'Author', name: 'Ann' }],
  featured: { __typename: 'Book', id: 'b1', title: 'Dune', pages: 412 },
  shelves: [[{ id: 'b1', pages: 1, kind: 'EBOOK' }], [], null, [null]],
  book: { id: 'b2', title: 'Emma', pages: 320, kind: 'PAPER', rating: 3 },
  extra: { any: ['thing', 1] },
  ids: ['1', 2, null],
};

const INPUTS: Array<[string, Record<string, unknown>]> = [
  ['well-formed data', good],
  ['an empty object', {}],
  ['nulls in non-null positions', { ...good, media: [null, { __typename: 'Book', id: 'b', title: null }] }],
  ['a null non-null root field', { ...good, media: null }],
  ['invalid leaf values', { ...good, book: { id: true, title: 7, pages: '12', kind: 'HARDCOVER', rating: 'x' }, ids: [1.5, 2 ** 60, 1e21, -0, NaN] }],
  ['numbers for Int, Float and ID edge cases', { ...good, book: { id: 12, title: 'T', pages: 2 ** 53 + 2, kind: 'EBOOK', rating: 3 }, ids: [Infinity, '007', 0] }],
  ['an unknown __typename', { ...good, featured: { __typename: 'Nope', id: 'x', title: 'X' } }],
  ['an abstract __typename', { ...good, featured: { __typename: 'Media', id: 'x', title: 'X' } }],
  ['a scalar __typename', { ...good, search: [{ __typename: 'String', id: 'x' }] }],
  ['an aliased __typename from the subgraph', { ...good, kind: 'Author', __typename: 'Movie' }],
  ['a list where an object is expected', { ...good, featured: [{ id: 'x' }] }],
  ['a string where an object is expected', { ...good, featured: 'book' }],
  ['an object where a list is expected', { ...good, media: { __typename: 'Book' } }],
  ['a flat list where a nested list is expected', { ...good, shelves: [{ id: 'b1' }] }],
  ['a number as __typename', { ...good, search: [{ __typename: 7, id: 'x' }] }],
  ['a null __typename', { ...good, featured: { __typename: null, id: 'x', title: 'X' } }],
  ['objects in leaf positions', { ...good, book: { id: { a: 1 }, title: ['x'], pages: null, kind: null } }],
  ['keys inherited from Object.prototype', { ...good, book: { constructor: 'x', toString: 1, id: 'b', title: 'T' } }],
];

const VARIABLES: Array<[string, Record<string, unknown> | undefined]> = [
  ['flag false, on true', { flag: false, on: true }],
  ['flag unset (Apollo refuses)', { on: true }],
  ['flag true, on false, default overridden', { flag: true, on: false, dflt: false }],
  ['a non-boolean variable', { flag: 'yes', on: true }],
  ['no variables at all', undefined],
];

function outcome(run: () => unknown): unknown {
  try {
    return { returned: run() };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

function details(value: unknown) {
  const result = (value as { returned?: { errors: Array<{ message: string; path: unknown; extensions: unknown }> } }).returned;
  return result?.errors.map((error) => ({ type: error.constructor.name, message: error.message, path: error.path, extensions: error.extensions }));
}

describe('compiled result shaping against Apollo computeResponse', () => {
  const operation = operationOf(OPERATION);
  const shape = compileResultShaper(operation);

  for (const [inputName, input] of INPUTS) {
    test.each(VARIABLES)(`${inputName}, %s`, (_variablesName, variables) => {
      const expected = outcome(() => computeResponse({ operation, variables, input, introspectionHandling: () => null }));
      const actual = outcome(() => shape(input, variables));
      expect(actual).toStrictEqual(expected);
      expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      expect(details(actual)).toStrictEqual(details(expected));
    });
  }

  test('the same shaper serves repeated runs (no state kept between results)', () => {
    const first = shape(good, { on: true, flag: false });
    const second = shape(good, { on: true, flag: false });
    expect(second).toStrictEqual(first);
    expect(second.data).not.toBe(first.data);
  });
});
