import { PROTOCOL_VERSION, handshakeTranscript, isPairCode, normalizePairCode, type Auth, type Hello, type Pair, type TranscriptFields, type Welcome } from '../protocol/index.js';
import type { PinnedServer } from './config.js';
import { fingerprint, macEquals, pairMac, randomToken, signTranscript, verifyTranscript } from '../protocol/node/crypto.js';
import { AgentError } from './errors.js';
import type { AgentIdentity } from './identity.js';

export interface HandshakeOptions {
  /** The URL as the user gave it; pins are stored under it. */
  serverName: string;
  pinned: PinnedServer | undefined;
  identity: AgentIdentity;
  pairCode?: string;
}

export interface HandshakeResult {
  welcome: Welcome;
  server: PinnedServer;
  /** True when this handshake paired and the caller must store `server` as the new pin. */
  paired: boolean;
}

type HandshakeState = 'AWAIT_HELLO' | 'AWAIT_WELCOME' | 'DONE';

/**
 * The agent's half of the handshake, without I/O: hello in → auth|pair out; welcome in →
 * result. The daemon's key is checked against the pin BEFORE anything is signed for it.
 */
export class AgentHandshake {
  private state: HandshakeState = 'AWAIT_HELLO';
  private fields: TranscriptFields | undefined;
  private mode: 'auth' | 'pair' = 'auth';
  private pairCode: string | undefined;

  constructor(private readonly opts: HandshakeOptions) {
    if (opts.pairCode !== undefined) {
      const code = normalizePairCode(opts.pairCode);
      if (!isPairCode(code)) throw new AgentError('refused', 'that pair code is malformed: copy it again from `tether pair-code` on the server');
      this.pairCode = code;
    }
  }

  onHello(hello: Hello): Auth | Pair {
    if (this.state !== 'AWAIT_HELLO') throw new AgentError('protocol', 'daemon sent hello twice');
    const { pinned, serverName, identity } = this.opts;
    const seen = fingerprint(hello.serverKey);
    if (pinned && pinned.serverKey !== hello.serverKey) {
      throw new AgentError(
        'server-key-mismatch',
        `the daemon at ${serverName} presents key ${seen}, but ${pinned.fingerprint} is pinned for it: if the server was reinstalled, run \`tether servers unpin ${serverName}\` and pair again`,
      );
    }
    if (!pinned && this.pairCode === undefined) {
      throw new AgentError('unknown-server', `unknown daemon at ${serverName} (key ${seen}): pair first with --pair CODE from \`tether pair-code\` on the server`);
    }
    this.fields = {
      serverId: hello.serverId,
      serverKey: hello.serverKey,
      serverNonce: hello.nonce,
      agentKey: identity.publicKey,
      agentNonce: randomToken(32),
      agentName: identity.name,
    };
    this.state = 'AWAIT_WELCOME';
    const base = { v: PROTOCOL_VERSION, agentKey: identity.publicKey, name: identity.name, nonce: this.fields.agentNonce };
    // A pinned server gets auth even if a code was given: the pin already proves who it is.
    if (pinned || this.pairCode === undefined) {
      return { t: 'auth', ...base, sig: signTranscript(handshakeTranscript('agent-auth', this.fields), identity.privateKey) };
    }
    this.mode = 'pair';
    return {
      t: 'pair',
      ...base,
      sig: signTranscript(handshakeTranscript('agent-pair', this.fields), identity.privateKey),
      mac: pairMac(this.pairCode, handshakeTranscript('pair-mac-agent', this.fields)),
    };
  }

  onWelcome(welcome: Welcome): HandshakeResult {
    const fields = this.fields;
    if (this.state !== 'AWAIT_WELCOME' || !fields) throw new AgentError('protocol', 'daemon sent welcome before hello');
    this.state = 'DONE';
    if (!verifyTranscript(handshakeTranscript('daemon-welcome', fields), welcome.sig, fields.serverKey)) {
      throw new AgentError('bad-welcome', `the daemon at ${this.opts.serverName} sent a welcome with a bad signature: refusing it`);
    }
    if (welcome.agentId !== fingerprint(fields.agentKey)) {
      throw new AgentError('bad-welcome', `the daemon at ${this.opts.serverName} named a different agent key: refusing it`);
    }
    if (this.mode === 'pair') {
      const expected = pairMac(this.pairCode ?? '', handshakeTranscript('pair-mac-daemon', fields));
      if (!welcome.mac || !macEquals(welcome.mac, expected)) {
        throw new AgentError('bad-welcome', `the daemon at ${this.opts.serverName} does not know the pair code: refusing to pair`);
      }
    }
    const server: PinnedServer = this.opts.pinned ?? {
      url: this.opts.serverName,
      serverId: fields.serverId,
      serverKey: fields.serverKey,
      fingerprint: fingerprint(fields.serverKey),
      pairedAt: new Date().toISOString(),
    };
    return { welcome, server, paired: this.mode === 'pair' };
  }
}
