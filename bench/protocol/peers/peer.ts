/**
 * The common shape every implementation is driven through, so that the three libraries
 * run the exact same scenarios. Everything a peer does outside {@link PendingSetup.establish}
 * and {@link Party} (identity and prekey generation, store creation) is excluded from timing.
 */

/**
 * A message as it would travel to the other side. libsignal-client and VAULTEX produce bytes;
 * the privacyresearch library hands out a "binary string" (one char per byte), which is what
 * its decrypt accepts, so converting it would add work the library itself never does.
 */
export type WireMessage = Uint8Array | string;

/** One end of an established session. */
export interface Party {
  /** Encrypts one application plaintext into what goes on the wire. */
  encrypt(plaintext: Uint8Array): Promise<WireMessage>;
  /** Decrypts a normal (non-prekey) message from the other end. */
  decrypt(message: WireMessage): Promise<Uint8Array>;
}

/** Alice (the initiator) and Bob (the prekey owner) after session setup. */
export interface Conversation {
  readonly alice: Party;
  readonly bob: Party;
}

/** The outcome of one session setup. */
export interface Established {
  readonly conversation: Conversation;
  /** The prekey message Alice sent, for its size. */
  readonly prekeyMessage: WireMessage;
}

/** Fresh identities for Alice and Bob plus Bob's published prekey bundle, not yet used. */
export interface PendingSetup {
  /**
   * The timed part of a session setup: Alice processes Bob's bundle (signature checks + key
   * agreement) and encrypts `firstPlaintext`; Bob decrypts it, consuming the prekeys.
   * @throws Error if Bob does not recover `firstPlaintext`.
   */
  establish(firstPlaintext: Uint8Array): Promise<Established>;
}

/** One implementation under test. */
export interface ProtocolPeer {
  /** Short row label, e.g. `libsignal-client`. */
  readonly name: string;
  /** Facts a reader needs to interpret this row (algorithms, padding, crypto backend). */
  readonly notes: readonly string[];
  /** Untimed: generates fresh identities and Bob's prekeys. */
  prepare(): Promise<PendingSetup>;
}

/** Size of a wire message in bytes (a binary string carries one byte per char). */
export function wireSize(message: WireMessage): number {
  return message.length;
}

/**
 * Throws unless `actual` equals `expected`: every decrypt in the benchmark is checked, so a
 * peer that silently fails cannot look fast.
 * @throws Error on a mismatch.
 */
export function expectPlaintext(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: decrypted ${actual.length} bytes, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: decrypted plaintext differs at byte ${i}`);
  }
}
