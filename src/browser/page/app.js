// The test-call page: asks the admin API for a test-call token (with the operator's bearer token,
// typed into the page and kept in memory only), then calls over the edge's browser entry with
// JsSIP (WebSocket SIP, WebRTC media). Bundled by scripts/build-page.mjs into dist/public.
import JsSIP from 'jssip';

JsSIP.debug.disable('JsSIP:*');

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('form'),
  apiToken: $('apiToken'),
  workspace: $('workspace'),
  kind: $('kind'),
  target: $('target'),
  targetId: $('targetId'),
  load: $('load'),
  call: $('call'),
  hangup: $('hangup'),
  status: $('status'),
  state: $('state'),
  reason: $('reason'),
  sipStatus: $('sipStatus'),
  duration: $('duration'),
  audio: $('audio'),
  entry: $('entry'),
  log: $('log'),
  remote: $('remote'),
};

/** What the page shows, also readable by tests (window.testCall). */
const view = { state: 'idle', reason: null, status: null, answeredAt: null, endedAt: null, events: [] };
window.testCall = view;

let ua = null;
let session = null;
let ticker = null;

function log(text) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
  view.events.push(line);
  const li = document.createElement('li');
  li.textContent = line;
  ui.log.appendChild(li);
  ui.log.scrollTop = ui.log.scrollHeight;
}

const TONES = { idle: 'idle', requesting: 'busy', connecting: 'busy', calling: 'busy', ringing: 'busy', 'in call': 'ok', ended: 'idle', failed: 'bad' };

function setState(state, extra = {}) {
  view.state = state;
  Object.assign(view, extra);
  ui.state.textContent = state.charAt(0).toUpperCase() + state.slice(1);
  ui.status.dataset.tone = TONES[state] ?? 'idle';
  ui.status.dataset.state = state;
  if ('reason' in extra) ui.reason.textContent = extra.reason ?? '–';
  if ('status' in extra) ui.sipStatus.textContent = extra.status ?? '–';
  const busy = ['requesting', 'connecting', 'calling', 'ringing', 'in call'].includes(state);
  ui.call.disabled = busy;
  ui.hangup.disabled = !busy || state === 'requesting';
}

function targetValue() {
  const typed = ui.targetId.value.trim();
  return typed !== '' ? typed : ui.target.value;
}

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${ui.apiToken.value.trim()}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const error = body?.error ?? {};
    throw Object.assign(new Error(error.message ?? `HTTP ${res.status}`), { code: error.code ?? `http_${res.status}`, httpStatus: res.status });
  }
  return body;
}

async function loadTargets() {
  const ws = encodeURIComponent(ui.workspace.value.trim());
  try {
    const path = ui.kind.value === 'number' ? `/v1/phone-numbers?workspace_id=${ws}&limit=200` : `/v1/agents?workspace_id=${ws}&limit=200`;
    const page = await api(path);
    ui.target.replaceChildren(
      ...page.data.map((item) => {
        const option = document.createElement('option');
        option.value = item.id;
        option.textContent = ui.kind.value === 'number' ? `${item.phone_number} · ${item.friendly_name || item.id} (${item.status})` : `${item.name} · ${item.id}`;
        return option;
      }),
    );
    log(`loaded ${page.data.length} ${ui.kind.value === 'number' ? 'numbers' : 'agents'}`);
  } catch (err) {
    setState('failed', { reason: err.code, status: null });
    log(`loading failed: ${err.message}`);
  }
}

function startTicker() {
  stopTicker();
  ticker = setInterval(async () => {
    if (view.answeredAt) ui.duration.textContent = `${((Date.now() - view.answeredAt) / 1000).toFixed(1)} s`;
    const stats = await audioStats();
    if (stats) ui.audio.textContent = `sent ${stats.sent} / received ${stats.received} packets`;
  }, 500);
}

function stopTicker() {
  if (ticker) clearInterval(ticker);
  ticker = null;
}

