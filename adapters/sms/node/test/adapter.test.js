// Unit tests of the Node adapter: npm test (node --test test/).
'use strict';

const assert = require('node:assert/strict');
const http = require('node:http');
const { test } = require('node:test');

const a = require('../adapter.js');

const SECRET = 'whsec_' + Buffer.alloc(32, 'k').toString('base64');
const MESSAGE = { type: 'sms.outbound', message_id: 'sms_1', tenant: 'acme', from: '+14155550199',
  to: '+14155550100', text: 'Hi', encoding: 'gsm7', segments: 1 };

function signed(body, secret = SECRET, stamp = Math.floor(Date.now() / 1000)) {
  return { 'webhook-id': 'sms_1', 'webhook-timestamp': String(stamp),
    'webhook-signature': a.sign(secret, 'sms_1', stamp, body) };
}

function fakeCarrier(answers) {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      const [status, data] = answers.length > 1 ? answers.shift() : answers[0];
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(data));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    got, url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })));
}

function adapterFor(carrierUrl) {
  return a.createAdapter(a.config({ PORTAL_SECRET: SECRET, PORTAL_INBOUND_URL: 'http://127.0.0.1:9/in',
    PROVIDER_KEY: 'k', CARRIER_URL: carrierUrl, CARRIER_TOKEN: 't0k' }));
}

test('a signature made with the secret verifies; a changed body, wrong secret or stale time do not', () => {
  const body = Buffer.from('{"a":1}');
  assert.equal(a.verify([SECRET], signed(body), body), true);
  assert.equal(a.verify([SECRET], signed(body), Buffer.from('{"a":2}')), false);
  assert.equal(a.verify(['whsec_' + Buffer.alloc(32, 'x').toString('base64')], signed(body), body), false);
  assert.equal(a.verify([SECRET], signed(body, SECRET, Math.floor(Date.now() / 1000) - 3600), body), false);
  assert.equal(a.verify([SECRET], {}, body), false);
});

test('the Standard Webhooks test vector verifies', () => {
  const headers = { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
  assert.equal(a.verify(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], headers, Buffer.from('{"test": 2432232314}'),
    1614265330), true);
});

test('messages and carrier callbacks are translated both ways', () => {
  assert.deepEqual(a.toCarrier(MESSAGE), { from: '+14155550199', to: '+14155550100', body: 'Hi', reference: 'sms_1' });
  assert.deepEqual(a.toPortal({ event: 'message', id: 7, from: '+1', to: '+2', body: 'yo' }),
    { type: 'message', carrier_message_id: '7', from: '+1', to: '+2', text: 'yo' });
  assert.deepEqual(a.toPortal({ event: 'status', id: 'c9', reference: 'sms_1', status: 'failed', error_code: 'E30',
    error_message: 'Absent' }), { type: 'receipt', carrier_message_id: 'c9', status: 'failed', message_id: 'sms_1',
    error_code: 'E30', reason: 'Absent' });
  assert.throws(() => a.toPortal({ event: 'bogus' }));
});

test('send forwards to the carrier once per message, with its token', async () => {
  const carrier = await fakeCarrier([[201, { id: 'c-1', status: 'accepted' }]]);
  try {
    const adapter = adapterFor(carrier.url);
    const body = Buffer.from(JSON.stringify(MESSAGE));
    assert.deepEqual(await adapter.send(signed(body), body), [200, { carrier_message_id: 'c-1' }]);
    assert.deepEqual(await adapter.send(signed(body), body), [200, { carrier_message_id: 'c-1' }]);
    assert.equal(carrier.got.length, 1);
    assert.equal(carrier.got[0].headers.authorization, 'Bearer t0k');
  } finally {
    carrier.close();
  }
});

test('bad signatures, carrier errors and outages are answered distinctly', async () => {
  const carrier = await fakeCarrier([[400, { error: { code: '21211', message: "Invalid 'To' number" } }],
    [503, { error: { message: 'maintenance' } }]]);
  try {
    const adapter = adapterFor(carrier.url);
    const body = Buffer.from(JSON.stringify(MESSAGE));
    assert.equal((await adapter.send(signed(body, 'whsec_' + 'QUJD'.repeat(8)), body))[0], 401);
    const [status, answer] = await adapter.send(signed(body), body);
    assert.deepEqual([status, answer.error.message], [422, "Invalid 'To' number"]);
    const [down, why] = await adapter.send(signed(body), body);
    assert.deepEqual([down, why.error.code], [502, 'carrier_unavailable']);
  } finally {
    carrier.close();
  }
});

test('missing settings are named', () => {
  assert.throws(() => a.config({ PORTAL_SECRET: SECRET }), /CARRIER_URL/);
});
