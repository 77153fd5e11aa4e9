/** `/accounts/*`: registration, public keys, device linking and removal, deletion, access key. */
import {
  AccessKeyRequest,
  AccountParams,
  AccountResponse,
  API_PREFIX,
  DeleteAccountRequest,
  LinkDeviceRequest,
  LinkDeviceResponse,
  RegisterRequest,
  RegisterResponse,
  UpdateDeviceListRequest,
} from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { hex, unhex } from '../ids.js';
import { authenticated, ipKey, parse, type Services } from './support.js';

/** Register the account routes. */
export function accountRoutes(app: FastifyInstance, services: Services): void {
  const { accounts, ctx } = services;

  app.post(`${API_PREFIX}/accounts`, async (req, reply) => {
    ctx.limiters.registrations.enforce(ipKey(services, req));
    const body = parse(RegisterRequest, req.body, 'body');
    const result = await accounts.register(body);
    return reply.code(201).send(z.encode(RegisterResponse, result));
  });

  app.get(`${API_PREFIX}/accounts/:accountId`, async (req) => {
    await authenticated(services, req);
    const { accountId } = parse(AccountParams, req.params, 'path');
    const account = await accounts.account(unhex(accountId));
    return z.encode(AccountResponse, {
      accountId: hex(account.id),
      identityKey: account.identityKey,
      deviceList: account.deviceList,
    });
  });

  app.post(`${API_PREFIX}/accounts/:accountId/devices`, async (req, reply) => {
    ctx.limiters.registrations.enforce(ipKey(services, req));
    const { accountId } = parse(AccountParams, req.params, 'path');
    const body = parse(LinkDeviceRequest, req.body, 'body');
    const result = await accounts.link(unhex(accountId), body);
    return reply.code(201).send(z.encode(LinkDeviceResponse, result));
  });

  app.put(`${API_PREFIX}/accounts/:accountId/devices`, async (req, reply) => {
    const { accountId } = parse(AccountParams, req.params, 'path');
    const body = parse(UpdateDeviceListRequest, req.body, 'body');
    await accounts.updateDeviceList(unhex(accountId), body.deviceList);
    return reply.code(204).send();
  });

  app.delete(`${API_PREFIX}/accounts/me`, async (req, reply) => {
    const session = await authenticated(services, req);
    const body = parse(DeleteAccountRequest, req.body, 'body');
    await accounts.delete(session.accountId, body.nonce, body.accountSignature);
    return reply.code(204).send();
  });

  app.put(`${API_PREFIX}/accounts/me/access-key`, async (req, reply) => {
    const session = await authenticated(services, req);
    const body = parse(AccessKeyRequest, req.body, 'body');
    await ctx.storage.setAccessKeyHash(
      session.accountId,
      body.accessKey === null ? null : ctx.provider.sha256(body.accessKey),
    );
    ctx.recipients.invalidate(hex(session.accountId));
    return reply.code(204).send();
  });
}
