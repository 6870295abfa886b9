// Provider profiles: a thin HTTP front in front of oidc-provider that answers like Keycloak, Entra
// ID, Okta, Auth0, Google, Cognito or Dex as far as their documentation (and the research report
// /tmp/research/providers.md of issue #13, "the report" below, with its section numbers) describes
// them. provider.mjs documents the profiles and options; this file holds the behaviour.
//
// What the front answers itself: discovery documents, key sets, the authorization endpoint (login
// pages, error pages, error redirects), and every token / introspection / revocation answer that
// is not a plain success. What it hands to oidc-provider (rewritten to one canonical request with
// client_secret_post credentials, after the front has authenticated the client): a successful
// client-credentials grant (so the access token is a real one), other grants the profile has no
// documented answer for (oidc-provider answers them per RFC 6749), and introspection/revocation
// requests that authenticated (oidc-provider answers {"active":false} / 200 for unknown tokens).
//
// Sources are cited per behaviour: "report §N" is a section of /tmp/research/providers.md, "[RP]"
// is redpanda-data/redpanda src/v/security/tests/jwt_test.cc (real discovery documents captured in
// 2023, which the report cites), other URLs are the providers' own documentation. "UNVERIFIED"
// marks an answer (usually a status code) that no source pins down: the documented behaviour is
// chosen and the exact status is not verified.

import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export const PROFILES = ['keycloak', 'entra', 'entra-common', 'okta', 'auth0', 'google', 'cognito', 'dex'];

export const DEFAULTS = {
  realm: 'test',
  tenant: '8eaef023-2b34-4da1-9baa-8bc8c9d6a490',
  authServer: 'default',
  userPool: 'eu-west-1_LocalPool',
};

// ------------------------------------------------------------------------------------------------
// Small HTTP helpers. An "answer" is {status, json | html | text | empty, location?, headers?}.

const json = (status, body, headers) => ({ status, json: body, headers });
const oauthError = (status, error, description, extra) => json(status, {
  error,
  ...(description === undefined ? {} : { error_description: description }),
  ...extra,
});
const html = (status, title, message) => ({
  status,
  html: `<!DOCTYPE html>\n<html><head><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>\n`,
});
const redirect = (location, status = 302) => ({ status, location });

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export function send(res, answer) {
  const headers = { 'cache-control': 'no-store', ...answer.headers };
  let body = '';
  if (answer.location !== undefined) headers.location = answer.location;
  if (answer.json !== undefined) {
    headers['content-type'] = 'application/json; charset=utf-8';
    body = JSON.stringify(answer.json);
  } else if (answer.html !== undefined) {
    headers['content-type'] = 'text/html; charset=utf-8';
    body = answer.html;
  } else if (answer.text !== undefined) {
    headers['content-type'] = 'text/plain; charset=utf-8';
    body = answer.text;
  }
  headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(answer.status, headers);
  res.end(body);
}

function withQuery(uri, params, sep) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined)).toString();
  if (sep === '#') return `${uri}#${qs}`;
  return `${uri}${uri.includes('?') ? '&' : '?'}${qs}`;
}

function queryString(q) {
  return new URLSearchParams(Object.entries(q)).toString();
}

