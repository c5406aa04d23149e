/** The agent's environment without Tether's own variables (vault passphrase, env-store keys): what its children get. */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('TETHER_')));
}
