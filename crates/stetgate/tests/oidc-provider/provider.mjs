// The bank's identity provider in stetgate's integration tests (tests/it/oidc.rs): the certified
// `oidc-provider` package (OpenID Connect Core 1.0, RFC 7636 PKCE, RFC 7523 private_key_jwt,
// RFC 9396 authorization_details), served over HTTPS, with a sign-in page a test can post to.
//
//   node provider.mjs <config.json>
//
// The configuration (written by the test):
//   port, host             where to listen (port 0: any); the issuer is https://<host>:<port>
//   tls: {cert, key}       PEM files of the server certificate
//   clients                oidc-provider client metadata (client_secret_basic, private_key_jwt ...)
//   id_token_ttl_secs      lifetime of ID tokens
//   acr: {sca, password}   the acr of a sign-in with the one-time code, and of one with the password only
//   claim                  the claim carrying the online-banking id (scope `psu`)
//   authorization_details_type   the RFC 9396 type accepted for payments
//   keys                   [{kid, kty: "RSA" | "EC"}]: signing keys, drawn at start-up
//   published              "honest" (the JWKS is the signing keys), "retired" (a fresh key is
//                          published instead of them: their kid is unknown), "forged" (fresh keys
//                          are published under their kids: signatures do not verify)
//
// The sign-in page (GET /interaction/<uid>) shows what the PSU approves (a payment's amount and
// payee, from authorization_details) and posts `login`, `password` and, for strong authentication,
// `otp` to /interaction/<uid>/login. Password `secret`, code `123456`. Consent is the bank's own
// (first-party): granted without a page. Events go to stdout as JSON lines: `ready` (with the issuer),
// `jwks` (each download of the key set), `authorization_details` (each validated request).

import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const PASSWORD = 'secret';
const PAYMENTS = 'urn:bank:payments';
const OTP = '123456';

function drawKey({ kid, kty }) {
  const { privateKey } = kty === 'EC'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

const publicPart = ({ d, p, q, dp, dq, qi, ...rest }) => rest;

const signing = config.keys.map(drawKey);
let published;
switch (config.published ?? 'honest') {
  case 'retired':
    published = config.keys.map(({ kid, kty }) => publicPart(drawKey({ kid: `${kid}-next`, kty })));
    break;
  case 'forged':
    published = config.keys.map((key) => publicPart(drawKey(key)));
    break;
  default:
    published = signing.map(publicPart);
}

const htmlEscape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const rarType = config.authorization_details_type ?? 'payment_initiation';
const claim = config.claim ?? 'online_banking_id';

function makeProvider(issuer) {
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: signing },
    acrValues: [config.acr.sca, config.acr.password],
    claims: { openid: ['sub'], psu: [claim] },
    scopes: ['openid', 'psu'],
    // The online-banking id travels in the ID token itself (stetgate reads no userinfo).
    conformIdTokenClaims: false,
    ttl: {
      IdToken: config.id_token_ttl_secs ?? 600,
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // RFC 9396 details are granted for a resource: the bank's payments (RFC 8707).
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx) => (ctx.oidc.params.authorization_details ? PAYMENTS : undefined),
        getResourceServerInfo: () => ({ scope: '', audience: PAYMENTS, accessTokenFormat: 'opaque' }),
        useGrantedResource: () => true,
      },
      richAuthorizationRequests: {
        enabled: true,
        types: {
          [rarType]: {
            validate(ctx, detail) {
              const amount = detail.instructedAmount;
              if (!amount || typeof amount.amount !== 'string' || typeof amount.currency !== 'string'
                || typeof detail.creditorName !== 'string') {
                throw new Error('a payment needs instructedAmount {amount, currency} and creditorName');
              }
              say({ event: 'authorization_details', details: [detail] });
            },
          },
        },
        authorizationDetailsForGrantSource: (ctx, source) => ctx.oidc.grant.rar,
        authorizationDetailsForAccessToken: (ctx, token, source) => source?.rar,
        authorizationDetailsForIntrospection: (ctx, token) => token.rar,
      },
    },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, [claim]: sub.replace(/^psu-/, '') };
        },
      };
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });

  // The key set the provider publishes (see `published`).
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/jwks') {
      say({ event: 'jwks' });
      ctx.type = 'application/jwk-set+json';
      ctx.body = { keys: published };
      return;
    }
    await next();
  });

  function page(details, uid, error) {
    const payment = (details.params.authorization_details
      ? JSON.parse(details.params.authorization_details) : [])
      .map((d) => `<p class="payment">${htmlEscape(d.instructedAmount.amount)} ${htmlEscape(d.instructedAmount.currency)} to ${htmlEscape(d.creditorName)}</p>`)
      .join('');
    return `<!doctype html><html><head><title>Bank sign-in</title></head><body>
  <h1>Sign in to your bank</h1>${payment}${error ? `<p class="error">${htmlEscape(error)}</p>` : ''}
  <form method="post" action="/interaction/${uid}/login">
  <label>Online banking id <input name="login"></label>
  <label>Password <input type="password" name="password"></label>
  <label>Code <input name="otp"></label>
  <button type="submit">Sign in</button>
  </form></body></html>`;
  }

  // The sign-in and the bank's own consent.
  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!match) {
      await next();
      return;
    }
    const [, uid, login] = match;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.set('cache-control', 'no-store');
    if (!login && ctx.method === 'GET' && details.prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [resource, scope] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scope.join(' '));
    }
    for (const detail of missing.rar ?? []) grant.addRar(detail);
      const grantId = await grant.save();
      await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      ctx.respond = false;
      return;
    }
    if (!login && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = page(details, uid);
      return;
    }
    if (login && ctx.method === 'POST') {
      const form = await readForm(ctx.req);
      const id = form.get('login') ?? '';
      if (!id || form.get('password') !== PASSWORD) {
        ctx.type = 'html';
        ctx.body = page(details, uid, 'Wrong id or password.');
        return;
      }
      const strong = form.get('otp') === OTP;
      const acr = strong ? config.acr.sca : config.acr.password;
      const amr = strong ? ['pwd', 'otp'] : ['pwd'];
      await provider.interactionFinished(ctx.req, ctx.res, {
        login: { accountId: `psu-${id}`, acr, amr },
      }, { mergeWithLastSubmission: false });
      ctx.respond = false;
      return;
    }
    ctx.status = 405;
  });
  return provider;
}

// The issuer names the port, known once listening (port 0): the provider is made then.
let handle = (req, res) => { res.statusCode = 503; res.end(); };
const server = https.createServer({
  cert: readFileSync(config.tls.cert),
  key: readFileSync(config.tls.key),
}, (req, res) => handle(req, res));

server.listen(config.port, '127.0.0.1', () => {
  const issuer = `https://${config.host}:${server.address().port}`;
  handle = makeProvider(issuer).callback();
  say({ event: 'ready', issuer });
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
