import {
  CloseCodes,
  PROTOCOL_VERSION,
  ProtocolError,
  handshakeTranscript,
  type Auth,
  type Hello,
  type Pair,
  type TranscriptFields,
  type Welcome,
} from '../protocol/index.js';
import { fingerprint, pairMac, randomToken, signTranscript, verifyTranscript } from '../protocol/node/crypto.js';
import type { AuthorizedAgents, DaemonIdentity } from './identity.js';
import type { PairCodes } from './pair-codes.js';

export interface HandshakeContext {
  serverId: string;
  identity: DaemonIdentity;
  authorized: AuthorizedAgents;
  pairCodes: PairCodes;
  heartbeatMs: number;
  maxLeaseTtlMs: number;
}

export interface AcceptedAgent {
  agentKey: string;
  name: string;
  agentId: string;
  paired: boolean;
}

function refuse(code: 'auth-failed' | 'not-authorized' | 'pair-failed', message: string): ProtocolError {
  return new ProtocolError(code, message, CloseCodes.authFailed);
}

/**
 * The daemon's half of the handshake for one connection: a fresh nonce, the hello, and the
 * checks on auth / pair. Every signature is bound to this connection's nonces, so a
 * recorded auth is worthless on the next connection.
 */
export class DaemonHandshake {
  readonly nonce = randomToken(32);

  constructor(private readonly ctx: HandshakeContext) {}

  hello(): Hello {
    return { t: 'hello', v: PROTOCOL_VERSION, serverId: this.ctx.serverId, serverKey: this.ctx.identity.serverKey, nonce: this.nonce };
  }

  /** Verifies the agent's answer; throws a ProtocolError (close 4403) when it fails. */
  answer(message: Auth | Pair): { welcome: Welcome; agent: AcceptedAgent } {
    const fields: TranscriptFields = {
      serverId: this.ctx.serverId,
      serverKey: this.ctx.identity.serverKey,
      serverNonce: this.nonce,
      agentKey: message.agentKey,
      agentNonce: message.nonce,
      agentName: message.name,
    };
    return message.t === 'auth' ? this.auth(message, fields) : this.pair(message, fields);
  }

  private auth(message: Auth, fields: TranscriptFields) {
    if (!this.ctx.authorized.find(message.agentKey)) {
      throw refuse('not-authorized', `laptop key ${fingerprint(message.agentKey)} is not paired with this server: pair it with a code from \`tether pair-code\``);
    }
    if (!verifyTranscript(handshakeTranscript('agent-auth', fields), message.sig, message.agentKey)) {
      throw refuse('auth-failed', 'the laptop\'s signature does not verify for this connection');
    }
    return { welcome: this.welcome(fields), agent: this.accepted(message, false) };
  }

  private pair(message: Pair, fields: TranscriptFields) {
    if (!verifyTranscript(handshakeTranscript('agent-pair', fields), message.sig, message.agentKey)) {
      throw refuse('pair-failed', 'the laptop\'s pairing signature does not verify');
    }
    const agentText = handshakeTranscript('pair-mac-agent', fields);
    const code = this.ctx.pairCodes.match(message.mac, (candidate) => pairMac(candidate, agentText));
    if (code === undefined) {
      throw refuse('pair-failed', 'the pair code is wrong, expired or already used: run `tether pair-code` on the server for a new one');
    }
    this.ctx.authorized.add(message.agentKey, message.name);
    const welcome = this.welcome(fields);
    welcome.mac = pairMac(code, handshakeTranscript('pair-mac-daemon', fields));
    return { welcome, agent: this.accepted(message, true) };
  }

  private welcome(fields: TranscriptFields): Welcome {
    return {
      t: 'welcome',
      v: PROTOCOL_VERSION,
      agentId: fingerprint(fields.agentKey),
      sig: signTranscript(handshakeTranscript('daemon-welcome', fields), this.ctx.identity.privateKey),
      heartbeatMs: this.ctx.heartbeatMs,
      maxLeaseTtlMs: this.ctx.maxLeaseTtlMs,
    };
  }

  private accepted(message: Auth | Pair, paired: boolean): AcceptedAgent {
    return { agentKey: message.agentKey, name: message.name, agentId: fingerprint(message.agentKey), paired };
  }
}
