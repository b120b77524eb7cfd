#!/usr/bin/env node
// Thirdlane SMS reference adapter (Node.js standard library only).
//
//   portal  --POST /messages (Standard Webhooks signed)--> adapter --POST $CARRIER_URL/messages--> carrier
//   carrier --POST /carrier (message or status)----------> adapter --POST $PORTAL_INBOUND_URL-----> portal
//
// Configuration comes from the environment (see README.md). Run: node adapter.js
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');

const TOLERANCE = 300; // seconds a signature's timestamp may differ from our clock

// --- Standard Webhooks ---------------------------------------------------------------------
function key(secret) {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

function sign(secret, msgId, timestamp, body) {
  const mac = crypto.createHmac('sha256', key(secret));
  mac.update(`${msgId}.${timestamp}.`);
  mac.update(body);
  return 'v1,' + mac.digest('base64');
}

function verify(secrets, headers, body, now) {
  const msgId = headers['webhook-id'];
  const stamp = headers['webhook-timestamp'];
  const given = headers['webhook-signature'];
  if (!msgId || !stamp || !given) return false;
  const timestamp = Number.parseInt(stamp, 10);
  if (!Number.isFinite(timestamp) || String(timestamp) !== String(stamp).trim()) return false;
  if (Math.abs((now ?? Date.now() / 1000) - timestamp) > TOLERANCE) return false;
  const expected = secrets.map((s) => Buffer.from(sign(s, msgId, timestamp, body)));
  return given.split(' ').some((part) => {
    const candidate = Buffer.from(part);
    return expected.some((e) => e.length === candidate.length && crypto.timingSafeEqual(e, candidate));
  });
}

// --- translation ---------------------------------------------------------------------------
function toCarrier(message) {
  for (const field of ['message_id', 'from', 'to', 'text']) {
    if (typeof message[field] !== 'string') throw new Error(`missing ${field}`);
  }
  return { from: message.from, to: message.to, body: message.text, reference: message.message_id };
}

function toPortal(event) {
  if (event.event === 'message') {
    return { type: 'message', carrier_message_id: String(event.id), from: event.from, to: event.to,
      text: event.body ?? '' };
  }
  if (event.event === 'status') {
    const out = { type: 'receipt', carrier_message_id: String(event.id), status: event.status };
    if (event.reference) out.message_id = event.reference;
    if (event.status === 'failed') {
      out.error_code = String(event.error_code ?? '').slice(0, 40);
      out.reason = String(event.error_message ?? '').slice(0, 500);
    }
    return out;
  }
  throw new Error(`unknown carrier event ${JSON.stringify(event.event)}`);
}

// --- HTTP client (keep-alive) ----------------------------------------------------------------
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

function postJson(url, payload, headers, timeoutMs) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = lib.request(target, {
      method: 'POST', agent: agents[target.protocol], timeout: timeoutMs,
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let answer = {};
        try { answer = JSON.parse(Buffer.concat(chunks).toString() || '{}'); } catch { answer = {}; }
        resolve({ status: res.statusCode, answer: answer && typeof answer === 'object' ? answer : {}, error: '' });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: null, answer: {}, error: `${err.code || err.name}: ${err.message}` }));
    req.end(body);
  });
}

// --- the adapter ---------------------------------------------------------------------------
function config(env = process.env) {
  const missing = ['PORTAL_SECRET', 'PORTAL_INBOUND_URL', 'PROVIDER_KEY', 'CARRIER_URL'].filter((n) => !env[n]);
  if (missing.length) throw new Error(`missing environment: ${missing.join(', ')}`);
  return {
    secrets: env.PORTAL_SECRET.split(/\s+/).filter(Boolean),
    inboundUrl: env.PORTAL_INBOUND_URL,
    providerKey: env.PROVIDER_KEY,
    carrierUrl: env.CARRIER_URL.replace(/\/+$/, ''),
    carrierToken: env.CARRIER_TOKEN || '',
    carrierWebhookToken: env.CARRIER_WEBHOOK_TOKEN || '',
    signInbound: !['0', 'false', 'no'].includes(env.SIGN_INBOUND ?? '1'),
    timeoutMs: Number(env.TIMEOUT || 10) * 1000,
    bind: env.BIND || '127.0.0.1',
    port: Number(env.PORT || 8080),
  };
}

