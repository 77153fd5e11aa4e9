import { toBase64Url } from '@vaultex/api';
import { accountFromSeedPhrase, bytesToHex, encodeWire, generateSeedPhrase, seededRandom } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  type Content,
  createLinkRequest,
  decodeContent,
  encodeContactCode,
  encodeContent,
  isClientError,
  MAX_TEXT_BYTES,
  openProvisioning,
  parseContactCode,
  parseLinkCode,
  RECONNECT_BACKOFF,
  sealProvisioning,
} from '../src/index.js';

const random = seededRandom(new Uint8Array(32).fill(9));
const account = accountFromSeedPhrase(generateSeedPhrase(random), nodeProvider);
const id = bytesToHex(account.userId);
const hex16 = (n: number) => n.toString(16).padStart(2, '0').repeat(16);

describe('contact codes', () => {
  const code = encodeContactCode({
    accountId: id,
    identityKey: account.publicKey,
    accessKey: new Uint8Array(16).fill(1),
    serverUrl: 'https://relay.example',
    displayName: 'Alice',
  });

  it('round-trip', () => {
    expect(code.startsWith('vaultex://contact?v=1&d=')).toBe(true);
    const parsed = parseContactCode(` ${code}\n`, nodeProvider);
    expect(parsed.accountId).toBe(id);
    expect(parsed.displayName).toBe('Alice');
    expect(parsed.serverUrl).toBe('https://relay.example');
  });

  const bad: [string, unknown][] = [
    ['not a string', 42],
    ['wrong prefix', code.replace('contact', 'kontakt')],
    ['not base64url', `${code}=`],
    ['truncated', code.slice(0, -10)],
    ['empty payload', 'vaultex://contact?v=1&d='],
    [
      'trailing field',
      `vaultex://contact?v=1&d=${toBase64Url(encodeWire([1, account.userId, account.publicKey, new Uint8Array(16), 'https://x', null, 1]))}`,
    ],
    [
      'user ID of another key',
      `vaultex://contact?v=1&d=${toBase64Url(encodeWire([1, new Uint8Array(16), account.publicKey, new Uint8Array(16), 'https://x', null]))}`,
    ],
    [
      'newer version',
      `vaultex://contact?v=1&d=${toBase64Url(encodeWire([2, account.userId, account.publicKey, new Uint8Array(16), 'https://x', null]))}`,
    ],
    [
      'not a URL',
      `vaultex://contact?v=1&d=${toBase64Url(encodeWire([1, account.userId, account.publicKey, new Uint8Array(16), 'ftp x', null]))}`,
    ],
  ];
  it.each(bad)('refuses %s with INVALID_CONTACT_CODE', (_name, input) => {
    expect(() => parseContactCode(input, nodeProvider)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONTACT_CODE' }),
    );
  });
});

