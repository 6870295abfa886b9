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
//   issuer            issuer identifier; default: the listen URL (with a profile: the profile's
//                     issuer, see below). `{listen}` in it is replaced by the listen URL (handy with
//                     port 0). Set it to something else to simulate a provider whose discovery
//                     document names a different issuer.
//   tls               {"cert": "<PEM file>", "key": "<PEM file>"}: serve HTTPS instead of HTTP
//   clients           [{"client_id", "client_secret", "token_endpoint_auth_method"?, "grant_types"?,
//                       "redirect_uris"?, "scopes"?, "audiences"?, "require_pkce"?}]
//                     default: one client "operator" / "operator-secret".
//                     grant_types default: ["authorization_code", "client_credentials"] (with a
//                     profile: ["client_credentials"] unless redirect_uris are given); without a
//                     profile, redirect_uris default to https://om.example.com/callback (the e2e
//                     suites' OpenMetadata) and http://127.0.0.1/callback.
//                     redirect_uris: the registered callbacks (the authorization endpoint compares
//                     exactly). scopes: with a profile, the non-standard scopes the client may ask
//                     for: Keycloak client scopes, Entra `<resource>/.default` values it can get a
//                     token for, Okta custom scopes, Cognito resource-server scopes.
//                     audiences: Auth0 APIs the client has a client-grant for (every client's
//                     audiences together are the tenant's APIs). require_pkce: the authorization
//                     endpoint refuses a request without code_challenge.
//   scopes            scopes advertised in scopes_supported (default: openid offline_access email
//                     profile; with a profile: the profile's list)
//   responseTypes     response types offered (default: oidc-provider's: code id_token, code,
//                     id_token, none; with a profile: the profile's list)
//   jwks              a private JWKS ({"keys": [...]}) used for signing; default: one RSA key
//                     generated at start-up (kid "test-<random>")
//   jwksFile          path of a JSON file holding that JWKS instead
//   jwksOverride      a JSON document served verbatim as the key set instead of the real public
//                     keys, to test clients against an empty or unusable key set
//   httpEndpoints     true: discovery names http:// endpoints (same host and port) although the
//                     issuer is https:// (a downgrade; nothing answers on them with tls)
//   exitWithParent    exit when stdin closes (the test harness pipes stdin, so an aborted test run
//                     cannot leave the provider behind)
//   profile           behave like a real provider (below); absent: oidc-provider's own behaviour
//   realm             keycloak: realm name (default "test")
//   tenant            entra, entra-common: tenant id (default 8eaef023-2b34-4da1-9baa-8bc8c9d6a490)
//   authServer        okta: custom authorization server id (default "default")
//   userPool          cognito: user pool id (default "eu-west-1_LocalPool")
//
// Profiles (profiles.mjs holds the behaviour, each answer with its source: a section of the issue
// #13 research report or the provider's documentation; "UNVERIFIED" marks a chosen status code no
// source pins down). Every endpoint is on the listen address. "auth" below is the authorization
// endpoint asked without a user: GET ?response_type=code&client_id&redirect_uri&scope&state&nonce.
// Each lists: issuer / discovery; what discovery leaves out; token endpoint answers; introspection
// and revocation; auth answers for (registered client and callback / unregistered callback /
// unknown client). Every profile sends other refused parameters (scope, response type, PKCE,
// nonce, a client without the grant) back to the callback with error= (RFC 6749 4.1.2.1), and
// accepts client_secret_basic and client_secret_post from every client.
//
//   keycloak      issuer {listen}/realms/<realm>, discovery under it; full discovery (grant types
//                 with client_credentials, introspection and revocation, PKCE plain+S256, realm
//                 scopes); JWKS adds an RSA-OAEP `enc` key. Token: wrong or missing secret 401
//                 unauthorized_client "Invalid client or Invalid client credentials", unknown client
//                 401 invalid_client (same text), client without client_credentials 401
//                 unauthorized_client "Client not enabled to retrieve service account", scope not
//                 the client's 400 invalid_scope; scope optional. Introspection: 200
//                 {"active":false} / 401 invalid_client. Revocation: 200 / 401. Auth: 200 login
//                 form / 400 "Invalid parameter: redirect_uri" / 400 "Client not found.".
//   entra         issuer {listen}/<tenant>/v2.0, discovery {listen}/<tenant>/v2.0/.well-known/...;
//                 no grant_types_supported, no code_challenge_methods_supported, no introspection or
//                 revocation; scopes openid profile email offline_access; JWKS keys without `alg`,
//                 with `issuer`. Token (errors carry error_codes, trace_id, ...): no scope 400
//                 invalid_request AADSTS900144, scope not `<resource>/.default` 400 invalid_scope
//                 AADSTS1002012, a .default the client has not (clients[].scopes) 400
//                 invalid_resource AADSTS500011, wrong secret 401 invalid_client AADSTS7000215,
//                 missing secret 401 invalid_client AADSTS7000218, unknown client 400
//                 unauthorized_client AADSTS700016; grant_types do not gate client credentials.
//                 Auth: 200 sign-in page / 400 page with AADSTS50011 / 400 page with AADSTS700016.
//   entra-common  as entra, plus {listen}/common/v2.0/.well-known/... announcing the literal issuer
//                 {listen}/{tenantid}/v2.0 with /common/ endpoints (the tenant's discovery and
//                 endpoints stay available); client credentials on /common/oauth2/v2.0/token: 400
//                 unsupported_grant_type AADSTS9001023.
//   okta          issuer {listen}/oauth2/<authServer>, endpoints /oauth2/<id>/v1/...; discovery
//                 hides custom scopes, and its openid-configuration lacks client_credentials in
//                 grant_types_supported (oauth-authorization-server lists it); PKCE S256 only.
//                 Token: wrong secret 401 invalid_client, no credentials 401 invalid_client "No
//                 client credentials found.", unknown client 401 {"errorCode":"invalid_client",
//                 "errorSummary":...} (no `error` member), grant not enabled 400 unauthorized_client,
//                 no scope / scope openid / a scope not the client's: 400 invalid_scope; success
//                 needs a custom scope of the client. Introspection 200 {"active":false} / 401;
//                 revocation 200 / 401. Auth: 200 widget page / 400 "…must be a Login redirect
//                 URI…" / 400 page.
//   auth0         issuer {listen}/ WITH the trailing slash, discovery {listen}/.well-known/...
//                 ({listen}//.well-known/... is a 404); no grant_types_supported, no introspection,
//                 a revocation endpoint; HS256 among the algorithms. Token: wrong secret, unknown
//                 client, missing secret 401 access_denied "Unauthorized"; grant not enabled 403
//                 unauthorized_client; no audience / audience no API / API without client-grant 403
//                 access_denied; success needs `audience` = one of the client's audiences.
//                 Revocation 200 / 401 invalid_client. Auth: 302 to {listen}/u/login?state=… (200)
//                 / 400 "Callback URL mismatch…" / 400 "Unknown client".
//   google        issuer {listen} (no slash); grant_types_supported without client_credentials, no
//                 introspection, revocation without client authentication. Token (client checked
//                 first): wrong secret 401 invalid_client "Unauthorized", unknown client 401
//                 invalid_client "The OAuth client was not found.", no secret 400 invalid_request,
//                 client_credentials with the right secret 400 unsupported_grant_type,
//                 authorization_code with a made-up code 400 invalid_grant "Malformed auth code.".
//                 Revocation: 400 invalid_token for any token and any (or no) secret; GET 404.
//                 Auth: 302 to {listen}/v3/signin/identifier (200) / 400 "Error 400:
//                 redirect_uri_mismatch" / 401 "Error 401: invalid_client".
//   cognito       issuer {listen}/<userPool>, discovery and keys under it, the other endpoints at
//                 /oauth2/...; response_types_supported ["code","token"] (no id_token), no
//                 grant_types_supported, no code_challenge_methods_supported (S256 accepted), no
//                 introspection, a revocation endpoint. Token errors are 400 {"error":…} without
//                 description: wrong secret and unknown client alike invalid_client, grant not
//                 enabled unauthorized_client, a scope not the client's (or a client without custom
//                 scopes) invalid_scope; no scope grants all the client's scopes. Revocation: 200
//                 empty / 401 invalid_client. Auth: 302 to {listen}/login?<same query> (200) / 302
//                 to {listen}/error?error=redirect_mismatch&client_id=… (which answers 400) / 302 to
//                 {listen}/error?error=invalid_request….
//   dex           issuer {listen}/dex (v2.45.1); response types ["code"], grant types without
//                 client_credentials, introspection published, no revocation. Token: grant_type
//                 checked before the client, so client_credentials is 400
//                 {"error":"unsupported_grant_type"} whatever the secret; refresh_token with a
//                 made-up token: wrong secret or unknown client 401 invalid_client "Invalid client
//                 credentials.", right secret 400 invalid_request. Introspection does not check the
//                 client: always 200 {"active":false}. Auth: /dex/auth answers 302 to
//                 /dex/auth/local?<same query> (a relative Location) for every request; there:
//                 200 login form / 400 "Unregistered redirect_uri." / 404 "Invalid client_id.";
//                 `openid` is required.
//
// With a profile, a successful client-credentials grant (and grants the profile documents no
// answer for) is handed to oidc-provider, which issues a JWT access token (RS256, signed with the
// published key; `iss` the profile's issuer, the tenant's for entra-common; `aud` the Auth0
// audience or the Entra resource, else urn:oidc-sso-operator:test-api).
//
// It listens on 127.0.0.1 only, prints exactly one line `ready <listen-url>` on stdout once it
// accepts connections, logs everything else on stderr, and exits with status 0 on SIGTERM/SIGINT.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

