/**
 * Key transparency: the relay appends every identity-key and device-list change to an
 * RFC 9162 Merkle log and serves signed tree heads, inclusion proofs and consistency
 * proofs. Entries and heads travel as their protocol encodings (base64url), which
 * clients check with @vaultex/protocol's transparency-log functions.
 */
import * as z from 'zod';
import { base64url, ED25519_PUBLIC_KEY_BYTES } from './common.js';

/** SHA-256 hashes in proofs. */
export const HASH_BYTES = 32;
/** Longest proof the API carries (RFC 9162 paths for trees below 2^54 leaves). */
export const MAX_PROOF_HASHES = 108;

const Proof = z.array(base64url(HASH_BYTES)).max(MAX_PROOF_HASHES);
const EncodedHead = base64url({ min: 1, max: 256 });

/** `GET /transparency/head` response. */
export const TreeHeadResponse = z.object({
  /** The encoded signed tree head (`encodeTreeHead`). */
  treeHead: EncodedHead,
  /** The log's Ed25519 public key; clients pin it on first use. */
  logPublicKey: base64url(ED25519_PUBLIC_KEY_BYTES),
});
export type TreeHeadResponse = z.output<typeof TreeHeadResponse>;

/** An account's latest log entry, its index, and its inclusion proof in `treeHead`. */
export const InclusionResponse = z.object({
  index: z.number().int().min(0),
  /** The encoded log entry (`encodeLogEntry`): the Merkle leaf. */
  entry: base64url({ min: 1, max: 256 }),
  proof: Proof,
  treeHead: EncodedHead,
});
export type InclusionResponse = z.output<typeof InclusionResponse>;

/** `GET /transparency/consistency` query: from an old tree size to a newer one (default: the current head). */
export const ConsistencyQuery = z.object({
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0).optional(),
});
export type ConsistencyQuery = z.output<typeof ConsistencyQuery>;

/** `GET /transparency/consistency` response. */
export const ConsistencyResponse = z.object({
  from: z.number().int().min(0),
  to: z.number().int().min(0),
  proof: Proof,
  /** The signed head of size `to` when `to` is the current size. */
  treeHead: EncodedHead.optional(),
});
export type ConsistencyResponse = z.output<typeof ConsistencyResponse>;
