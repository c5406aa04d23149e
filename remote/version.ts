/** The release this bundle belongs to (kept in step with package.json by the lead's release step). */
export const TETHER_VERSION = '0.1.0';