import Provider from 'oidc-provider';

import { PROFILES, createFront } from './profiles.mjs';

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
  if (config.profile !== undefined && !PROFILES.includes(config.profile)) {
    fail(`unknown profile ${JSON.stringify(config.profile)} (known: ${PROFILES.join(', ')})`);
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

// The callback of the e2e suites' OpenMetadata (`server.externalUrl: https://om.example.com`), and
// a loopback one.
const DEFAULT_CALLBACKS = ['https://om.example.com/callback', 'http://127.0.0.1/callback'];

function providerClients(config) {
  // Registered clients are confidential and, unless a test says otherwise, registered like the
  // OpenMetadata login client they stand for: the authorization-code grant with the e2e suites'
  // callback (DEFAULT_CALLBACK), plus client credentials. Fields oidc-provider does not know
  // (scopes, audiences, require_pkce) are dropped by it.
  return config.clients.map((c) => {
    const grantTypes = c.grant_types ?? ['authorization_code', 'client_credentials'];
    const usesAuthEndpoint = grantTypes.includes('authorization_code') || grantTypes.includes('implicit');
    const { redirect_uris: redirectUris, ...rest } = c;
    return {
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: usesAuthEndpoint ? (redirectUris?.length ? redirectUris : DEFAULT_CALLBACKS) : [],
      response_types: usesAuthEndpoint ? ['code'] : [],
      ...rest,
      grant_types: grantTypes,
    };
  });
}


// With a profile, the front (profiles.mjs) authenticates clients and gates grants itself, and hands
// oidc-provider only canonical requests (client_secret_post, the client's own credentials): so
// every client is registered there with that method and every grant the front may forward.
function profileProviderClients(config) {
  return config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: c.redirect_uris?.length ? c.redirect_uris : ['http://127.0.0.1/callback'],
  }));
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
  const issuer = config.profile
    ? startProfile(listenUrl)
    : startDefault(listenUrl);
  process.stdout.write(`ready ${listenUrl}\n`);
  process.stderr.write(`provider.mjs: ${config.profile ? `profile ${config.profile}, ` : ''}issuer ${issuer}, `
    + `listening on ${listenUrl}\n`);
});

