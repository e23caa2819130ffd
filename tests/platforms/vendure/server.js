// Boots a real Vendure 3 server (from npm, pinned in package-lock.json) for PackageBee's
// integration test and bench: a fresh SQLite file in --dir, the Admin API on 127.0.0.1:--port,
// bearer tokens and API keys enabled, and no plugin that needs the network (no admin UI,
// email, assets or search index). Prints "READY <port>" on stdout once it answers.
//
//   node server.js --dir DIR --port PORT --password SUPERADMIN_PASSWORD
'use strict';

const path = require('path');

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i + 1 < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const key of ['dir', 'port', 'password'])
    if (!out[key]) {
      console.error(`server.js: --${key} is required`);
      process.exit(2);
    }
  return out;
}

async function main() {
  const opts = args();
  // Vendure 3.7 reports an installation to vendure.io unless told not to: tests stay offline.
  process.env.VENDURE_DISABLE_TELEMETRY = 'true';
  const { bootstrap, dummyPaymentHandler, DefaultLogger, LogLevel } = require('@vendure/core');
  const config = {
    apiOptions: {
      hostname: '127.0.0.1',
      port: Number(opts.port),
      adminApiPath: 'admin-api',
      shopApiPath: 'shop-api',
      adminApiPlayground: false,
      shopApiPlayground: false,
      adminApiDebug: false,
    },
    authOptions: {
      // The connector logs in (bearer) or sends an API key (Vendure 3.6+).
      tokenMethod: ['bearer', 'api-key'],
      superadminCredentials: { identifier: 'superadmin', password: opts.password },
    },
    dbConnectionOptions: {
      type: 'better-sqlite3',
      database: path.join(opts.dir, 'vendure.sqlite'),
      synchronize: true, // a fresh file: the schema is created at boot
      logging: false,
    },
    paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
    logger: new DefaultLogger({ level: process.env.VENDURE_LOG === 'debug' ? LogLevel.Debug : LogLevel.Warn }),
    plugins: [],
  };
  const app = await bootstrap(config);
  process.stdout.write(`READY ${opts.port}\n`);
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error('server.js: Vendure failed to start:', e);
  process.exit(1);
});
