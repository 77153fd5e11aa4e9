/**
 * Child process of the client kill -9 test: opens Alice's SQLCipher profile, queues
 * `count` messages to Bob while the outbox sends them, and prints `queued <i>` once each
 * send() returned (the message and its job are committed) and `sent <id>` as the relay
 * accepts them, until it is killed.
 * Usage: node --conditions=@vaultex/source --import tsx client-crash-sender.ts <dir> <passphrase> <bobId> <count>
 */
import { openNodeClient } from '@vaultex/client/node';

const [profileDir, passphrase, bobId, count] = process.argv.slice(2);
const client = await openNodeClient({ profileDir: profileDir!, passphrase: passphrase! });
client.on('message-status', (s) => {
  if (s.status === 'sent') process.stdout.write(`sent ${s.id}\n`);
});
client.start();
for (let i = 0; i < Number(count); i++) {
  await client.messages.send(bobId!, `crash ${i}`);
  process.stdout.write(`queued ${i}\n`);
}
// Keep running until killed.
setInterval(() => undefined, 1000);
