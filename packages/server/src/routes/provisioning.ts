/**
 * Device set-up routes. `/provisioning/:channelId`: a short-lived, unauthenticated mailbox
 * for device linking — one opaque encrypted message per channel, kept 10 minutes, deleted
 * when read. `POST /accounts/:accountId/device-list`: the account's key and device list for
 * a device that holds the account key but is not linked yet (restore from the seed phrase),
 * authorised by a signature of the account key over a fresh challenge.
 */
import {
  AccountParams,
  AccountResponse,
  API_PREFIX,
  DeviceListReadRequest,
  deviceListReadProofMessage,
  PROVISIONING_TTL_MS,
  ProvisioningMessage,
  ProvisioningParams,
} from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { fail } from '../errors.js';
import { hex, unhex } from '../ids.js';
import { RateLimiter } from '../rate-limiter.js';
import { ipKey, parse, type Services } from './support.js';

/** Provisioning messages put per salted IP hash and 10 minutes. */
export const PROVISIONING_PUTS_PER_10_MINUTES = 30;
/** Provisioning polls per salted IP hash and minute (a new device polls about once a second). */
export const PROVISIONING_GETS_PER_MINUTE = 120;

/** Register the provisioning and device-list read routes. */
export function provisioningRoutes(app: FastifyInstance, services: Services): void {
  const { ctx, accounts, auth } = services;
  const puts = new RateLimiter('provisioning', PROVISIONING_PUTS_PER_10_MINUTES, 10 * 60_000, ctx.clock);
  const gets = new RateLimiter('provisioning poll', PROVISIONING_GETS_PER_MINUTE, 60_000, ctx.clock);

  app.put(`${API_PREFIX}/provisioning/:channelId`, async (req, reply) => {
    puts.enforce(ipKey(services, req));
    const { channelId } = parse(ProvisioningParams, req.params, 'path');
    const { blob } = parse(ProvisioningMessage, req.body, 'body');
    const now = ctx.clock();
    if (!(await ctx.storage.putProvisioning(unhex(channelId), blob, now + PROVISIONING_TTL_MS, now))) {
      throw fail('CHANNEL_TAKEN', 'this provisioning channel already holds a message');
    }
    return reply.code(204).send();
  });

  app.get(`${API_PREFIX}/provisioning/:channelId`, async (req) => {
    gets.enforce(ipKey(services, req));
    const { channelId } = parse(ProvisioningParams, req.params, 'path');
    const blob = await ctx.storage.takeProvisioning(unhex(channelId), ctx.clock());
    if (!blob) throw fail('NOT_FOUND', 'no provisioning message (yet)');
    return z.encode(ProvisioningMessage, { blob });
  });

  app.post(`${API_PREFIX}/accounts/:accountId/device-list`, async (req) => {
    ctx.limiters.registrations.enforce(ipKey(services, req));
    const { accountId } = parse(AccountParams, req.params, 'path');
    const body = parse(DeviceListReadRequest, req.body, 'body');
    const id = unhex(accountId);
    const account = await accounts.account(id);
    await auth.consume(body.nonce);
    if (
      !ctx.provider.ed25519Verify(
        account.identityKey,
        deviceListReadProofMessage(body.nonce, id),
        body.accountSignature,
      )
    ) {
      throw fail('INVALID_SIGNATURE', 'the request is not signed by the account key');
    }
    return z.encode(AccountResponse, {
      accountId: hex(account.id),
      identityKey: account.identityKey,
      deviceList: account.deviceList,
    });
  });
}