describe('content', () => {
  const base = { id: hex16(0xab), sentAt: 1234 };
  const samples: Content[] = [
    {
      ...base,
      kind: 'text',
      body: 'hi ✓',
      replyTo: hex16(1),
      profile: { displayName: 'A', accessKey: new Uint8Array(16) },
    },
    { ...base, kind: 'text', body: 'plain' },
    { ...base, kind: 'receipt', type: 'read', ids: [hex16(2), hex16(3)] },
    { ...base, kind: 'typing', started: true },
    { ...base, kind: 'sent-transcript', to: hex16(4), content: new Uint8Array([1, 2, 3]) },
    {
      ...base,
      kind: 'contact-sync',
      contacts: [
        { accountId: hex16(5), identityKey: new Uint8Array(32), displayName: 'C', state: 'blocked', verified: true },
      ],
    },
    { ...base, kind: 'profile-sync', displayName: 'Me', readReceipts: false, typingIndicators: true },
    {
      ...base,
      kind: 'profile-sync',
      displayName: 'Me',
      readReceipts: true,
      typingIndicators: false,
      accessKey: new Uint8Array(16).fill(4),
    },
    { ...base, kind: 'sync-request' },
    { ...base, kind: 'session-reset' },
  ];
  it.each(samples.map((s) => [s.kind, s] as const))('%s round-trips', (_kind, sample) => {
    expect(decodeContent(encodeContent(sample))).toEqual(sample);
  });

  it('keeps unknown kinds as unsupported', () => {
    const future = encodeWire([1, 99, new Uint8Array(16).fill(0xcd), 5, 'x', [1, 2], new Uint8Array(3)]);
    expect(decodeContent(future)).toEqual({ id: hex16(0xcd), sentAt: 5, kind: 'unsupported', wireKind: 99 });
    expect(decodeContent(encodeWire([7, 1])).kind).toBe('unsupported');
  });

  it('refuses malformed content with typed errors', () => {
    for (const bytes of [
      new Uint8Array([0xc1]),
      encodeWire([1, 1, new Uint8Array(15), 1, 'x', null, null]),
      encodeWire([1, 2, new Uint8Array(16), 1, 'seen', [new Uint8Array(16)]]),
      encodeWire([1, 2, new Uint8Array(16), 1, 'read', []]),
      encodeWire([1, 3, new Uint8Array(16), 1, 'yes']),
      encodeWire([1, 1, new Uint8Array(16), 1, 'x', null, ['name', new Uint8Array(3)]]),
    ]) {
      expect(() => decodeContent(bytes)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    }
    expect(() => encodeContent({ ...base, kind: 'text', body: 'x'.repeat(MAX_TEXT_BYTES + 1) })).toThrow();
  });
});

describe('device-link codes and provisioning', () => {
  const request = createLinkRequest('http://127.0.0.1:8080', nodeProvider, random);
  const payload = {
    accountSecretKey: account.secretKey,
    deviceId: 77,
    deviceList: new Uint8Array([1, 2, 3]),
    displayName: 'Alice',
    accessKey: new Uint8Array(16).fill(3),
    settings: { readReceipts: true, typingIndicators: false, discoverable: false },
    contacts: [
      {
        accountId: hex16(6),
        identityKey: new Uint8Array(32).fill(1),
        displayName: 'D',
        state: 'accepted' as const,
        verified: false,
      },
    ],
  };

  it('round-trip: only the request that made the code opens the payload', () => {
    const code = parseLinkCode(request.code);
    expect(code.channelId).toBe(request.channelId);
    const blob = sealProvisioning(payload, code, nodeProvider, random);
    expect(openProvisioning(blob, request, nodeProvider)).toEqual(payload);
    const other = createLinkRequest('http://127.0.0.1:8080', nodeProvider, random);
    expect(() => openProvisioning(blob, { ...other, channelId: request.channelId }, nodeProvider)).toThrow(
      expect.objectContaining({ code: 'INVALID_LINK_CODE' }),
    );
    const tampered = blob.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(() => openProvisioning(tampered, request, nodeProvider)).toThrow(
      expect.objectContaining({ code: 'INVALID_LINK_CODE' }),
    );
  });

  it('refuses malformed link codes', () => {
    for (const text of [
      null,
      'vaultex://contact?v=1&d=AA',
      'vaultex://link?d=',
      'vaultex://link?d=AAAA',
      request.code.slice(0, -4),
    ]) {
      let error: unknown;
      try {
        parseLinkCode(text);
      } catch (e) {
        error = e;
      }
      expect(isClientError(error, 'INVALID_LINK_CODE')).toBe(true);
    }
  });
});

describe('backoff', () => {
  it('full jitter stays within [0, min(cap, base * 2^n)]', () => {
    const r = seededRandom(new Uint8Array(32).fill(1));
    for (let attempt = 0; attempt < 20; attempt++) {
      const ceiling = Math.min(RECONNECT_BACKOFF.capMs, RECONNECT_BACKOFF.baseMs * 2 ** attempt);
      const delays = Array.from({ length: 50 }, () => backoffDelay(attempt, RECONNECT_BACKOFF, r));
      expect(Math.max(...delays)).toBeLessThanOrEqual(ceiling);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      if (attempt >= 3) expect(Math.max(...delays)).toBeGreaterThan(ceiling / 4);
    }
    expect(backoffDelay(0, RECONNECT_BACKOFF, () => new Uint8Array(4).fill(0xff))).toBeLessThanOrEqual(500);
  });
});
