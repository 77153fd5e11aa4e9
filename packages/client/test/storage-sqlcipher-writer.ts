/**
 * Child process of the kill -9 durability test: writes message i, its seen id and a
 * session record in one transaction, then prints i, forever, until it is killed. A line
 * on stdout therefore means "committed" (stdout to a pipe is synchronous on Linux).
 * Usage: node --conditions=@vaultex/source --import tsx storage-sqlcipher-writer.ts <dir> <passphrase>
 */
import { openSqlCipherStore } from '@vaultex/client/node';

const [directory, passphrase] = process.argv.slice(2);
const store = await openSqlCipherStore({
  directory: directory!,
  passphrase: passphrase!,
  argon2: { t: 1, m: 64, p: 1 },
});
const id = (n: number) => n.toString(16).padStart(32, '0');
const conversationId = `d:${id(1)}`;
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  await store.transaction(async (tx) => {
    await tx.insertMessage({
      id: id(i),
      conversationId,
      senderAccountId: id(1),
      senderDeviceId: 1,
      direction: 'in',
      sentAt: i,
      receivedAt: i,
      body: new Uint8Array(64).fill(i & 0xff),
      status: 'delivered',
    });
    await tx.markSeen(`server-${i}`, i);
    await tx.putSession(id(1), 1, new Uint8Array(200).fill(i & 0xff));
  });
  process.stdout.write(`${i}\n`);
}
