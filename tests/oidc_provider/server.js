// A real OpenID Connect provider (the `oidc-provider` package) shaped like ProConnect, for the tests of the
// ProConnect sign-in: authorization code with PKCE, ID tokens signed with a key made at start, the user's claims
// (email, email_verified, given_name, usual_name, siret) given by a userinfo endpoint that answers a signed JWT,
// RP-initiated logout. Its sign-in page lists no account: one types an account id and any password.
//
//   node server.js PORT CLIENTS_JSON ACCOUNTS_JSON
//   OIDC_PORT=… OIDC_CLIENTS=… OIDC_ACCOUNTS=… node server.js
//
// CLIENTS_JSON: a list of client metadata ({client_id, client_secret, redirect_uris, post_logout_redirect_uris}).
// ACCOUNTS_JSON: {account id: {email, email_verified, given_name, usual_name, siret}}.
// It prints "listening on <issuer>" once it takes requests, and stops on SIGTERM.

import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.OIDC_PORT);
const clients = JSON.parse(process.argv[3] || process.env.OIDC_CLIENTS || '[]');
const accounts = JSON.parse(process.argv[4] || process.env.OIDC_ACCOUNTS || '{}');
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node server.js PORT CLIENTS_JSON ACCOUNTS_JSON');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  use: 'sig',
  alg: 'RS256',
};

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    // ProConnect answers the userinfo request with a signed JWT.
    userinfo_signed_response_alg: 'RS256',
    ...client,
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  acrValues: ['eidas1'],
  claims: {
    acr: null,
    amr: null,
    auth_time: null,
    sid: null,
    iss: null,
    // `amr` goes with `openid`: this version of the provider only puts the standalone claims in an ID token when asked.
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    siret: ['siret'],
  },
  scopes: ['openid', 'email', 'given_name', 'usual_name', 'siret'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Like ProConnect, no consent screen: the client gets the scopes it asks for.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function signInPage(uid, message) {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Fournisseur d'identité de test</title></head>
<body><main><h1>Fournisseur d'identité de test</h1>${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="login">Identifiant</label> <input id="login" name="login" required autofocus></p>
<p><label for="password">Mot de passe</label> <input id="password" name="password" type="password"></p>
<p><button type="submit">Se connecter</button></p>
</form></main></body></html>`;
}

async function formBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return next();
  const [, uid, login] = match;
  await provider.interactionDetails(ctx.req, ctx.res); // 400 when the interaction is unknown or expired
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  if (!login && ctx.method === 'GET') {
    ctx.body = signInPage(uid, '');
    return undefined;
  }
  if (login && ctx.method === 'POST') {
    const accountId = (await formBody(ctx.req)).get('login') || '';
    if (!Object.hasOwn(accounts, accountId)) {
      ctx.status = 400;
      ctx.body = signInPage(uid, 'Identifiant inconnu.');
      return undefined;
    }
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId, acr: 'eidas1', amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
    return undefined;
  }
  ctx.status = 405;
  return undefined;
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
