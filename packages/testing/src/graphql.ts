/** A GraphQL response as a client sees it, plus the HTTP status. */
export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface RequestOptions {
  variables?: Record<string, unknown>;
  token?: string;
  headers?: Record<string, string>;
}

/** POSTs one operation over real HTTP, the way any GraphQL client would. */
export async function graphql<TData = Record<string, any>>(
  url: string,
  query: string,
  options: RequestOptions = {},
): Promise<GraphQLResponse<TData>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables ?? {} }),
  });
  const text = await response.text();
  let body: Omit<GraphQLResponse<TData>, 'status'>;
  try {
    body = JSON.parse(text) as Omit<GraphQLResponse<TData>, 'status'>;
  } catch {
    throw new Error(`Non-JSON response (HTTP ${response.status}) from ${url}: ${text.slice(0, 300)}`);
  }
  return { status: response.status, ...body };
}

/** Returns `data`, failing with the errors when there are any. */
export async function graphqlOk<TData = Record<string, any>>(
  url: string,
  query: string,
  options: RequestOptions = {},
): Promise<TData> {
  const result = await graphql<TData>(url, query, options);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL errors (HTTP ${result.status}): ${JSON.stringify(result.errors ?? result)}`);
  }
  return result.data;
}

/** The codes of a response's errors, for compact assertions. */
export function errorCodes(result: GraphQLResponse): string[] {
  return (result.errors ?? []).map((error) => String(error.extensions?.code));
}