// RFC 6749 2.3.1: client_secret_basic credentials are form-encoded before base64.
function formDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The client credentials a request carries: HTTP Basic wins over the body. */
export function clientAuth(headers, params) {
  const h = headers.authorization;
  if (h && /^basic\s/i.test(h)) {
    const decoded = Buffer.from(h.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return { id: formDecode(decoded), secret: undefined };
    return { id: formDecode(decoded.slice(0, i)), secret: formDecode(decoded.slice(i + 1)) };
  }
  return { id: params.client_id, secret: params.client_secret };
}

function secretMatches(given, expected) {
  const a = Buffer.from(String(given));
  const b = Buffer.from(String(expected));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** no_client | unknown | no_secret | wrong_secret | ok, with the client where there is one. */
function authenticate(clients, auth) {
  if (!auth.id) return { kind: 'no_client' };
  const client = clients.get(auth.id);
  if (!client) return { kind: 'unknown', id: auth.id };
  if (auth.secret === undefined || auth.secret === '') return { kind: 'no_secret', client };
  if (!secretMatches(auth.secret, client.client_secret)) return { kind: 'wrong_secret', client };
  return { kind: 'ok', client };
}

const splitScopes = (s) => (s ?? '').split(' ').filter(Boolean);
const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

// ------------------------------------------------------------------------------------------------
// Keys

/** Public JWKs of the signing keys (the ones oidc-provider signs with). */
function publicKeys(signing) {
  return signing.keys.map((k) => {
    const pub = createPublicKey({ key: k, format: 'jwk' }).export({ format: 'jwk' });
    return { kid: k.kid, ...pub, use: k.use ?? 'sig', alg: k.alg ?? 'RS256' };
  });
}

function generatedRsaPublic(kid) {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, ...publicKey.export({ format: 'jwk' }) };
}

// ------------------------------------------------------------------------------------------------
// The profiles. Each returns:
//   issuer                 the issuer its discovery document announces
//   discovery              {path: () => document}
//   jwksPath, jwks()       where and what its key set is
//   authorizationPath, tokenPaths {path: context}, introspectionPath?, revocationPath?
//   pages                  {path: (query) => answer} extra GET pages (login, error pages)
//   grantFirst             the token endpoint checks grant_type before client authentication
//   tokenAuthError(kind, auth, client)          answer for a failed client authentication
//   clientCredentials(client, params, context)  answer, or null for success
//   otherGrant(grant, client, params)           answer, or undefined to let oidc-provider answer
//   introspect / revoke(result, params)         answer, or undefined to let oidc-provider answer
//   authz                  {unknownClient(q), badRedirect(q, client), login(q, client),
//                           loginScopes(client), supportedResponseTypes, pkceMethods,
//                           requireOpenid?, beforeValidation?(q), errorRedirectStatus? (302)}

function keycloak(env) {
  const { base, endpointBase, clients, signing } = env;
  const realm = env.config.realm ?? DEFAULTS.realm;
  // Issuer `{scheme}://{host}[:port]/realms/{realm}`, no trailing slash (report §1 "Issuer"; [RP]).
  const issuer = `${base}/realms/${realm}`;
  const oidc = `/realms/${realm}/protocol/openid-connect`;
  const ep = (p) => `${endpointBase}${oidc}${p}`;
  // Keycloak lists every openid-connect client scope of the realm (report §1 "scopes_supported";
  // [RP] list), plus here the scopes our clients define (they are realm client scopes too).
  const realmScopes = ['openid', 'web-origins', 'microprofile-jwt', 'roles', 'email', 'offline_access', 'profile',
    'phone', 'acr', 'address'];
  const scopesSupported = [...new Set([...realmScopes, ...[...clients.values()].flatMap((c) => c.scopes)])];
  const authMethods = ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth',
    'client_secret_jwt'];
  const responseTypes = ['code', 'none', 'id_token', 'token', 'id_token token', 'code id_token', 'code token',
    'code id_token token'];
  // The signing key plus an RSA-OAEP encryption key (report §1 "JWKS"; [RP]).
  const encKey = { ...generatedRsaPublic(`enc-${randomBytes(4).toString('hex')}`), alg: 'RSA-OAEP', use: 'enc' };
  // Keycloak's default client scopes are assigned to every client; a requested scope outside the
  // client's scopes answers invalid_scope (report §1 table, last row).
  const allowedScopes = (client) => new Set([...realmScopes, ...client.scopes]);
  const invalidClient = 'Invalid client or Invalid client credentials';
  return {
    issuer,
    discovery: {
      [`/realms/${realm}/.well-known/openid-configuration`]: () => ({
        // Field set and values from the real document in [RP] (report §1 "Discovery").
        issuer,
        authorization_endpoint: ep('/auth'),
        token_endpoint: ep('/token'),
        introspection_endpoint: ep('/token/introspect'),
        userinfo_endpoint: ep('/userinfo'),
        end_session_endpoint: ep('/logout'),
        jwks_uri: ep('/certs'),
        grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', 'client_credentials',
          'urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba'],
        response_types_supported: responseTypes,
        subject_types_supported: ['public', 'pairwise'],
        id_token_signing_alg_values_supported: ['PS384', 'ES384', 'RS384', 'HS256', 'HS512', 'ES256', 'RS256',
          'HS384', 'ES512', 'PS256', 'PS512', 'RS512'],
        response_modes_supported: ['query', 'fragment', 'form_post', 'query.jwt', 'fragment.jwt', 'form_post.jwt',
          'jwt'],
        token_endpoint_auth_methods_supported: authMethods,
        introspection_endpoint_auth_methods_supported: authMethods,
        scopes_supported: scopesSupported,
        code_challenge_methods_supported: ['plain', 'S256'],
        revocation_endpoint: ep('/revoke'),
        revocation_endpoint_auth_methods_supported: authMethods,
        device_authorization_endpoint: ep('/auth/device'),
      }),
    },
    jwksPath: `${oidc}/certs`,
    jwks: () => ({ keys: [...publicKeys(signing), encKey] }),
    authorizationPath: `${oidc}/auth`,
    tokenPaths: { [`${oidc}/token`]: {} },
    introspectionPath: `${oidc}/token/introspect`,
    revocationPath: `${oidc}/revoke`,
    pages: {},
    tokenAuthError(kind) {
      switch (kind) {
        // Unknown (or disabled) client: 401 invalid_client (report §1 table: CLIENT_NOT_FOUND).
        // No client_id at all: the same (both compared with Keycloak 26.7.3 by tests/e2e/keycloak.rs).
        case 'unknown':
        case 'no_client':
          return oauthError(401, 'invalid_client', invalidClient);
        // Wrong secret: 401 unauthorized_client, measured on Keycloak 26.7 (issue #13; report §1).
        // Missing/empty secret: same authenticator, same answer (report §1 "Secret sent but empty").
        default:
          return oauthError(401, 'unauthorized_client', invalidClient);
      }
    },
    clientCredentials(client, params) {
      // Service accounts off: 401 unauthorized_client, measured on 26.7 (issue #13; report §1).
      if (!client.grant_types.includes('client_credentials')) {
        return oauthError(401, 'unauthorized_client', 'Client not enabled to retrieve service account');
      }
      // `scope` is optional; a scope not assigned to the client: 400 invalid_scope (report §1).
      const allowed = allowedScopes(client);
      if (splitScopes(params.scope).some((s) => !allowed.has(s))) {
        return oauthError(400, 'invalid_scope', `Invalid scopes: ${params.scope}`);
      }
      return null;
    },
    otherGrant: () => undefined,
    // Introspection: 200 {"active":false} with the right secret (oidc-provider's answer for an
    // unknown token), 401 invalid_client otherwise; the descriptions as Keycloak 26.7.3 answers
    // them (tests/e2e/keycloak.rs compares every answer here with a real Keycloak).
    introspect(result, params) {
      if (result.kind === 'unknown' || result.kind === 'no_client') {
        return oauthError(401, 'invalid_client', invalidClient);
      }
      if (result.kind !== 'ok') return oauthError(401, 'invalid_client', 'Client authentication failed.');
      if (!params.token) return oauthError(400, 'invalid_request', 'Token not provided.');
      return undefined;
    },
    // Revocation: the token endpoint's client authentication (401 with a wrong secret); with the
    // right one, a token that is not a JWT is answered 200 {"error":"invalid_token"} (Keycloak
    // 26.7.3, compared by tests/e2e/keycloak.rs), a token it issued is revoked.
    revoke(result, params) {
      if (result.kind !== 'ok') return this.tokenAuthError(result.kind);
      if (!String(params.token ?? '').includes('.')) return oauthError(200, 'invalid_token', 'Invalid token');
      return undefined;
    },
    authz: {
      // Measured on 26.7 (issue #13; report §1 "/authorize without a user").
      unknownClient: () => html(400, "We are sorry...", 'Client not found.'),
      badRedirect: () => html(400, "We are sorry...", 'Invalid parameter: redirect_uri'),
      // 200 with the login form, measured on 26.7 (issue #13).
      login: () => ({
        status: 200,
        html: `<!DOCTYPE html>\n<html><head><title>Sign in to ${escapeHtml(realm)}</title></head><body>`
          + `<form id="kc-form-login" method="post" action="${escapeHtml(ep('/login-actions/authenticate'))}">`
          + '<input id="username" name="username"><input id="password" name="password" type="password">'
          + '<input type="submit" id="kc-login" value="Sign In"></form></body></html>\n',
      }),
      loginScopes: allowedScopes,
      supportedResponseTypes: responseTypes,
      pkceMethods: ['plain', 'S256'],
      // Errors after the redirect URI is accepted go to the callback (report §1, redirectErrorToClient).
      messages: { invalid_scope: (q) => `Invalid scopes: ${q.scope}` },
    },
  };
}

