// `user_oauth`: the upstream gets the calling person's own token for it, from their connected account
// (src/connect/accounts.ts: held encrypted in the vault, refreshed there). A person with no connected
// account gets a ConsentRequiredError carrying their connect link; never the client's token.
import type { ConnectedAccounts } from '../connect/accounts.ts';
import type { CredentialProvider } from './provider.ts';

export function userOAuthProvider(upstream: string, accounts: ConnectedAccounts): CredentialProvider {
  return {
    mode: 'user_oauth',
    async get(ctx) {
      const token = await accounts.token(ctx.principal, upstream);
      return { headers: { authorization: `Bearer ${token}` }, token };
    },
    refused(ctx, credential, answer) {
      return accounts.refused(ctx.principal, upstream, credential.token, answer.status, answer.challenge);
    },
  };
}
