// tests/a2a/gen_vectors.mjs — independent vectors for the a2a offline core,
// made with Node's own JSON and crypto (no code of ours involved):
//   node tests/a2a/gen_vectors.mjs tests/a2a/vectors
// writes es_numbers.txt (IEEE 754 bits → ECMAScript Number::toString, the
// RFC 8785 number form), jcs.json (documents → canonical form; JavaScript's
// JSON.stringify with UTF-16-sorted keys is RFC 8785 by construction) and
// cards.json (agent cards signed EdDSA / ES256 / RS256 the way @a2a-js/sdk
// signs them: empty values dropped, JCS, detached JWS). Output changes on
// every run (random doubles, ECDSA nonces, fresh EC/RSA keys); any run's
// output is a valid fixture. Node >= 20. (jansson cannot hold NUL in member
// names, so NUL appears only in values here.)
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? '.';

// ---- numbers ----
const lines = [];
const view = new DataView(new ArrayBuffer(8));
function add(x) {
  view.setFloat64(0, x);
  const hex = view.getBigUint64(0).toString(16).padStart(16, '0');
  lines.push(`${hex} ${JSON.stringify(x)}`);
}
for (let i = 0; i < 4000; i++) {            // uniform bit patterns
  const b = randomBytes(8);
  const x = b.readDoubleBE(0);
  if (Number.isFinite(x)) add(x);
}
for (let i = 0; i < 1000; i++) {            // numbers people write
  const r = randomBytes(8);
  const digits = r.readUInt32BE(0) % 100000000;
  const exp = (r.readUInt8(4) % 60) - 30;
  add(Number(`${digits}e${exp}`));
  add(r.readInt32BE(0));
  add(Number((r.readUInt32BE(4) / 1000).toFixed(r[0] % 4)));
}
for (let e = -325; e <= 308; e++) add(Number(`1e${e}`));   // layout boundaries
for (let e = -10; e <= 25; e++) { add(1.5 * 10 ** e); add(123456789 * 10 ** e); }
[0, -0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE * 2 ** 52,
 2 ** 53, 2 ** 53 + 2, 1e21 - 65536, 0.1, 0.2, 0.30000000000000004, 1 / 3, 2 / 3].forEach(add);
writeFileSync(join(out, 'es_numbers.txt'), lines.join('\n') + '\n');

// ---- RFC 8785 in JavaScript ----
function jcs(v) {
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  if (v !== null && typeof v === 'object')
    return '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
// What @a2a-js/sdk and a2a-python drop before canonicalizing.
function cleanEmpty(d) {
  if (d === '' || d === null || d === undefined) return null;
  if (Array.isArray(d)) {
    const a = d.map(cleanEmpty).filter(v => v !== null);
    return a.length ? a : null;
  }
  if (typeof d === 'object') {
    const o = {};
    for (const [k, v] of Object.entries(d)) { const c = cleanEmpty(v); if (c !== null) o[k] = c; }
    return Object.keys(o).length ? o : null;
  }
  return d;
}

const docs = [
  { numbers: [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
    string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/', literals: [null, true, false] },
  { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis' },
  { '\ud800\udc00': 1, '\uffff': 2, '\ue000': 3, 'a\u0001b': 4, 'nul': 'a\u0000b', '': 5, 'aa': 6, 'a': 7 },
  [1, 'x', [[[]]], {}, { b: { a: { '\u007f': '\u2028\u2029\u0019\b\f\t' } } }],
  { big: 1e21, small: 1e-7, mid: 123456789012345680000, neg: -0, ints: [9007199254740992, -1, 0] },
];
for (let i = 0; i < 200; i++) {          // random documents
  const r = randomBytes(64);
  const chars = ['a', 'B', '\u00e9', '\u20ac', '\ud83d\ude00', '\ue000', '"', '\\', '\n', '\u0001', '/'];
  const key = n => Array.from({ length: 1 + (r[n] % 4) }, (_, j) => chars[r[(n + j) % 64] % chars.length]).join('');
  const o = {};
  for (let j = 0; j < 6; j++) o[key(j * 7)] = j % 2 ? r.readDoubleLE(j * 8 % 56) : key(j * 3 + 1);
  for (const k of Object.keys(o)) if (typeof o[k] === 'number' && !Number.isFinite(o[k])) o[k] = r[k.length];
  docs.push(o);
}
const jcsVectors = docs.map(d => ({ input: JSON.stringify(d, null, 1), canonical: jcs(d) }));
writeFileSync(join(out, 'jcs.json'), JSON.stringify(jcsVectors, null, 1) + '\n');

// ---- signed cards ----
const b64u = b => Buffer.from(b).toString('base64url');
const seed = Buffer.alloc(32, 0x07);
const edPriv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaSmall = generateKeyPairSync('rsa', { modulusLength: 1024 });
const signers = [
  { alg: 'EdDSA', kid: 'ed-1', priv: edPriv, pub: createPublicKey(edPriv), md: null, opts: {} },
  { alg: 'ES256', kid: 'ec-1', priv: ec.privateKey, pub: ec.publicKey, md: 'sha256', opts: { dsaEncoding: 'ieee-p1363' } },
  { alg: 'RS256', kid: 'rsa-1', priv: rsa.privateKey, pub: rsa.publicKey, md: 'sha256', opts: {} },
  { alg: 'RS256', kid: 'rsa-small', priv: rsaSmall.privateKey, pub: rsaSmall.publicKey, md: 'sha256', opts: {} },
];
const card = {
  name: 'vector peer \u00e9\u20ac\ud83d\ude00', description: 'signed by gen_vectors.mjs', version: '1.0.0',
  supportedInterfaces: [{ url: 'http://127.0.0.1:41241/a2a/jsonrpc', protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
  provider: { organization: 'ruvector', url: '' },
  capabilities: { streaming: false, pushNotifications: false, extensions: [] },
  defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain', 'application/json'],
  skills: [{ id: 'rag.query', name: 'RAG', description: 'x', tags: ['rag', ''], examples: [], inputModes: null }],
  iconUrl: '',
};
const canonical = jcs(cleanEmpty(card));
const cards = signers.map(s => {
  const prot = b64u(JSON.stringify({ alg: s.alg, kid: s.kid, typ: 'JOSE' }));
  const input = Buffer.from(prot + '.' + b64u(canonical));
  const sig = sign(s.md, input, { key: s.priv, ...s.opts });
  const signed = { ...card, signatures: [{ protected: prot, signature: b64u(sig) }] };
  return { alg: s.alg, kid: s.kid, jwk: s.pub.export({ format: 'jwk' }),
           pem: s.pub.export({ format: 'pem', type: 'spki' }),
           card: JSON.stringify(signed, null, 2) };
});
writeFileSync(join(out, 'cards.json'), JSON.stringify({ canonical, cards }, null, 1) + '\n');
console.log(`numbers ${lines.length}, jcs ${jcsVectors.length}, cards ${cards.length}`);
