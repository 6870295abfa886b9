// A small, configurable OpenID Connect provider for the operator's end-to-end tests.
//
// It wraps panva's oidc-provider 8.8.1 (OpenID Certified, and the last major that supports Node 20)
// so that the tests exercise a real discovery document, a real JWKS and a real client-credentials
// grant that checks the client secret, instead of a mock that accepts anything.
//
// Usage:
//   node provider.mjs                       # configuration from environment variables
//   node provider.mjs '{"port": 0, ...}'    # configuration as a JSON argument
//   node provider.mjs ./config.json         # configuration from a JSON file
//
// The JSON argument (or file) wins over OIDC_PROVIDER_CONFIG (the same JSON in an environment
// variable), which wins over the single-value variables PORT, ISSUER, TLS_CERT, TLS_KEY, CLIENT_ID,
// CLIENT_SECRET. Recognised JSON fields:
//
//   port              listen port on 127.0.0.1; 0 (default) picks a free one
//   issuer            issuer identifier; default: the listen URL. `{listen}` in it is replaced by
//                     the listen URL (handy with port 0). Set it to something else to simulate a
//                     provider whose discovery document names a different issuer.
//   tls               {"cert": "<PEM file>", "key": "<PEM file>"}: serve HTTPS instead of HTTP
//   clients           [{"client_id", "client_secret", "token_endpoint_auth_method"?, "grant_types"?}]
//                     default: one client "operator" / "operator-secret" allowed client_credentials
//   scopes            scopes advertised in scopes_supported (default: openid offline_access email profile)
//   responseTypes     response types offered (default: oidc-provider's: code id_token, code, id_token, none)
//   jwks              a private JWKS ({"keys": [...]}) used for signing; default: one RSA key
//                     generated at start-up (kid "test-<random>")
//   jwksFile          path of a JSON file holding that JWKS instead
//   jwksOverride      a JSON document served verbatim at /jwks instead of the real public keys, to
//                     test clients against an empty or unusable key set
//   exitWithParent    exit when stdin closes (the test harness pipes stdin, so an aborted test run
//                     cannot leave the provider behind)
//
// It listens on 127.0.0.1 only, prints exactly one line `ready <listen-url>` on stdout once it
// accepts connections, logs everything else on stderr, and exits with status 0 on SIGTERM/SIGINT.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

function loadConfig() {
  let config = {};
  if (process.env.OIDC_PROVIDER_CONFIG) {
    try {
      config = JSON.parse(process.env.OIDC_PROVIDER_CONFIG);
    } catch (err) {
      fail(`OIDC_PROVIDER_CONFIG is not valid JSON: ${err.message}`);
    }
  }
  const arg = process.argv[2];
  if (arg) {
    const text = arg.trimStart().startsWith('{') ? arg : readFileSync(arg, 'utf8');
    try {
      config = { ...config, ...JSON.parse(text) };
    } catch (err) {
      fail(`configuration argument is not valid JSON: ${err.message}`);
    }
  }
  const env = process.env;
  config.port ??= env.PORT !== undefined ? Number(env.PORT) : 0;
  config.issuer ??= env.ISSUER;
  if (!config.tls && env.TLS_CERT && env.TLS_KEY) {
    config.tls = { cert: env.TLS_CERT, key: env.TLS_KEY };
  }
  config.clients ??= [
    {
      client_id: env.CLIENT_ID ?? 'operator',
      client_secret: env.CLIENT_SECRET ?? 'operator-secret',
    },
  ];
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    fail(`invalid port ${JSON.stringify(config.port)}`);
  }
  return config;
}

// A fresh RSA key per start unless the caller pins one: the tests only need *a* signing key, and
// a generated one keeps private key material out of the repository.
function signingJwks(config) {
  if (config.jwks) return config.jwks;
  if (config.jwksFile) return JSON.parse(readFileSync(config.jwksFile, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `test-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' }] };
}

function providerClients(config) {
  // Registered clients are confidential and may use every grant the tests need; redirect URIs
  // are required by oidc-provider only when authorization-endpoint grants are allowed.
  return config.clients.map((c) => {
    const grantTypes = c.grant_types ?? ['client_credentials'];
    const usesAuthEndpoint = grantTypes.includes('authorization_code') || grantTypes.includes('implicit');
    return {
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: usesAuthEndpoint ? ['http://127.0.0.1/callback'] : [],
      response_types: usesAuthEndpoint ? ['code'] : [],
      ...c,
      grant_types: grantTypes,
    };
  });
}

const config = loadConfig();

const server = config.tls
  ? https.createServer({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) })
  : http.createServer();

server.on('error', (err) => fail(`cannot listen on ${HOST}:${config.port}: ${err.message}`));

// Listen first, then build the provider: with port 0 the issuer (which defaults to the listen
// URL) is only known once the kernel has picked the port.
server.listen(config.port, HOST, () => {
  const { port } = server.address();
  const listenUrl = `${config.tls ? 'https' : 'http'}://${HOST}:${port}`;
  const issuer = (config.issuer ?? listenUrl).replaceAll('{listen}', listenUrl);

  const provider = new Provider(issuer, {
    clients: providerClients(config),
    jwks: signingJwks(config),
    scopes: config.scopes ?? ['openid', 'offline_access', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    ...(config.responseTypes ? { responseTypes: config.responseTypes } : {}),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
    },
    cookies: { keys: [randomBytes(16).toString('hex')] },
  });

  if (config.jwksOverride !== undefined) {
    const body = JSON.stringify(config.jwksOverride);
    provider.use(async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path === '/jwks') {
        ctx.type = 'application/jwk-set+json';
        ctx.body = body;
        return;
      }
      await next();
    });
  }

  provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
  // Log which client failed and why, never what it sent: the request carries the client secret.
  provider.on('grant.error', (ctx, err) =>
    process.stderr.write(`grant.error: client=${ctx.oidc?.client?.clientId ?? '?'} ${err.message}\n`));

  server.on('request', provider.callback());
  process.stdout.write(`ready ${listenUrl}\n`);
  process.stderr.write(`provider.mjs: issuer ${issuer}, listening on ${listenUrl}\n`);
});

function shutdown(signal) {
  process.stderr.write(`provider.mjs: ${signal}, shutting down\n`);
  // Nothing is persisted (in-memory adapter), so there is nothing to drain: stop accepting, drop
  // pooled keep-alive connections so clients see the outage at once, and exit.
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

if (config.exitWithParent) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
