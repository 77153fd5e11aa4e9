/** Configuration: documented defaults, VAULTEX_* variables, flags, and refusals of bad values. */
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/index.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = parseConfig();
    expect(c).toMatchObject({ host: 'localhost', port: 8080, dataDir: './data', metricsPort: 9464, maxDevices: 10 });
    expect(c.tokenTtlMs).toBe(15 * 60_000);
    expect(c.messageTtlMs).toBe(30 * 24 * 3600_000);
    expect(c.limits).toMatchObject({ wsFramesPerSecond: 30, wsMaxFrameBytes: 64 * 1024 });
  });

  it('reads environment variables, then flags over them', () => {
    const c = loadConfig(
      {
        VAULTEX_PORT: '9000',
        VAULTEX_TRUST_PROXY: 'true',
        VAULTEX_LIMITS_WS_FRAMES_PER_SECOND: '5',
        VAULTEX_DATA_DIR: '/tmp/x',
      },
      ['--port', '9001', '--limits.sends-per-account-per-minute=7', '--log-level', 'warn'],
    );
    expect(c.port).toBe(9001);
    expect(c.trustProxy).toBe(true);
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.logLevel).toBe('warn');
    expect(c.limits.wsFramesPerSecond).toBe(5);
    expect(c.limits.sendsPerAccountPerMinute).toBe(7);
  });

  it('refuses unknown flags and invalid values', () => {
    expect(() => loadConfig({}, ['--nope', '1'])).toThrow(/unknown flag/);
    expect(() => loadConfig({}, ['--limits.nope', '1'])).toThrow(/unknown flag/);
    expect(() => loadConfig({}, ['--port'])).toThrow(/needs a value/);
    expect(() => loadConfig({ VAULTEX_PORT: 'eighty' }, [])).toThrow(/port/);
    expect(() => parseConfig({ maxDevices: 65 })).toThrow(/maxDevices/);
  });
});
