/**
 * The bridge's channel names, apart from their schemas: the sandboxed preload needs only these,
 * and importing bridge.ts would put all of zod into it. bridge.ts holds its schema table to this
 * list at compile time (every name has schemas, no schema lacks a name).
 */
export const BRIDGE_PREFIX = 'tether:';
/** The one channel main pushes agent events on (ControlEvent). */
export const BRIDGE_EVENT_CHANNEL = `${BRIDGE_PREFIX}event`;

export const BRIDGE_CHANNELS = [
  'status',
  'approvals',
  'approve',
  'revoke',
  'connect',
  'disconnect',
  'audit',
  'addCredential',
  'removeCredential',
  'credentialServers',
  'revokeLease',
  'settings',
  'saveSettings',
  'servers',
  'addServer',
  'removeServer',
  'trustHostKey',
  'sshPrompts',
  'answerSshPrompt',
  'cancelSshPrompt',
] as const;

export type BridgeChannel = (typeof BRIDGE_CHANNELS)[number];
