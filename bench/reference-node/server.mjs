// The Node anchor of the token-refresh benchmark: what Twilio's Webchat 3.0 server does for a refresh
// (Express, express.json(), the official `twilio` helper's AccessToken + ChatGrant), behind flexdesk's
// route shape and with the same per-request checks as flexdesk's ceiling: the session credential's
// HMAC-SHA256 (same format as crates/flexdesk-auth/src/chat/credential.rs) and a token for `customer-<id>`.
// Reads the same env as the Rust servers; prints `listening on http://127.0.0.1:PORT` when ready.
import crypto from 'node:crypto';
import express from 'express';
import twilio from 'twilio';

const { AccessToken } = twilio.jwt;
const { ChatGrant } = AccessToken;

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return v;
}

const cfg = {
  accountSid: env('TWILIO_ACCOUNT_SID'),
  apiKeySid: env('TWILIO_API_KEY_SID'),
  apiKeySecret: env('TWILIO_API_KEY_SECRET'),
  serviceSid: env('TWILIO_CONVERSATIONS_SERVICE_SID'),
  sessionSecret: env('SESSION_SECRET'),
  ttl: Number(process.env.TOKEN_TTL_SECONDS ?? 3600),
};

/** `<session id>.<expires at>.<context>.<base64url HMAC>` signed for exactly this session and not expired. */
function credentialOk(credential, sessionId, now) {
  if (typeof credential !== 'string') return false;
  const [id, exp, context, tag, extra] = credential.split('.');
  if (!id || !exp || !context || !tag || extra !== undefined || !/^\d+$/.test(exp)) return false;
  const want = crypto
    .createHmac('sha256', cfg.sessionSecret)
    .update(`flexdesk-session-credential-v2\n${id}\n${exp}\n${context}`)
    .digest();
  const got = Buffer.from(tag, 'base64url');
  return got.length === want.length && crypto.timingSafeEqual(got, want) && id === sessionId && now < Number(exp);
}

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '64kb' }));

app.post('/v1/sessions/:id/token', (req, res) => {
  const now = Math.floor(Date.now() / 1000);
  if (!credentialOk(req.body?.sessionCredential, req.params.id, now)) {
    return res.status(401).json({ error: { code: 'invalid_credential', message: 'session credential refused' } });
  }
  const token = new AccessToken(cfg.accountSid, cfg.apiKeySid, cfg.apiKeySecret, {
    identity: `customer-${req.params.id}`,
    ttl: cfg.ttl,
  });
  token.addGrant(new ChatGrant({ serviceSid: cfg.serviceSid }));
  res.json({ token: token.toJwt(), tokenExpiresAt: now + cfg.ttl });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
