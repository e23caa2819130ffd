// A minimal Medusa v2 server for tests/integration/test_store_medusa.py and bench/medusa_bench.py:
// PostgreSQL from DATABASE_URL, the in-memory event bus, cache and workflow engine (no Redis),
// no admin dashboard. The test writes the secrets below into the environment it starts Medusa in.
const { defineConfig } = require("@medusajs/framework/utils")

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    databaseLogging: false,
    http: {
      storeCors: "http://127.0.0.1",
      adminCors: "http://127.0.0.1",
      authCors: "http://127.0.0.1",
      jwtSecret: process.env.JWT_SECRET,
      cookieSecret: process.env.COOKIE_SECRET,
    },
  },
  admin: {
    disable: true,
  },
})
