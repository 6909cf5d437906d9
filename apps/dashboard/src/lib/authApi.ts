import { print } from 'graphql';
import type { TypedDocumentNode } from '@apollo/client';
import {
  LogInDocument,
  LogOutDocument,
  RefreshSessionDocument,
  SignUpDocument,
  VerifyMfaDocument,
  type LogInMutationVariables,
  type SignUpMutationVariables,
  type VerifyMfaMutationVariables,
} from '../generated/graphql';
import { GatewayUnavailableError, hasErrorCode, SessionExpiredError, type GraphQLErrorLike } from './errors';
import type { SessionTokens } from './session';

/** A GraphQL failure with the server's errors, so the screen can explain it. */
export class GraphQLRequestError extends Error {
  override readonly name = 'GraphQLRequestError';
  constructor(readonly errors: GraphQLErrorLike[]) {
    super(errors.map((error) => error.message).join('; '));
  }
}

export type LogInOutcome = { kind: 'signed-in'; tokens: SessionTokens } | { kind: 'mfa-required'; mfaToken: string; expiresAt: string };

/**
 * The sign-in operations, sent with plain fetch (outside Apollo Client: they must not go
 * through the link that refreshes tokens, and their results must not enter the cache).
 */
export function createAuthApi(graphqlUrl: string, fetchImpl: typeof fetch = (...args) => fetch(...args)) {
  async function send<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables, token?: string): Promise<TData> {
    let response: Response;
    try {
      response = await fetchImpl(graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query: print(document), variables }),
      });
    } catch (error) {
      throw new GatewayUnavailableError((error as Error).message);
    }
    let body: { data?: TData | null; errors?: GraphQLErrorLike[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new GatewayUnavailableError(`HTTP ${response.status}`);
    }
    if (body.errors?.length) throw new GraphQLRequestError(body.errors);
    if (!body.data) throw new GatewayUnavailableError(`HTTP ${response.status} without data`);
    return body.data;
  }

  return {
    async signUp(input: SignUpMutationVariables['input']): Promise<SessionTokens> {
      const { signUp } = await send(SignUpDocument, { input });
      return { accessToken: signUp.accessToken, refreshToken: signUp.refreshToken, expiresAt: signUp.expiresAt, userId: signUp.user.id };
    },

    async logIn(input: LogInMutationVariables['input']): Promise<LogInOutcome> {
      const { logIn } = await send(LogInDocument, { input });
      if (!logIn) throw new GatewayUnavailableError('empty log-in result');
      if (logIn.mfaRequired) {
        if (!logIn.mfaChallenge) throw new Error('The server asked for an MFA code without a challenge.');
        return { kind: 'mfa-required', mfaToken: logIn.mfaChallenge.mfaToken, expiresAt: logIn.mfaChallenge.expiresAt };
      }
      if (!logIn.accessToken || !logIn.refreshToken || !logIn.expiresAt || !logIn.user) throw new Error('The server signed in without tokens.');
      return {
        kind: 'signed-in',
        tokens: { accessToken: logIn.accessToken, refreshToken: logIn.refreshToken, expiresAt: logIn.expiresAt, userId: logIn.user.id },
      };
    },

    async verifyMfa(input: VerifyMfaMutationVariables['input']): Promise<SessionTokens> {
      const { verifyMfa } = await send(VerifyMfaDocument, { input });
      return { accessToken: verifyMfa.accessToken, refreshToken: verifyMfa.refreshToken, expiresAt: verifyMfa.expiresAt, userId: verifyMfa.user.id };
    },

    /** For SessionManager: a refused refresh token becomes SessionExpiredError. */
    async refreshSession(refreshToken: string): Promise<SessionTokens> {
      try {
        const { refreshSession } = await send(RefreshSessionDocument, { refreshToken });
        return {
          accessToken: refreshSession.accessToken,
          refreshToken: refreshSession.refreshToken,
          expiresAt: refreshSession.expiresAt,
          userId: refreshSession.user.id,
        };
      } catch (error) {
        if (error instanceof GraphQLRequestError && hasErrorCode(error.errors, 'UNAUTHENTICATED')) throw new SessionExpiredError();
        throw error;
      }
    },

    /** Ends the session on the server; an already expired one is fine. */
    async logOut(accessToken: string): Promise<void> {
      try {
        await send(LogOutDocument, {}, accessToken);
      } catch (error) {
        if (error instanceof GraphQLRequestError && hasErrorCode(error.errors, 'UNAUTHENTICATED')) return;
        throw error;
      }
    },
  };
}

export type AuthApi = ReturnType<typeof createAuthApi>;
