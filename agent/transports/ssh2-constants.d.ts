// The algorithm lists ssh2 accepts (lib/protocol/constants.js, no types of its own): the
// built-in transport offers what OpenSSH's config allows *and* ssh2 speaks, never more.
declare module 'ssh2/lib/protocol/constants.js' {
  const constants: {
    SUPPORTED_KEX: string[];
    SUPPORTED_SERVER_HOST_KEY: string[];
    SUPPORTED_CIPHER: string[];
    SUPPORTED_MAC: string[];
  };
  export default constants;
}
