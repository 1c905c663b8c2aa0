// A real OpenID Provider (the `oidc-provider` package) for Backlot's sign-in tests.
//
// Its development login and consent pages accept any login name; the account `NAME` has the
// email `NAME@example.test`. Settings come from the environment:
//   OP_PORT          port on 127.0.0.1 (the issuer is http://127.0.0.1:OP_PORT)
//   OP_REDIRECT_URI  Backlot's callback, e.g. http://127.0.0.1:3000/api/auth/oidc/handler/frame
//   OP_CLIENT_ID     default "backlot"
//   OP_CLIENT_SECRET default "backlot-test-secret"
// It prints "ready ISSUER" once it listens.
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT ?? 18081);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.OP_REDIRECT_URI ?? 'http://127.0.0.1:3000/api/auth/oidc/handler/frame';

const accounts = {
  async findAccount(_ctx, login) {
    return {
      accountId: login,
      claims: async () => ({
        sub: login,
        email: `${login}@example.test`,
        email_verified: true,
        name: `${login[0].toUpperCase()}${login.slice(1)} Example`,
        preferred_username: login,
      }),
    };
  },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OP_CLIENT_ID ?? 'backlot',
      client_secret: process.env.OP_CLIENT_SECRET ?? 'backlot-test-secret',
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Every authorization request must carry a PKCE challenge (S256).
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  cookies: { keys: ['backlot-op-test-key'] },
  ...accounts,
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