function entra(env, common) {
  const { base, endpointBase, clients, signing } = env;
  const tenant = env.config.tenant ?? DEFAULTS.tenant;
  // v2 issuer `https://login.microsoftonline.com/<tid>/v2.0`, no trailing slash (report §2; [RP]).
  const tenantIssuer = `${base}/${tenant}/v2.0`;
  // `common` publishes the literal `{tenantid}` template (report §2, coreos/go-oidc#121).
  const templated = `${base}/{tenantid}/v2.0`;
  const doc = (segment, issuer) => ({
    // Field set and values from the real single-tenant document in [RP] (report §2). No
    // grant_types_supported, no code_challenge_methods_supported, no introspection or revocation
    // endpoint (report §2 "Fields that are missing"). userinfo_endpoint: graph.microsoft.com in the
    // real document; here on the listen address like every other endpoint.
    token_endpoint: `${endpointBase}/${segment}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${endpointBase}/${segment}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${endpointBase}/oidc/userinfo`,
    authorization_endpoint: `${endpointBase}/${segment}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${endpointBase}/${segment}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${endpointBase}/${segment}/oauth2/v2.0/logout`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
  });
  const segments = common ? ['common', tenant] : [tenant];
  const discovery = {};
  const tokenPaths = {};
  for (const segment of segments) {
    const issuer = segment === 'common' ? templated : tenantIssuer;
    discovery[`/${segment}/v2.0/.well-known/openid-configuration`] = () => doc(segment, issuer);
    tokenPaths[`/${segment}/oauth2/v2.0/token`] = { segment };
  }
  // Error bodies carry error_codes, timestamp, trace_id, correlation_id, error_uri besides the RFC
  // members (report §2, reference-error-codes.md).
  const aad = (status, error, code, description) => oauthError(status, error, `AADSTS${code}: ${description}`, {
    error_codes: [code],
    timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
    error_uri: `${endpointBase}/error?code=${code}`,
  });
  const errorPage = (code, message) => ({
    // Entra's error pages name the AADSTS code (report §2 "/authorize without a user"); their HTTP
    // status is UNVERIFIED, 400 chosen.
    status: 400,
    html: '<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head><body>'
      + `<div id="service_exception_message">AADSTS${code}: ${escapeHtml(message)}</div></body></html>\n`,
  });
  return {
    issuer: common ? templated : tenantIssuer,
    // Tokens carry the tenant's issuer, also when discovery went through /common (report §2).
    tokenIssuer: tenantIssuer,
    tokenAudience: (params) => params.scope.slice(0, -'/.default'.length),
    discovery,
    jwksPath: null,
    jwksPaths: segments.map((s) => `/${s}/discovery/v2.0/keys`),
    // Keys have kty, use, kid, n, e and a per-key `issuer`, and no `alg` (report §2 "JWKS"; [RP]).
    // x5t/x5c are left out: the test keys have no certificate.
    jwks: (path) => ({
      keys: publicKeys(signing).map(({ alg: _alg, ...k }) => ({
        ...k,
        use: 'sig',
        issuer: path.startsWith('/common/') ? templated : tenantIssuer,
      })),
    }),
    authorizationPaths: segments.map((s) => `/${s}/oauth2/v2.0/authorize`),
    tokenPaths,
    pages: {},
    tokenAuthError(kind, auth) {
      switch (kind) {
        // Unknown client: unauthorized_client AADSTS700016 (report §2 table). Status UNVERIFIED
        // ("probably 400"), 400 chosen. No client_id at all is answered the same way (UNVERIFIED).
        case 'unknown':
        case 'no_client':
          return aad(400, 'unauthorized_client', 700016,
            `Application with identifier '${auth.id ?? ''}' was not found in the directory '${tenant}'.`);
        // Missing secret: AADSTS7000218 (report §2 table); status and error code UNVERIFIED,
        // 401 invalid_client chosen like the wrong-secret case.
        case 'no_secret':
          return aad(401, 'invalid_client', 7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
        // Wrong secret: 401 invalid_client AADSTS7000215 (report §2 table).
        default:
          return aad(401, 'invalid_client', 7000215,
            'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, '
            + `not the client secret ID, for a secret added to app '${auth.id}'.`);
      }
    },
    clientCredentials(client, params, context) {
      // Client credentials over /common: AADSTS9001023 (report §2 table, reference-error-codes.md);
      // the error code and status are UNVERIFIED, 400 unsupported_grant_type chosen.
      if (context.segment === 'common') {
        return aad(400, 'unsupported_grant_type', 9001023, "The grant type isn't supported over the /common or "
          + '/consumers endpoints. Please use the /organizations or tenant-specific endpoint.');
      }
      // Missing scope: AADSTS900144 invalid_request (report §2 table; oidc-cli#7 shows invalid_request).
      // Status UNVERIFIED, 400 chosen.
      if (!params.scope) {
        return aad(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
      }
      // A scope without the /.default suffix: invalid_scope AADSTS1002012 (report §2 table). Status
      // UNVERIFIED, 400 per RFC 6749 5.2.
      const scopes = splitScopes(params.scope);
      if (scopes.length !== 1 || !scopes[0].endsWith('/.default')) {
        return aad(400, 'invalid_scope', 1002012, `The provided value for scope ${params.scope} is not valid. Client `
          + 'credential flows must have a scope value with /.default suffixed to the resource identifier (application '
          + 'ID URI).');
      }
      // A resource the tenant does not know: invalid_resource AADSTS500011 (report §2 table; status
      // UNVERIFIED, 400 chosen). Each client's `scopes` are the `<resource>/.default` values it can
      // get a token for. Entra has no per-application switch for the client-credentials grant in the
      // sources the report cites, so a client's grant_types do not gate it here.
      if (!client.scopes.includes(scopes[0])) {
        const resource = scopes[0].slice(0, -'/.default'.length);
        return aad(400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the `
          + `tenant named ${tenant}. This can happen if the application has not been installed by the administrator `
          + 'of the tenant or consented to by any user in the tenant. You might have sent your authentication request '
          + 'to the wrong tenant.');
      }
      return null;
    },
    otherGrant: () => undefined,
    authz: {
      // AADSTS700016 / AADSTS50011 error pages (report §2; reference-error-codes.md and the
      // AADSTS50011 troubleshooting article); status UNVERIFIED.
      unknownClient: (q) => errorPage(700016,
        `Application with identifier '${q.client_id ?? ''}' was not found in the directory '${tenant}'.`),
      badRedirect: (q) => errorPage(50011, `The redirect URI '${q.redirect_uri ?? ''}' specified in the request does `
        + `not match the redirect URIs configured for the application '${q.client_id}'.`),
      // The sign-in page is served by the authorization endpoint's host itself (report §2); whether
      // it comes after a redirect and its status are UNVERIFIED: 200 chosen.
      login: () => ({
        status: 200,
        html: '<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head><body>'
          + '<form name="f1" method="post"><input name="loginfmt" type="email"></form></body></html>\n',
      }),
      loginScopes: (client) => new Set(['openid', 'profile', 'email', 'offline_access', ...client.scopes]),
      supportedResponseTypes: ['code', 'id_token', 'code id_token', 'id_token token'],
      // Entra supports plain and S256 without advertising them (report §2, openiddict adds both).
      pkceMethods: ['plain', 'S256'],
      messages: {},
    },
  };
}

function okta(env) {
  const { base, endpointBase, clients, signing } = env;
  const as = env.config.authServer ?? DEFAULTS.authServer;
  // Custom authorization server: issuer `https://${yourOktaDomain}/oauth2/${authServerId}`,
  // endpoints `/oauth2/{id}/v1/...` (report §3 "Custom authorization server").
  const issuer = `${base}/oauth2/${as}`;
  const ep = (p) => `${endpointBase}/oauth2/${as}/v1${p}`;
  const authMethods = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'];
  // Custom scopes are returned only when publicly discoverable (report §3): none of our clients'
  // custom scopes is, so scopes_supported lists only the standard ones ([RP] list, minus the
  // org's okta.myAccount.* scopes).
  const standardScopes = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'device_sso'];
  const customScopes = new Set([...clients.values()].flatMap((c) => c.scopes));
  const responseTypes = ['code', 'id_token', 'code id_token', 'code token', 'id_token token', 'code id_token token'];
  const doc = (grantTypes) => ({
    // Field set and values from the real /oauth2/default document in [RP] (report §3).
    issuer,
    authorization_endpoint: ep('/authorize'),
    token_endpoint: ep('/token'),
    userinfo_endpoint: ep('/userinfo'),
    registration_endpoint: `${endpointBase}/oauth2/v1/clients`,
    jwks_uri: ep('/keys'),
    response_types_supported: responseTypes,
    response_modes_supported: ['query', 'fragment', 'form_post', 'okta_post_message'],
    grant_types_supported: grantTypes,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: standardScopes,
    token_endpoint_auth_methods_supported: authMethods,
    code_challenge_methods_supported: ['S256'],
    introspection_endpoint: ep('/introspect'),
    introspection_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint: ep('/revoke'),
    revocation_endpoint_auth_methods_supported: authMethods,
    end_session_endpoint: ep('/logout'),
    device_authorization_endpoint: ep('/device/authorize'),
  });
  const grants = ['authorization_code', 'implicit', 'refresh_token', 'password',
    'urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba'];
  const invalidSecret = 'The client secret supplied for a confidential client is invalid.';
  return {
    issuer,
    discovery: {
      // openid-configuration lacks client_credentials in grant_types_supported [RP]; the
      // oauth-authorization-server document lists it (report §3, 3rd-party evidence from two orgs).
      [`/oauth2/${as}/.well-known/openid-configuration`]: () => doc(grants),
      [`/oauth2/${as}/.well-known/oauth-authorization-server`]: () => doc([...grants.slice(0, 4), 'client_credentials',
        ...grants.slice(4)]),
    },
    jwksPath: `/oauth2/${as}/v1/keys`,
    // RSA keys with alg RS256 and use sig (report §3 "JWKS").
    jwks: () => ({ keys: publicKeys(signing) }),
    authorizationPath: `/oauth2/${as}/v1/authorize`,
    tokenPaths: { [`/oauth2/${as}/v1/token`]: {} },
    introspectionPath: `/oauth2/${as}/v1/introspect`,
    revocationPath: `/oauth2/${as}/v1/revoke`,
    pages: {},
    tokenAuthError(kind) {
      switch (kind) {
        // No credentials: 401 invalid_client "No client credentials found." (report §3 table).
        case 'no_client':
          return oauthError(401, 'invalid_client', 'No client credentials found.');
        // Unknown client: a non-RFC body (errorCode/errorSummary, report §3 table). Status 401 in
        // some recordings, 400 in others: UNVERIFIED, 401 chosen.
        case 'unknown':
          return json(401, {
            errorCode: 'invalid_client',
            errorSummary: "Invalid value for 'client_id' parameter.",
            errorLink: 'invalid_client',
            errorId: `oae${randomBytes(11).toString('base64url')}`,
            errorCauses: [],
          });
        // Wrong secret: 401 invalid_client (report §3 table, Okta service-app guide example). A
        // missing secret is answered the same way here (UNVERIFIED).
        default:
          return oauthError(401, 'invalid_client', invalidSecret);
      }
    },
    clientCredentials(client, params) {
      // Grant not enabled for the app: 400 unauthorized_client listing the configured grants
      // (report §3 table).
      if (!client.grant_types.includes('client_credentials')) {
        return oauthError(400, 'unauthorized_client', 'The client is not authorized to use the provided grant type. '
          + `Configured grant types: [${client.grant_types.join(', ')}].`);
      }
      // No scope and no default scopes: 400 invalid_scope (report §3 "Where it works").
      const scopes = splitScopes(params.scope);
      if (scopes.length === 0) {
        return oauthError(400, 'invalid_scope', 'The authorization server resource does not have any configured default '
          + "scopes, 'scope' must be provided.");
      }
      // scope=openid: 400 invalid_scope (report §3, Kong support article).
      if (scopes.includes('openid')) {
        return oauthError(400, 'invalid_scope', "Cannot request 'openid' scopes using client credentials.");
      }
      // A scope the authorization server does not have: 400 invalid_scope (report §3 table). A
      // custom scope of another client is treated the same way (Okta's access-policy answer for it
      // is not in the report).
      if (scopes.some((s) => !client.scopes.includes(s))) {
        return oauthError(400, 'invalid_scope', 'One or more scopes are not configured for the authorization server '
          + 'resource.');
      }
      return null;
    },
    otherGrant: () => undefined,
    // Introspection 200 {"active":false} / revocation 200 for an unknown token with the right
    // client, 401 invalid_client with a bad one (report §3, Okta OIDC reference).
    introspect: (result) => (result.kind === 'ok' ? undefined : oauthError(401, 'invalid_client', invalidSecret)),
    revoke: (result) => (result.kind === 'ok' ? undefined : oauthError(401, 'invalid_client', invalidSecret)),
    authz: {
      // Unknown client: UNVERIFIED (report §3); an error page like the unregistered-callback one,
      // with the errorSummary Okta gives the token endpoint.
      unknownClient: () => html(400, '400 Bad Request', "Invalid value for 'client_id' parameter."),
      // HTML 400 (report §3, support.okta.com article of that title).
      badRedirect: () => html(400, '400 Bad Request',
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings"),
      // 200 with the sign-in widget (report §3, 3rd-party observation).
      login: () => ({
        status: 200,
        html: '<!DOCTYPE html>\n<html><head><title>Sign In</title></head><body>'
          + '<div id="okta-sign-in"></div><script>/* sign-in widget */</script></body></html>\n',
      }),
      loginScopes: (client) => new Set([...standardScopes, ...client.scopes, ...customScopes]),
      supportedResponseTypes: responseTypes,
      pkceMethods: ['S256'],
      messages: {},
    },
  };
}

function auth0(env) {
  const { base, endpointBase, clients, signing } = env;
  // Issuer WITH a trailing slash (report §4; [RP]); discovery at /.well-known/openid-configuration,
  // and the doubled slash (issuer + "/.well-known") is a 404 (report §4, coreos/go-oidc#66).
  const issuer = `${base}/`;
  const ep = (p) => `${endpointBase}${p}`;
  const scopes = ['openid', 'profile', 'offline_access', 'name', 'given_name', 'family_name', 'nickname', 'email',
    'email_verified', 'picture', 'created_at', 'identities', 'phone', 'address'];
  const responseTypes = ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token',
    'code token id_token'];
  // APIs of the tenant: every audience some client has a client-grant for.
  const apis = new Set([...clients.values()].flatMap((c) => c.audiences));
  const unauthorized = oauthError(401, 'access_denied', 'Unauthorized');
  return {
    issuer,
    discovery: {
      // The real document in [RP] (report §4): no grant_types_supported, no introspection_endpoint,
      // a revocation_endpoint, API permissions never in scopes_supported, HS256 among the algorithms.
      '/.well-known/openid-configuration': () => ({
        issuer,
        authorization_endpoint: ep('/authorize'),
        token_endpoint: ep('/oauth/token'),
        device_authorization_endpoint: ep('/oauth/device/code'),
        userinfo_endpoint: ep('/userinfo'),
        mfa_challenge_endpoint: ep('/mfa/challenge'),
        jwks_uri: ep('/.well-known/jwks.json'),
        registration_endpoint: ep('/oidc/register'),
        revocation_endpoint: ep('/oauth/revoke'),
        scopes_supported: scopes,
        response_types_supported: responseTypes,
        code_challenge_methods_supported: ['S256', 'plain'],
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        request_uri_parameter_supported: false,
        request_parameter_supported: false,
      }),
    },
    jwksPath: '/.well-known/jwks.json',
    // RSA keys with alg RS256, use sig (report §4 "JWKS").
    jwks: () => ({ keys: publicKeys(signing) }),
    authorizationPath: '/authorize',
    tokenPaths: { '/oauth/token': {} },
    revocationPath: '/oauth/revoke',
    tokenAudience: (params) => params.audience,
    pages: {
      // Universal Login (report §4).
      '/u/login': () => ({
        status: 200,
        html: '<!DOCTYPE html>\n<html><head><title>Log in</title></head><body>'
          + '<form method="POST"><input name="username"><input name="password" type="password"></form></body></html>\n',
      }),
    },
    // Wrong secret: 401 access_denied "Unauthorized", not invalid_client (report §4 table). Unknown
    // client: UNVERIFIED, "probably the same" (report §4), so the same. Missing secret: the same
    // (UNVERIFIED).
    tokenAuthError: () => unauthorized,
    clientCredentials(client, params) {
      // Grant not enabled: 403 unauthorized_client (report §4 table).
      if (!client.grant_types.includes('client_credentials')) {
        return oauthError(403, 'unauthorized_client', "Grant type 'client_credentials' not allowed for the client.");
      }
      const audience = params.audience;
      // No audience and no default audience: access_denied (report §4 table). Status UNVERIFIED,
      // 403 chosen like the other access_denied answers.
      if (!audience) {
        return oauthError(403, 'access_denied',
          'No audience parameter was provided, and no default audience has been configured');
      }
      // Audience not an API of the tenant: 403 access_denied (report §4 table).
      if (!apis.has(audience)) {
        return oauthError(403, 'access_denied', `Service not enabled within domain: ${audience}`);
      }
      // API exists, no client-grant for this client: 403 access_denied (report §4 table).
      if (!client.audiences.includes(audience)) {
        return oauthError(403, 'access_denied', `Client is not authorized to access "${audience}". You need to create a `
          + '"client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants');
      }
      return null;
    },
    otherGrant: () => undefined,
    // /oauth/revoke answers are UNVERIFIED (report §4): RFC 7009's are used, 200 for an unknown
    // token and 401 invalid_client for a bad client.
    revoke: (result) => (result.kind === 'ok' ? undefined
      : oauthError(401, 'invalid_client', 'Client authentication failed.')),
    authz: {
      // Unknown client: UNVERIFIED (report §4); an error page, 400 chosen.
      unknownClient: (q) => html(400, 'Oops!, something went wrong', `invalid_request: Unknown client: ${q.client_id ?? ''}`),
      // HTML error page, not sent to the callback; status UNVERIFIED, 400 chosen (report §4).
      badRedirect: () => html(400, 'Oops!, something went wrong', 'Callback URL mismatch. The provided redirect_uri is '
        + 'not in the list of allowed callback URLs.'),
      // Redirect to Universal Login on the same host, `/u/login?state=…` (report §4; status 302
      // UNVERIFIED).
      login: () => redirect(`${base}/u/login?state=${randomBytes(16).toString('base64url')}`),
      // Which scopes Auth0's /authorize refuses is not in the report: the published ones and the
      // client's own are accepted.
      loginScopes: (client) => new Set([...scopes, ...client.scopes]),
      supportedResponseTypes: responseTypes,
      pkceMethods: ['S256', 'plain'],
      messages: {},
    },
  };
}

function google(env) {
  const { base, endpointBase, signing } = env;
  // Issuer `https://accounts.google.com`, no trailing slash (report §5; [RP]). The real endpoints
  // are on four hosts; here they keep their paths on the listen address.
  const issuer = base;
  const ep = (p) => `${endpointBase}${p}`;
  const scopes = ['openid', 'email', 'profile'];
  const responseTypes = ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token',
    'code token id_token', 'none'];
  return {
    issuer,
    discovery: {
      // The real document in [RP] (report §5): grant_types_supported without client_credentials, no
      // introspection endpoint, a revocation endpoint.
      '/.well-known/openid-configuration': () => ({
        issuer,
        authorization_endpoint: ep('/o/oauth2/v2/auth'),
        device_authorization_endpoint: ep('/device/code'),
        token_endpoint: ep('/token'),
        userinfo_endpoint: ep('/v1/userinfo'),
        revocation_endpoint: ep('/revoke'),
        jwks_uri: ep('/oauth2/v3/certs'),
        response_types_supported: responseTypes,
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: scopes,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'locale',
          'name', 'picture', 'sub'],
        code_challenge_methods_supported: ['plain', 'S256'],
        grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code',
          'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      }),
    },
    jwksPath: '/oauth2/v3/certs',
    // RSA keys with alg RS256, use sig (report §5 "JWKS").
    jwks: () => ({ keys: publicKeys(signing) }),
    authorizationPath: '/o/oauth2/v2/auth',
    tokenPaths: { '/token': {} },
    revocationPath: '/revoke',
    revokeWithoutClient: true,
    pages: {
      // Where the sign-in ends up (report §5, 3rd-party test); status UNVERIFIED, 200 chosen.
      '/v3/signin/identifier': () => ({
        status: 200,
        html: '<!DOCTYPE html>\n<html><head><title>Sign in - Google Accounts</title></head><body>'
          + '<form method="post"><input type="email" name="identifier"></form></body></html>\n',
      }),
    },
    // Google authenticates the client before it looks at the grant (report §5 "Working probe").
    tokenAuthError(kind) {
      switch (kind) {
        // Unknown client: 401 invalid_client "The OAuth client was not found." (report §5).
        case 'unknown':
          return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
        // No secret: 400 invalid_request "client_secret is missing." (report §5). No client_id at
        // all is answered like an unknown client (UNVERIFIED).
        case 'no_secret':
          return oauthError(400, 'invalid_request', 'client_secret is missing.');
        case 'no_client':
          return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
        // Wrong secret: 401 invalid_client "Unauthorized" (report §5).
        default:
          return oauthError(401, 'invalid_client', 'Unauthorized');
      }
    },
    // No client credentials at all: 400 unsupported_grant_type (report §5, 3rd-party capture).
    clientCredentials: () => oauthError(400, 'unsupported_grant_type', 'Invalid grant_type: client_credentials'),
    // authorization_code with a code Google never issued: 400 invalid_grant "Malformed auth code."
    // (report §5 "Working probe").
    otherGrant(grant) {
      if (grant === 'authorization_code') return oauthError(400, 'invalid_grant', 'Malformed auth code.');
      return undefined;
    },
    // Revocation needs no client authentication, so it cannot prove the secret; POST only (GET is a
    // 404); a dead token gives 400 invalid_token "Token expired or revoked" (report §5). That an
    // arbitrary string gets the same 400 is UNVERIFIED.
    revoke: () => oauthError(400, 'invalid_token', 'Token expired or revoked'),
    authz: {
      // "401. That's an error. Error: invalid_client — The OAuth client was not found." (report §5).
      unknownClient: () => html(401, "401. That's an error.", 'Error 401: invalid_client. The OAuth client was not found.'),
      // "Access blocked: This app's request is invalid … Error 400: redirect_uri_mismatch" (report §5);
      // whether it comes after a redirect is UNVERIFIED.
      badRedirect: () => html(400, "Access blocked: This app's request is invalid",
        'Error 400: redirect_uri_mismatch'),
      // Ends on accounts.google.com/v3/signin/identifier (report §5, 3rd-party test); a same-origin
      // 302 to it is chosen (UNVERIFIED).
      login: (q) => redirect(`${base}/v3/signin/identifier?${queryString({ client_id: q.client_id, flowName: 'GeneralOAuthFlow' })}`),
      loginScopes: (client) => new Set([...scopes, ...client.scopes]),
      supportedResponseTypes: responseTypes,
      pkceMethods: ['plain', 'S256'],
      messages: {},
    },
  };
}

function cognito(env) {
  const { base, endpointBase, signing } = env;
  const pool = env.config.userPool ?? DEFAULTS.userPool;
  // Issuer `https://cognito-idp.<region>.amazonaws.com/<poolId>`, discovery `<issuer>/.well-known/
  // openid-configuration`, keys at `<issuer>/.well-known/jwks.json` (report §6). The authorize,
  // token and revoke endpoints are on the user-pool domain in reality; here on the listen address.
  const issuer = `${base}/${pool}`;
  const ep = (p) => `${endpointBase}${p}`;
  const scopes = ['openid', 'email', 'phone', 'profile'];
  // No bare id_token response type (report §6 "Gaps").
  const responseTypes = ['code', 'token'];
  // Errors are 400 {"error": …} without error_description (report §6, token-endpoint.md).
  const bare = (error) => json(400, { error });
  return {
    issuer,
    discovery: {
      // The real document (report §6): no grant_types_supported, no code_challenge_methods_supported,
      // no introspection endpoint, a revocation endpoint, no custom scopes in scopes_supported.
      [`/${pool}/.well-known/openid-configuration`]: () => ({
        authorization_endpoint: ep('/oauth2/authorize'),
        end_session_endpoint: ep('/logout'),
        id_token_signing_alg_values_supported: ['RS256'],
        issuer,
        jwks_uri: `${endpointBase}/${pool}/.well-known/jwks.json`,
        response_types_supported: responseTypes,
        revocation_endpoint: ep('/oauth2/revoke'),
        scopes_supported: scopes,
        subject_types_supported: ['public'],
        token_endpoint: ep('/oauth2/token'),
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        userinfo_endpoint: ep('/oauth2/userInfo'),
      }),
    },
    jwksPath: `/${pool}/.well-known/jwks.json`,
    jwks: () => ({ keys: publicKeys(signing) }),
    authorizationPath: '/oauth2/authorize',
    tokenPaths: { '/oauth2/token': {} },
    revocationPath: '/oauth2/revoke',
    pages: {
      // The login page the authorize endpoint redirects to (report §6; AWS authorization-endpoint.md:
      // "it redirects to the Login endpoint with the same URL parameters").
      '/login': () => ({
        status: 200,
        html: '<!DOCTYPE html>\n<html><head><title>Signin</title></head><body>'
          + '<form method="post"><input name="username"><input name="password" type="password"></form></body></html>\n',
      }),
      // The error page answers 400 when followed (report §6, 3rd-party notes).
      '/error': (q) => html(400, 'An error was encountered with the requested page.', q.error ?? 'error'),
    },
    // Wrong secret and unknown client alike: 400 invalid_client, no description (report §6).
    tokenAuthError: () => bare('invalid_client'),
    clientCredentials(client, params) {
      // Client not allowed the grant: 400 unauthorized_client (report §6, token-endpoint.md).
      if (!client.grant_types.includes('client_credentials')) return bare('unauthorized_client');
      // Without scope, all custom scopes of the client are granted (report §6); a client without
      // any custom (resource-server) scope cannot be allowed the grant in Cognito, so that case and
      // a disallowed scope answer invalid_scope (report §6; status UNVERIFIED, 400 chosen like the
      // documented errors).
      const requested = splitScopes(params.scope);
      if (client.scopes.length === 0 || requested.some((s) => !client.scopes.includes(s))) return bare('invalid_scope');
      return null;
    },
    otherGrant: () => undefined,
    // /oauth2/revoke: 200 with an empty body for an invalid token, 401 invalid_client for invalid
    // client credentials (report §6, revocation-endpoint.md). Which of 200 and 400
    // unsupported_token_type a garbage string gets is UNVERIFIED: 200 chosen.
    revoke: (result) => (result.kind === 'ok' ? { status: 200 } : json(401, { error: 'invalid_client' })),
    authz: {
      // Unknown client: UNVERIFIED (report §6); the same shape as the unregistered callback: a 302
      // to the domain's own error page.
      unknownClient: (q) => redirect(`${base}/error?${queryString({ error: 'invalid_request', client_id: q.client_id ?? '' })}`),
      // 302 to `/error?error=redirect_mismatch&client_id=…` on the same domain (report §6).
      badRedirect: (q) => redirect(`${base}/error?${queryString({ error: 'redirect_mismatch', client_id: q.client_id })}`),
      // 302 to /login with the same parameters (report §6; AWS authorization-endpoint.md).
      login: (q) => redirect(`${base}/login?${queryString(q)}`),
      loginScopes: (client) => new Set([...scopes, 'aws.cognito.signin.user.admin', ...client.scopes]),
      supportedResponseTypes: responseTypes,
      // Cognito supports S256 only (report §6, authorization-endpoint.md).
      pkceMethods: ['S256'],
      messages: {},
    },
  };
}

function dex(env) {
  const { base, endpointBase, signing } = env;
  // Dex v2.45.1: the issuer is whatever is configured (report §7); the usual `<host>/dex`.
  const issuer = `${base}/dex`;
  const ep = (p) => `${endpointBase}/dex${p}`;
  const scopes = ['openid', 'email', 'groups', 'profile', 'offline_access'];
  // Grants Dex v2.45.1 serves at /token with the default configuration: no client_credentials
  // (report §7 "grant_types_supported").
  const grants = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code',
    'urn:ietf:params:oauth:grant-type:token-exchange'];
  const errorPage = (status, message) => html(status, 'Error', message);
  return {
    issuer,
    discovery: {
      // constructDiscovery in v2.45.1 server/handlers.go (report §7): fixed lists, response types
      // ["code"] by default, introspection published, no revocation endpoint.
      '/dex/.well-known/openid-configuration': () => ({
        issuer,
        authorization_endpoint: ep('/auth'),
        token_endpoint: ep('/token'),
        jwks_uri: ep('/keys'),
        userinfo_endpoint: ep('/userinfo'),
        device_authorization_endpoint: ep('/device/code'),
        introspection_endpoint: ep('/token/introspect'),
        grant_types_supported: grants,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256', 'plain'],
        scopes_supported: scopes,
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        claims_supported: ['iss', 'sub', 'aud', 'iat', 'exp', 'email', 'email_verified', 'locale', 'name',
          'preferred_username', 'at_hash'],
      }),
    },
    jwksPath: '/dex/keys',
    jwks: () => ({ keys: publicKeys(signing) }),
    authorizationPath: '/dex/auth',
    tokenPaths: { '/dex/token': {} },
    introspectionPath: '/dex/token/introspect',
    pages: {
      // The local (password) connector's login form, where /auth/local hands the login on to.
      '/dex/auth/local/login': () => ({
        status: 200,
        html: '<!DOCTYPE html>\n<html><head><title>dex</title></head><body><h2>Log in to Your Account</h2>'
          + '<form method="post"><input name="login"><input name="password" type="password"></form></body></html>\n',
      }),
    },
    // Dex checks grant_type before it authenticates the client: an unsupported grant is 400
    // {"error":"unsupported_grant_type"} without description, whatever the secret (report §7).
    grantFirst: (grant) => (grants.includes(grant) ? null : json(400, { error: 'unsupported_grant_type' })),
    // Wrong secret or unknown client: 401 invalid_client "Invalid client credentials." (report §7,
    // withClientFromStorage).
    tokenAuthError: () => oauthError(401, 'invalid_client', 'Invalid client credentials.'),
    clientCredentials: () => json(400, { error: 'unsupported_grant_type' }),
    otherGrant(grant) {
      // Garbage refresh token with the right secret: 400 invalid_request (report §7,
      // server/refreshhandlers.go).
      if (grant === 'refresh_token') {
        return oauthError(400, 'invalid_request', 'Refresh token is invalid or has already been claimed by another client.');
      }
      // Garbage code: 400 invalid_grant "Invalid or expired code parameter." (dex server/handlers.go
      // handleAuthCode; not in the report).
      if (grant === 'authorization_code') return oauthError(400, 'invalid_grant', 'Invalid or expired code parameter.');
      return oauthError(400, 'invalid_grant', 'Invalid grant.');
    },
    // /token/introspect does not authenticate the client: an unknown token is always 200
    // {"active":false} (report §7, server/introspectionhandler.go).
    introspect: () => json(200, { active: false }),
    noClientAuthAtIntrospection: true,
    authz: {
      // v2.45.1 /auth does not validate the client: with one connector it redirects to
      // /auth/{connector} with the same query (report §7); validation happens there. The Location
      // is a path, as Go's http.Redirect writes it; the other profiles send absolute URLs.
      beforeValidation: (q, path) => (path === '/dex/auth' ? redirect(`/dex/auth/local?${queryString(q)}`) : null),
      // At /auth/{connector}: unknown client 404 "Invalid client_id.", unregistered redirect 400
      // "Unregistered redirect_uri." (report §7, server/oauth2.go:438-447).
      unknownClient: () => errorPage(404, 'Invalid client_id.'),
      badRedirect: () => errorPage(400, 'Unregistered redirect_uri.'),
      // A valid request is handed on to the connector's login form, without client_id (Dex
      // v2.45.1, compared by tests/e2e/dex.rs).
      login: () => redirect(`/dex/auth/local/login?back=&state=${randomBytes(12).toString('base64url')}`),
      // Errors go back to the callback with 303 See Other (tests/e2e/dex.rs).
      errorRedirectStatus: 303,
      loginScopes: (client) => new Set([...scopes, ...client.scopes]),
      supportedResponseTypes: ['code'],
      pkceMethods: ['S256', 'plain'],
      requireOpenid: true,
      messages: {},
    },
    extraAuthorizationPaths: ['/dex/auth/local'],
  };
}

// ------------------------------------------------------------------------------------------------
// The front handler.

/**
 * Builds the request handler of profile `name`.
 * env: {config, listenUrl, clients: [client config], signing: private JWKS, forward(req, res, path, params)}
 */
export function createFront(name, env) {
  const { config, listenUrl } = env;
  // Clients normalised: every list present.
  const clients = new Map(config.clients.map((c) => [c.client_id, {
    ...c,
    grant_types: c.grant_types ?? (c.redirect_uris?.length ? ['authorization_code', 'client_credentials']
      : ['client_credentials']),
    redirect_uris: c.redirect_uris ?? [],
    scopes: c.scopes ?? [],
    audiences: c.audiences ?? [],
  }]));
  // httpEndpoints: discovery names http:// endpoints although the issuer is https (a downgrade).
  const endpointBase = config.httpEndpoints ? listenUrl.replace(/^https:/, 'http:') : listenUrl;
  const ctx = { config, base: listenUrl, endpointBase, clients, signing: env.signing };
  const profile = {
    keycloak: () => keycloak(ctx),
    entra: () => entra(ctx, false),
    'entra-common': () => entra(ctx, true),
    okta: () => okta(ctx),
    auth0: () => auth0(ctx),
    google: () => google(ctx),
    cognito: () => cognito(ctx),
    dex: () => dex(ctx),
  }[name]();

  // The configuration's own overrides, as for the default profile.
  const announcedIssuer = config.issuer ? config.issuer.replaceAll('{listen}', listenUrl) : profile.issuer;
  const finishDiscovery = (doc) => {
    // An `issuer` option replaces every document's issuer (entra-common's tenant document keeps
    // the tenant issuer otherwise).
    const out = config.issuer ? { ...doc, issuer: announcedIssuer } : { ...doc };
    if (config.scopes) out.scopes_supported = config.scopes;
    if (config.responseTypes) out.response_types_supported = config.responseTypes;
    return out;
  };
  const jwksBody = (path) => (config.jwksOverride !== undefined ? config.jwksOverride : profile.jwks(path));
  const jwksPaths = new Set(profile.jwksPaths ?? [profile.jwksPath]);
  const authorizationPaths = new Set([...(profile.authorizationPaths ?? [profile.authorizationPath]),
    ...(profile.extraAuthorizationPaths ?? [])]);
  const supportedResponseTypes = (config.responseTypes ?? profile.authz.supportedResponseTypes)
    .map((rt) => splitScopes(rt));

  function authorize(q, path) {
    const early = profile.authz.beforeValidation?.(q, path);
    if (early) return early;
    // RFC 6749 4.1.2.1: an unknown client or an unregistered redirect URI must not be redirected to.
    const client = q.client_id ? clients.get(q.client_id) : undefined;
    if (!client) return profile.authz.unknownClient(q);
    if (!q.redirect_uri || !client.redirect_uris.includes(q.redirect_uri)) return profile.authz.badRedirect(q, client);
    // Everything else goes back to the callback with error= (RFC 6749 4.1.2.1).
    const responseType = splitScopes(q.response_type);
    const fragment = q.response_mode ? q.response_mode === 'fragment'
      : responseType.length > 0 && !sameSet(responseType, ['code']);
    const refuse = (error, description) => redirect(withQuery(q.redirect_uri, {
      error,
      error_description: profile.authz.messages[error]?.(q) ?? description,
      state: q.state,
    }, fragment ? '#' : '?'), profile.authz.errorRedirectStatus);
    if (responseType.length === 0) return refuse('invalid_request', 'Missing parameter: response_type');
    if (!supportedResponseTypes.some((rt) => sameSet(rt, responseType))) {
      return refuse('unsupported_response_type', `Unsupported response_type: ${q.response_type}`);
    }
    const wantsCode = responseType.includes('code');
    const wantsImplicit = responseType.some((t) => t === 'token' || t === 'id_token');
    if ((wantsCode && !client.grant_types.includes('authorization_code'))
      || (wantsImplicit && !client.grant_types.includes('implicit'))) {
      return refuse('unauthorized_client', 'Client is not allowed to initiate browser login with the given response_type.');
    }
    const requested = splitScopes(q.scope);
    if (profile.authz.requireOpenid && !requested.includes('openid')) {
      return refuse('invalid_scope', 'Missing required scope(s) ["openid"].');
    }
    const known = profile.authz.loginScopes(client);
    const unknown = requested.filter((s) => !known.has(s));
    if (unknown.length > 0) return refuse('invalid_scope', `Invalid scopes: ${unknown.join(' ')}`);
    if (q.code_challenge_method !== undefined && !profile.authz.pkceMethods.includes(q.code_challenge_method)) {
      return refuse('invalid_request', 'Invalid parameter: code_challenge_method');
    }
    if (q.code_challenge_method !== undefined && !q.code_challenge) {
      return refuse('invalid_request', 'Missing parameter: code_challenge');
    }
    if (client.require_pkce && !q.code_challenge) return refuse('invalid_request', 'Missing parameter: code_challenge');
    if (responseType.includes('id_token') && !q.nonce) return refuse('invalid_request', 'Missing parameter: nonce');
    return profile.authz.login(q, client);
  }

  function token(req, res, params, context) {
    const grant = params.grant_type;
    const early = profile.grantFirst?.(grant);
    if (early) return send(res, early);
    const auth = clientAuth(req.headers, params);
    const result = authenticate(clients, auth);
    if (result.kind !== 'ok') return send(res, profile.tokenAuthError(result.kind, auth, result.client));
    const { client } = result;
    if (!grant) return send(res, oauthError(400, 'invalid_request', 'Missing form parameter: grant_type'));
    if (grant === 'client_credentials') {
      const refusal = profile.clientCredentials(client, params, context);
      if (refusal) return send(res, refusal);
      // Success: oidc-provider issues a real access token (a JWT signed with the published key, for
      // the audience the request names where the profile has one, see provider.mjs).
      const audience = profile.tokenAudience?.(params);
      return env.forward(req, res, '/token', canonical(client, {
        grant_type: 'client_credentials',
        ...(audience && URL.canParse(audience) ? { resource: audience } : {}),
      }));
    }
    const answer = profile.otherGrant(grant, client, params);
    if (answer) return send(res, answer);
    const { client_id: _id, client_secret: _secret, ...rest } = params;
    return env.forward(req, res, '/token', canonical(client, rest));
  }

  const canonical = (client, params) => ({ ...params, client_id: client.client_id, client_secret: client.client_secret });

  function introspectOrRevoke(req, res, params, which) {
    if (which === 'revoke' && profile.revokeWithoutClient) return send(res, profile.revoke(null, params));
    if (which === 'introspect' && profile.noClientAuthAtIntrospection) return send(res, profile.introspect(null, params));
    const result = authenticate(clients, clientAuth(req.headers, params));
    const answer = which === 'introspect' ? profile.introspect(result, params) : profile.revoke(result, params);
    if (answer) return send(res, answer);
    const { client_id: _id, client_secret: _secret, ...rest } = params;
    return env.forward(req, res, which === 'introspect' ? '/token/introspection' : '/token/revocation',
      canonical(result.client, rest));
  }

  const tokenPaths = new Map(Object.entries(profile.tokenPaths));

  async function handle(req, res) {
    // Split by hand: `new URL('//.well-known/x', base)` would read `.well-known` as a host.
    const [path, rawQuery = ''] = req.url.split(/\?(.*)/s);
    const query = Object.fromEntries(new URLSearchParams(rawQuery));
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (profile.discovery[path]) return send(res, json(200, finishDiscovery(profile.discovery[path]())));
      if (jwksPaths.has(path)) {
        return send(res, { ...json(200, jwksBody(path)), headers: { 'content-type': 'application/jwk-set+json' } });
      }
      if (authorizationPaths.has(path)) return send(res, authorize(query, path));
      if (profile.pages[path]) return send(res, profile.pages[path](query));
      return send(res, html(404, 'Not Found', `No page at ${path}`));
    }
    if (req.method !== 'POST') return send(res, html(405, 'Method Not Allowed', req.method));
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    if (tokenPaths.has(path)) return token(req, res, params, tokenPaths.get(path));
    if (profile.introspectionPath === path) return introspectOrRevoke(req, res, params, 'introspect');
    if (profile.revocationPath === path) return introspectOrRevoke(req, res, params, 'revoke');
    return send(res, html(404, 'Not Found', `No page at ${path}`));
  }

  return {
    issuer: announcedIssuer,
    tokenIssuer: profile.tokenIssuer ?? announcedIssuer,
    handle: (req, res) => handle(req, res).catch((err) => {
      process.stderr.write(`profile ${name}: ${err.stack}\n`);
      if (!res.headersSent) send(res, oauthError(500, 'server_error', 'internal error'));
    }),
  };
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body over 64 KiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
