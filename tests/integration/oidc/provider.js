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
  clients: config.clients.map((c) => ({
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
    const client = byId.get(token.clientId);
    if (!client) return undefined;
    const claims = {};
    if (client.roles) claims.roles = client.roles;
    if (client.provider_id) claims.provider_id = client.provider_id;
    return claims;
  },
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
