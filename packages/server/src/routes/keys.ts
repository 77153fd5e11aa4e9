/** `/keys*`: prekey upload and count for the caller's device, bundle fetch for any account. */
import { AccountParams, API_PREFIX, BundleQuery, BundleResponse, PreKeyCount, PreKeyUpload } from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { fail } from '../errors.js';
import { hex, unhex } from '../ids.js';
import { verifyPreKeys } from '../prekeys.js';
import { authenticated, parse, type Services } from './support.js';

/** Register the prekey routes. */
export function keyRoutes(app: FastifyInstance, services: Services): void {
  const { ctx, accounts } = services;

  app.put(`${API_PREFIX}/keys`, async (req, reply) => {
    const session = await authenticated(services, req);
    const body = parse(PreKeyUpload, req.body, 'body');
    const device = await ctx.storage.getDevice(session.accountId, session.deviceId);
    if (!device) throw fail('UNAUTHORIZED', 'this device no longer exists');
    const write = verifyPreKeys(device.deviceKey, body, ctx.provider);
    const result = await ctx.storage.storePreKeys(
      session.accountId,
      session.deviceId,
      write,
      ctx.config.maxOneTimePreKeys,
    );
    if (result === 'too-many') {
      throw fail(
        'BAD_REQUEST',
        `a device may hold at most ${ctx.config.maxOneTimePreKeys} one-time prekeys of each kind`,
      );
    }
    return reply.code(204).send();
  });

  app.get(`${API_PREFIX}/keys/count`, async (req) => {
    const session = await authenticated(services, req);
    const count = await ctx.storage.countPreKeys(session.accountId, session.deviceId);
    return z.encode(PreKeyCount, { oneTimePreKeys: count.oneTime, kemPreKeys: count.kem });
  });

  app.get(`${API_PREFIX}/keys/:accountId`, async (req) => {
    const session = await authenticated(services, req);
    const { accountId } = parse(AccountParams, req.params, 'path');
    const { deviceId } = parse(BundleQuery, req.query, 'query');
    // Limited per requester: a drained victim falls back to last-resort keys, but slowly.
    ctx.limiters.prekeyFetches.enforce(hex(session.accountId));
    const id = unhex(accountId);
    const account = await accounts.account(id);
    const bundles = await ctx.storage.takeBundles(id, deviceId === undefined ? undefined : [deviceId]);
    if (deviceId !== undefined && bundles.length === 0) throw fail('NOT_FOUND', 'no such device');
    return z.encode(BundleResponse, {
      accountId,
      identityKey: account.identityKey,
      deviceList: account.deviceList,
      devices: bundles.map((b) => ({
        deviceId: b.deviceId,
        identityKey: b.deviceKey,
        signedPreKey: b.signedPreKey,
        ...(b.oneTimePreKey ? { oneTimePreKey: b.oneTimePreKey } : {}),
        kemPreKey: b.kemPreKey,
      })),
      transparency: await ctx.transparency.inclusion(id),
    });
  });
}
