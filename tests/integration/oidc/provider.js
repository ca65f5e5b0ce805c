// A real OpenID Connect provider (oidc-provider, certified) for the sign-in tests.
// Usage: node provider.js CONFIG.json — the test session writes the config: port, signing
// keys (private JWKs; the first signs), clients (id, secret, roles, provider binding,
// access-token TTL) and resource servers (resource indicator = audience). Access tokens
// are JWTs (RFC 9068) because resourceIndicators gives each audience the jwt format.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const byId = new Map(config.clients.map((c) => [c.client_id, c]));

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => (c.redirect_uris
    // A public client people sign in through (authorization code with PKCE).
    ? {
      client_id: c.client_id,
      grant_types: ['authorization_code'],
      redirect_uris: c.redirect_uris,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
    : {
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    })),
  jwks: { keys: config.keys },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true },
    introspection: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.default_resource,
      getResourceServerInfo: (ctx, indicator, client) => {
        if (!config.resources.includes(indicator)) throw new Provider.errors.InvalidTarget();
        const ttl = byId.get(client.clientId)?.ttl;
        return {
          audience: indicator,
          scope: 'api',
          accessTokenFormat: 'jwt',
          ...(ttl ? { accessTokenTTL: ttl } : {}),
          jwt: { sign: { alg: config.keys[0].alg } },
        };
      },
    },
  },
  // The roles and provider binding a machine client carries (what a council's identity
  // provider puts in its tokens from an app role or a directory attribute).
  extraTokenClaims: (ctx, token) => {
    // People: the directory groups of whoever signed in (devInteractions takes any login).
    if (token.accountId) return { groups: config.people?.[token.accountId] ?? [] };
    const client = byId.get(token.clientId);
    if (!client) return undefined;
    const claims = {};
    if (client.roles) claims.roles = client.roles;
    if (client.groups) claims.groups = client.groups;
    if (client.provider_id) claims.provider_id = client.provider_id;
    return claims;
  },
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