function createAdapter(cfg) {
  const sent = new Map(); // portal message id -> carrier id, so a repeated try is not sent twice

  async function send(headers, body) {
    if (!verify(cfg.secrets, headers, body)) {
      return [401, { error: { code: 'invalid_signature', message: 'The portal signature does not verify.' } }];
    }
    let message;
    let request;
    try {
      message = JSON.parse(body.toString());
      request = toCarrier(message);
    } catch (err) {
      return [400, { error: { code: 'bad_request', message: `Not a portal message: ${err.message}` } }];
    }
    if (sent.has(message.message_id)) return [200, { carrier_message_id: sent.get(message.message_id) }];
    const auth = cfg.carrierToken ? { Authorization: `Bearer ${cfg.carrierToken}` } : {};
    const { status, answer, error } = await postJson(`${cfg.carrierUrl}/messages`, request, auth, cfg.timeoutMs);
    if (status === null || status >= 500 || status === 408 || status === 429) {
      const detail = error || `HTTP ${status}${answer.error?.message ? `: ${answer.error.message}` : ''}`;
      return [502, { error: { code: 'carrier_unavailable', message: `carrier: ${detail}` } }];
    }
    if (status >= 400) {
      return [422, { error: { code: 'carrier_rejected', carrier_code: String(answer.error?.code ?? status),
        message: String(answer.error?.message || `HTTP ${status}`) } }];
    }
    if (!answer.id) return [502, { error: { code: 'carrier_unavailable', message: 'carrier: no message id' } }];
    const carrierId = String(answer.id);
    sent.set(message.message_id, carrierId);
    if (sent.size > 100000) sent.delete(sent.keys().next().value);
    return [200, { carrier_message_id: carrierId }];
  }

  async function carrierCallback(headers, body) {
    if (cfg.carrierWebhookToken) {
      const given = Buffer.from(headers['x-carrier-token'] || '');
      const wanted = Buffer.from(cfg.carrierWebhookToken);
      if (given.length !== wanted.length || !crypto.timingSafeEqual(given, wanted)) {
        return [401, { error: { code: 'invalid_token', message: 'Wrong carrier token.' } }];
      }
    }
    let inbound;
    try {
      inbound = toPortal(JSON.parse(body.toString()));
    } catch (err) {
      return [400, { error: { code: 'bad_request', message: err.message } }];
    }
    const raw = Buffer.from(JSON.stringify(inbound));
    const out = { 'X-SMS-Provider-Key': cfg.providerKey };
    if (cfg.signInbound) {
      const msgId = `msg_${inbound.type}_${inbound.carrier_message_id}`;
      const now = Math.floor(Date.now() / 1000);
      Object.assign(out, { 'webhook-id': msgId, 'webhook-timestamp': String(now),
        'webhook-signature': sign(cfg.secrets[0], msgId, now, raw) });
    }
    const { status, answer, error } = await postJson(cfg.inboundUrl, raw, out, cfg.timeoutMs);
    if (status !== null && status >= 200 && status < 300) return [200, answer];
    if (status !== null && status >= 400 && status < 500) {
      return [422, { error: { code: 'portal_refused', status, portal: answer } }];
    }
    return [502, { error: { code: 'portal_unavailable', message: error || `HTTP ${status}` } }];
  }

  return { send, carrierCallback };
}

function createServer(cfg) {
  const adapter = createAdapter(cfg);
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const reply = (status, data) => {
        const raw = Buffer.from(JSON.stringify(data));
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': raw.length });
        res.end(raw);
      };
      const path = req.url.split('?')[0].replace(/\/+$/, '');
      try {
        if (req.method === 'GET' && path === '/health') return reply(200, { ok: true });
        if (req.method === 'POST' && path === '/messages') return reply(...await adapter.send(req.headers, Buffer.concat(chunks)));
        if (req.method === 'POST' && path === '/carrier') return reply(...await adapter.carrierCallback(req.headers, Buffer.concat(chunks)));
        return reply(404, { error: { code: 'not_found', message: 'No such path.' } });
      } catch (err) {
        return reply(500, { error: { code: 'internal_error', message: err.message } });
      }
    });
  });
}

module.exports = { sign, verify, toCarrier, toPortal, config, createAdapter, createServer };

if (require.main === module) {
  let cfg;
  try {
    cfg = config();
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  const server = createServer(cfg);
  server.listen(cfg.port, cfg.bind, () => {
    console.log(`thirdlane-sms-adapter (node) listening on ${cfg.bind}:${server.address().port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
