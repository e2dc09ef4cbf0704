// tests/a2a/peers/js/peer.mjs - the official JavaScript SDK (@a2a-js/sdk
// 1.3.0 on express 5, pinned by package.json + package-lock.json) as a
// loopback A2A peer for the ruvector client's interop tests (a2a.md §9):
//     npm ci && node peer.mjs [--v03-compat]      prints "PORT <n> AGENT_ID <hex>"
// The card is signed with the SDK's own signer (EdDSA, kid = the AgentID of
// the ruvector identity extension, so the client verifies it without pins).
// The executor publishes the task, WORKING, one text artifact, COMPLETED
// (for the input "many:N", N more WORKING updates before the artifact).
// The card also prices the skill (urn:ruvector:a2a:pricing:v1, $0.10 per
// call) for the budget test A5. For A2 the SDK's card handler also serves
// the card with its name changed after signing, at
// /tampered/.well-known/agent-card.json and (agent-card.json answering 404
// there) at /fallback/.well-known/agent.json. GET /_stats counts the
// requests: {"card": n, "rpc": n} (counts only grow).
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import express from 'express';
import { AgentCard, TaskState, generateAgentCardSignature } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { UserBuilder, agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';

const v03 = process.argv.includes('--v03-compat');
const seed = Buffer.alloc(32, 0x33);
const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
const pub = spki.subarray(spki.length - 32);
const agentId = createHash('shake256', { outputLength: 32 }).update(pub).digest('hex');
const b64u = (b) => b.toString('base64url');

// A fixed P-256 key (private scalar d = 0x0102...20, public x, y) for the ES256 card.
const EC_JWK = {
  d: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA',
  x: 'UVw9brnjlrkE0_7Kf1T9zQzB6Ze_N13KUVrQpsO0A18',
  y: 'RTa-OlDzGPv5pUdZAqIhUCvvDVfgjFOyzApW8X2fk1Q',
};
const now = () => new Date().toISOString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const textOf = (msg) =>
  (msg?.parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');

const executor = {
  async execute(ctx, bus) {
    const { taskId, contextId } = ctx;
    if (!ctx.task) {
      bus.publish(AgentEvent.task({
        id: taskId, contextId, artifacts: [], history: [ctx.userMessage], metadata: {},
        status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: now() },
      }));
    }
    bus.publish(AgentEvent.statusUpdate({
      taskId, contextId, metadata: {},
      status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: now() },
    }));
    // "many:N" (the A4 / gate G2 interop test): N more WORKING updates,
    // about one a millisecond, as the fake peer paces them (a2a.md §8).
    const many = /^many:(\d+)$/.exec(textOf(ctx.userMessage));
    for (let i = 0; many && i < Number(many[1]); i++) {
      bus.publish(AgentEvent.statusUpdate({
        taskId, contextId, metadata: {},
        status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: now() },
      }));
      await sleep(1);
    }
    await sleep(50);
    bus.publish(AgentEvent.artifactUpdate({
      taskId, contextId, append: false, lastChunk: true, metadata: {},
      artifact: {
        artifactId: 'a1', name: 'answer', description: '', metadata: {}, extensions: [],
        parts: [{ content: { $case: 'text', value: 'echo: ' + textOf(ctx.userMessage) },
                  mediaType: 'text/plain', filename: '', metadata: {} }],
      },
    }));
    bus.publish(AgentEvent.statusUpdate({
      taskId, contextId, metadata: {},
      status: { state: TaskState.TASK_STATE_COMPLETED, message: undefined, timestamp: now() },
    }));
    bus.finished();
  },
  async cancelTask(taskId, bus) {
    bus.publish(AgentEvent.statusUpdate({
      taskId, contextId: '', metadata: {},
      status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: now() },
    }));
    bus.finished();
  },
};

const stats = { card: 0, rpc: 0 };
const app = express();
app.use((req, _res, next) => {
  if (req.method === 'POST') stats.rpc += 1;
  else if (req.path.includes('/.well-known/')) stats.card += 1;
  next();
});
app.get('/_stats', (_req, res) => res.json(stats));
const server = app.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const url = `http://127.0.0.1:${port}/a2a/jsonrpc`;
  const interfaces = [{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }];
  if (v03) interfaces.push({ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' });
  const cardJson = {
    name: 'a2a-js peer', description: '@a2a-js/sdk 1.3.0 on loopback', version: '1.0.0',
    supportedInterfaces: interfaces,
    capabilities: {
      streaming: true, pushNotifications: false,
      extensions: [{ uri: 'urn:ruvector:a2a:identity:v1', description: '', required: false,
                     params: { publicKey: b64u(pub), agentId } },
                   { uri: 'urn:ruvector:a2a:pricing:v1', description: '', required: false,
                     params: { echo: { usdPerCall: '0.10', tokensPerCall: '4000' } } }],
    },
    defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'echoes', tags: ['test'] }],
  };
  const card = AgentCard.fromJSON(cardJson);
  const signed = await generateAgentCardSignature(privateKey, {
    alg: 'EdDSA', kid: agentId, typ: 'JOSE',
  })(card);
  const handler = new DefaultRequestHandler(signed, new InMemoryTaskStore(), executor);
  const compat = v03 ? { legacyCompat: { enabled: true } } : {};
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler, ...compat }));
  // A1's ES256 case: the card without the identity extension, signed by
  // the SDK with a P-256 key (kid "es256-1"), at /es256/.well-known/
  // agent-card.json; the public JWK, for the test to pin, at /_es256_jwk.
  const ecKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', ...EC_JWK }, format: 'jwk' });
  const es256 = await generateAgentCardSignature(ecKey, { alg: 'ES256', kid: 'es256-1', typ: 'JOSE' })(
    AgentCard.fromJSON({ ...cardJson, capabilities: {
      ...cardJson.capabilities,
      extensions: cardJson.capabilities.extensions.filter(
        (e) => e.uri !== 'urn:ruvector:a2a:identity:v1'),
    } }));
  app.use('/es256/.well-known/agent-card.json',
          agentCardHandler({ agentCardProvider: async () => es256, ...compat }));
  app.get('/_es256_jwk', (_req, res) => res.json({ kty: 'EC', crv: 'P-256', x: EC_JWK.x, y: EC_JWK.y }));
  const tampered = { ...signed, name: 'a2a-js peer (tampered)' };
  for (const path of ['/tampered/.well-known/agent-card.json', '/fallback/.well-known/agent.json']) {
    app.use(path, agentCardHandler({ agentCardProvider: async () => tampered, ...compat }));
  }
  app.use('/a2a/jsonrpc', jsonRpcHandler({
    requestHandler: handler, userBuilder: UserBuilder.noAuthentication, ...compat,
  }));
  process.stdout.write(`PORT ${port} AGENT_ID ${agentId}\n`);
});
