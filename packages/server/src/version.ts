/** The relay's version, reported by `/health` and `/ping`. */
export const SERVER_VERSION = '0.1.0';