/** RTP packets this browser sent and received on the call (from the peer connection's stats). */
async function audioStats() {
  const pc = session?.connection;
  if (!pc) return null;
  let sent = 0;
  let received = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === 'outbound-rtp' && r.kind === 'audio') sent += r.packetsSent ?? 0;
    if (r.type === 'inbound-rtp' && r.kind === 'audio') received += r.packetsReceived ?? 0;
  });
  view.audio = { sent, received };
  return view.audio;
}
view.audioStats = audioStats;

function finish(state, extra) {
  view.endedAt = Date.now();
  setState(state, extra);
  stopTicker();
  void audioStats();
  const done = ua;
  session = null;
  ua = null;
  // let the BYE or ACK go out before the socket closes
  setTimeout(() => done?.stop(), 500);
}

async function call(event) {
  event.preventDefault();
  if (session) return;
  view.answeredAt = null;
  view.endedAt = null;
  ui.duration.textContent = '–';
  ui.audio.textContent = '–';
  setState('requesting', { reason: null, status: null });
  const body = { workspace_id: ui.workspace.value.trim(), [ui.kind.value === 'number' ? 'number_id' : 'agent_id']: targetValue() };
  let grant;
  try {
    grant = await api('/v1/test-calls', { method: 'POST', body: JSON.stringify(body) });
  } catch (err) {
    setState('failed', { reason: err.code, status: err.httpStatus ? `HTTP ${err.httpStatus}` : null });
    log(`no token: ${err.message}`);
    return;
  }
  log(`token ${grant.token_id} until ${grant.expires_at}`);
  placeCall(grant);
}

/** Places the call with a token grant of POST /v1/test-calls (also used by tests with a grant of their own). */
function placeCall(grant) {
  ui.entry.textContent = grant.ws_url;
  setState('connecting');
  const socket = new JsSIP.WebSocketInterface(grant.ws_url);
  ua = new JsSIP.UA({ sockets: [socket], uri: 'sip:browser@test-call.invalid', register: false, session_timers: false, user_agent: 'sip-edge test-call page', connection_recovery_max_interval: 4 });
  ua.on('disconnected', () => {
    if (session && view.state !== 'in call') log('browser entry disconnected');
  });
  ua.start();
  setState('calling');
  session = ua.call(grant.sip_uri, {
    extraHeaders: [`${grant.header}: ${grant.token}`],
    mediaConstraints: { audio: true, video: false },
    pcConfig: { iceServers: [] },
  });
  session.on('peerconnection', ({ peerconnection }) => {
    peerconnection.addEventListener('track', (e) => {
      ui.remote.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    });
  });
  session.on('progress', (e) => {
    setState('ringing', { status: e.response ? `${e.response.status_code} ${e.response.reason_phrase}` : null });
    log(`ringing${e.response ? ` (${e.response.status_code})` : ''}`);
  });
  session.on('accepted', (e) => {
    view.answeredAt = Date.now();
    setState('in call', { status: e.response ? `${e.response.status_code} ${e.response.reason_phrase}` : '200 OK' });
    log('answered');
    startTicker();
  });
  session.on('ended', (e) => {
    log(`ended by ${e.originator} (${e.cause})`);
    finish('ended', { reason: e.originator === 'remote' ? 'agent hung up' : 'you hung up' });
  });
  session.on('failed', (e) => {
    const response = e.message && typeof e.message.getHeader === 'function' && e.message.status_code ? e.message : null;
    const reason = response?.getHeader('X-Reject-Reason') ?? e.cause;
    log(`failed: ${response ? `${response.status_code} ${response.reason_phrase}` : e.cause} (${reason})`);
    finish('failed', { reason, status: response ? `${response.status_code} ${response.reason_phrase}` : null });
  });
}
view.placeCall = placeCall;

ui.form.addEventListener('submit', call);
ui.hangup.addEventListener('click', () => {
  if (session && !session.isEnded()) session.terminate();
});
ui.load.addEventListener('click', loadTargets);
ui.kind.addEventListener('change', () => ui.target.replaceChildren());
setState('idle');
