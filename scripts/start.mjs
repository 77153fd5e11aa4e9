// `npm start`: until the relay lands (issue 3) there is no server to run; say what is here.
console.log(`VAULTEX: the relay server and web app are not built yet.

What exists now is the protocol library, @vaultex/protocol (packages/protocol):
identity from a seed phrase, PQXDH, Double Ratchet, sealed sender, sender keys,
safety numbers, encrypted backups and the key-transparency log.

  npm test        run every test suite
  npm run bench   protocol benchmarks against libsignal-client

See README.md and docs/PROTOCOL.md.`);