function logEvents(provider) {
  provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
  // Log which client failed and why, never what it sent: the request carries the client secret.
  provider.on('grant.error', (ctx, err) =>
    process.stderr.write(`grant.error: client=${ctx.oidc?.client?.clientId ?? '?'} ${err.message}\n`));
}

// The default behaviour: oidc-provider answers everything itself.
function startDefault(listenUrl) {
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
    // Like Keycloak, Okta and Entra ID by default: PKCE optional for confidential clients
    // (oidc-provider 8 requires it for all; OpenMetadata sends none unless usePkce is set).
    pkce: { required: () => false },
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

  if (config.httpEndpoints) {
    // Discovery names http:// endpoints while the issuer stays https (a downgrade).
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/.well-known/openid-configuration' && ctx.body && typeof ctx.body === 'object') {
        ctx.body = Object.fromEntries(Object.entries(ctx.body).map(([k, v]) => [k,
          k !== 'issuer' && typeof v === 'string' && v.startsWith(`${listenUrl}/`) ? v.replace(/^https:/, 'http:') : v]));
      }
    });
  }

  logEvents(provider);
  server.on('request', provider.callback());
  return issuer;
}

// A provider profile: the front in profiles.mjs answers, oidc-provider issues the tokens.
function startProfile(listenUrl) {
  const signing = signingJwks(config);
  let callback;
  const front = createFront(config.profile, {
    config,
    listenUrl,
    signing,
    // Hands a request whose body the front has read to oidc-provider, as `params` on `path`.
    // oidc-provider reads an already consumed body from req.body (lib/shared/selective_body.js).
    forward(req, res, path, params) {
      const body = new URLSearchParams(params).toString();
      req.url = path;
      req.body = body;
      delete req.headers.authorization;
      req.headers['content-type'] = 'application/x-www-form-urlencoded';
      req.headers['content-length'] = String(Buffer.byteLength(body));
      callback(req, res);
    },
  });
  // oidc-provider's routes stay internal (only the front reaches them); its issuer is the one the
  // profile's tokens carry. Client-credentials access tokens are JWTs signed (RS256) with the key
  // the profile publishes, for the audience the front names (`resource`) or a fixed test one.
  const provider = new Provider(front.tokenIssuer, {
    clients: profileProviderClients(config),
    jwks: signing,
    scopes: ['openid', 'offline_access'],
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:oidc-sso-operator:test-api',
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 3600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    cookies: { keys: [randomBytes(16).toString('hex')] },
  });
  logEvents(provider);
  callback = provider.callback();
  server.on('request', front.handle);
  return front.issuer;
}

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
