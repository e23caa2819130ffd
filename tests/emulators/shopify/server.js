#!/usr/bin/env node
'use strict';
// Emulator of the Shopify GraphQL Admin API subset PackageBee's Shopify connector uses, for tests.
// Written from shopify.dev documentation (sources are cited next to each rule), independently of
// the connector. Every request is parsed, validated and executed by graphql-js against an SDL
// schema of the requested API version.
//
//   node server.js --cert server.pem --key server.key --port 0 --port-file port.txt \
//                  --seed catalogue.json [--generate 300] [--token shpat_x] [--request-log log.jsonl]
//
// Endpoints
//   POST /admin/api/{version}/graphql.json     the API (header X-Shopify-Access-Token)
//   GET  /_emulator/health                     "ok"
//   GET|POST /_emulator/faults                 read / change the fault switches (see FAULTS)
//   POST /_emulator/config                     bucket and cost settings (see CONFIG_KEYS)
//   GET  /_emulator/state                      catalogue, quantities and buckets as JSON
//   POST /_emulator/inventory                  {inventory_item_id, location_id, available}: an
//                                              edit made "in the store" (to make CAS checks fail)
//   GET  /_emulator/requests                   the request log kept in memory
//   POST /_emulator/variants                   {sku, location_id?, available?}: a variant created
//                                              in the store (a SKU a cached map lacks)
//   POST /_emulator/bulk_operations            {token, query, duration_ms?, version?}: a bulk query
//                                              of that app started by "another process" of it
//   GET  /_bulk_results/{n}.jsonl              a bulk operation's result (bulk.js), HTTP Range
//                                              honoured; the URL names --result-host (default
//                                              localhost), not the shop's host
// /_emulator/* needs no token and is never subject to faults, throttling or latency.
//
// Request log (--request-log FILE, JSON lines; also GET /_emulator/requests): one object per
// request to /admin with its status, the fault applied if any, the costs, and for each
// inventorySetQuantities call the idempotency key, the input, every quantity as received, the
// outcome (applied, rejected, replayed, key_mismatch, previous_attempt_failed, error), the user
// error codes and the changes applied.
const fs = require('fs');
const http = require('http');
const https = require('https');
const { performance } = require('perf_hooks');
const {
  parse,
  validate,
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
} = require('graphql');

const { Store } = require('./store');
const { schemaFor, isValidVersion } = require('./schema');
const { CostCalculator, findOversizedInputs } = require('./cost');
const { rootValue } = require('./api');
const { BulkOperations } = require('./bulk');

const THROTTLE_DOC = 'https://shopify.dev/api/usage/rate-limits';
// shopify.dev "API response status and error codes": 401 body for a missing or wrong token.
const UNAUTHORIZED_BODY = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
const MAX_BODY = 16 * 1024 * 1024;

// ---- command line --------------------------------------------------------------------------------
function usage(msg) {
  if (msg) process.stderr.write(`shopify emulator: ${msg}\n`);
  process.stderr.write(
    'usage: server.js [--host H] [--port P] [--port-file F] [--cert PEM --key PEM] [--seed FILE]...\n' +
      '                 [--generate N] [--token T]... [--request-log FILE]\n' +
      '                 [--max-available N] [--restore-rate N] [--max-cost N] [--mutation-cost N|NAME=N]...\n' +
      '                 [--input-array-limit N] [--latency-ms N] [--fail-next N] [--fail-status S]\n' +
      '                 [--drop-next N] [--drop-after-apply-next N] [--malformed-next N]\n' +
      '                 [--rate-limit-next N] [--retry-after S]\n' +
      '                 [--bulk-base-ms N] [--bulk-ms-per-object N] [--result-host NAME]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    host: '127.0.0.1',
    port: 0,
    portFile: null,
    cert: null,
    key: null,
    seeds: [],
    generate: 0,
    tokens: [],
    requestLog: null,
    resultHost: 'localhost',
    config: {
      bulkBaseMs: 1000,
      bulkMsPerObject: 0.05,
      maximumAvailable: 2000,
      restoreRate: 100,
      maxCost: 1000,
      defaultMutationCost: 10,
      mutationCosts: {},
      inputArrayLimit: 250,
    },
    faults: {},
  };
  const num = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n)) usage(`${name} needs a number, got ${v}`);
    return n;
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--host': o.host = next(); break;
      case '--port': o.port = num(a, next()); break;
      case '--port-file': o.portFile = next(); break;
      case '--cert': o.cert = next(); break;
      case '--key': o.key = next(); break;
      case '--seed': o.seeds.push(next()); break;
      case '--generate': o.generate = num(a, next()); break;
      case '--token': o.tokens.push(next()); break;
      case '--request-log': o.requestLog = next(); break;
      case '--result-host': o.resultHost = next(); break;
      case '--bulk-base-ms': o.config.bulkBaseMs = num(a, next()); break;
      case '--bulk-ms-per-object': o.config.bulkMsPerObject = num(a, next()); break;
      case '--max-available': o.config.maximumAvailable = num(a, next()); break;
      case '--restore-rate': o.config.restoreRate = num(a, next()); break;
      case '--max-cost': o.config.maxCost = num(a, next()); break;
      case '--input-array-limit': o.config.inputArrayLimit = num(a, next()); break;
      case '--mutation-cost': {
        const v = next();
        const eq = v.indexOf('=');
        if (eq > 0) o.config.mutationCosts[v.slice(0, eq)] = num(a, v.slice(eq + 1));
        else o.config.defaultMutationCost = num(a, v);
        break;
      }
      case '--latency-ms': o.faults.latency_ms = num(a, next()); break;
      case '--fail-next': o.faults.fail_next = num(a, next()); break;
      case '--fail-status': o.faults.fail_status = num(a, next()); break;
      case '--drop-next': o.faults.drop_next = num(a, next()); break;
      case '--drop-after-apply-next': o.faults.drop_after_apply_next = num(a, next()); break;
      case '--malformed-next': o.faults.malformed_next = num(a, next()); break;
      case '--rate-limit-next': o.faults.rate_limit_next = num(a, next()); break;
      case '--retry-after': o.faults.retry_after = num(a, next()); break;
      case '-h':
      case '--help': usage(); break;
      default: usage(`unknown option ${a}`);
    }
  }
  if (Boolean(o.cert) !== Boolean(o.key)) usage('--cert and --key go together');
  return o;
}

// ---- faults ----------------------------------------------------------------------------------------
// Switches for /admin requests. Counters count down per request; checks run in this order:
//   drop_next              close the connection without answering (nothing applied)
//   fail_next              answer fail_status (default 503) without processing
//   rate_limit_next        answer 429 with Retry-After: retry_after (default 2) without processing
//   drop_after_apply_next  process the request (mutations apply), then close without answering
//   malformed_next         process the request, then answer 200 with a truncated JSON body
//   latency_ms             delay every request by this many milliseconds
// and for bulk operations (bulk.js):
//   bulk_fail_next            the next bulk queries end FAILED (INTERNAL_SERVER_ERROR)
//   bulk_access_denied_next   the next bulk queries end FAILED (ACCESS_DENIED: a scope is missing)
//   bulk_cut_next             the next result downloads stop after half the bytes they promise
const FAULTS = ['latency_ms', 'fail_next', 'fail_status', 'drop_next', 'drop_after_apply_next', 'malformed_next', 'rate_limit_next', 'retry_after', 'bulk_fail_next', 'bulk_access_denied_next', 'bulk_cut_next'];
const FAULT_DEFAULTS = { latency_ms: 0, fail_next: 0, fail_status: 503, drop_next: 0, drop_after_apply_next: 0, malformed_next: 0, rate_limit_next: 0, retry_after: 2, bulk_fail_next: 0, bulk_access_denied_next: 0, bulk_cut_next: 0 };
const CONFIG_KEYS = ['maximumAvailable', 'restoreRate', 'maxCost', 'defaultMutationCost', 'mutationCosts', 'inputArrayLimit', 'bulkBaseMs', 'bulkMsPerObject'];

function takeFault(faults, name) {
  if (faults[name] > 0) {
    faults[name] -= 1;
    return true;
  }
  return false;
}

// ---- leaky bucket --------------------------------------------------------------------------------
// One bucket per shop (Host header) and app (access token): shopify.dev "GraphQL Admin API rate
// limits" ("based on the combination of the app and store"). It holds up to maximumAvailable
// points and refills continuously at restoreRate points per second. A query needs its requested
// cost in the bucket to run; afterwards the difference between requested and actual cost is
// refunded.
class Bucket {
  constructor(config) {
    this.config = config;
    this.available = config.maximumAvailable;
    this.at = performance.now();
  }

  refill() {
    const now = performance.now();
    this.available = Math.min(
      this.config.maximumAvailable,
      this.available + ((now - this.at) / 1000) * this.config.restoreRate,
    );
    this.at = now;
  }

  status() {
    this.refill();
    return {
      maximumAvailable: this.config.maximumAvailable,
      currentlyAvailable: Math.floor(this.available),
      restoreRate: this.config.restoreRate,
    };
  }
}

// ---- server ----------------------------------------------------------------------------------------
function main() {
  const opts = parseArgs(process.argv);
  const store = new Store();
  for (const s of opts.seeds) store.loadSeed(s);
  if (opts.generate > 0) store.generate(opts.generate);
  for (const t of opts.tokens) store.tokens.add(t);
  if (store.tokens.size === 0) store.tokens.add('shpat_emulator_token');
  if (store.locations.size === 0) store.addLocation(1, 'Default location');

  const config = opts.config;
  const faults = { ...FAULT_DEFAULTS, ...opts.faults };
  const buckets = new Map();
  const shops = new Map(); // per shop: idempotency keys
  const requests = [];
  const bulkOps = new BulkOperations(config, faults);
  let listenPort = 0;
  let seq = 0;
  const logStream = opts.requestLog ? fs.openSync(opts.requestLog, 'a') : null;

  const record = (entry) => {
    requests.push(entry);
    if (logStream !== null) fs.writeSync(logStream, `${JSON.stringify(entry)}\n`);
  };

  const shopState = (host) => {
    if (!shops.has(host)) shops.set(host, { idempotency: new Map() });
    return shops.get(host);
  };

  const send = (res, status, body, headers = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' && !headers['Content-Type'] ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on('data', (c) => {
        size += c.length;
        if (size > MAX_BODY) {
          reject(Object.assign(new Error('body too large'), { status: 413 }));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  // ---- /_emulator ----
  async function control(req, res, path) {
    if (path === '/_emulator/health') return send(res, 200, 'ok');
    if (path === '/_emulator/requests' && req.method === 'GET') return send(res, 200, requests);
    if (path === '/_emulator/state' && req.method === 'GET') {
      const b = {};
      for (const [k, v] of buckets) b[k] = v.status();
      return send(res, 200, { ...store.snapshot(), buckets: b, config, faults });
    }
    let body = {};
    if (req.method === 'POST') {
      const text = await readBody(req);
      try {
        body = text ? JSON.parse(text) : {};
      } catch (e) {
        return send(res, 400, { error: `invalid JSON: ${e.message}` });
      }
    }
    if (path === '/_emulator/faults') {
      if (req.method === 'POST') {
        if (body.reset) Object.assign(faults, FAULT_DEFAULTS);
        for (const k of Object.keys(body)) {
          if (k === 'reset') continue;
          if (!FAULTS.includes(k)) return send(res, 400, { error: `unknown fault ${k}`, known: FAULTS });
          if (!Number.isFinite(Number(body[k]))) return send(res, 400, { error: `${k} must be a number` });
          faults[k] = Number(body[k]);
        }
      }
      return send(res, 200, faults);
    }
    if (path === '/_emulator/config' && req.method === 'POST') {
      for (const k of Object.keys(body)) {
        if (k === 'refill') continue;
        if (!CONFIG_KEYS.includes(k)) return send(res, 400, { error: `unknown setting ${k}`, known: CONFIG_KEYS });
        if (k === 'mutationCosts') Object.assign(config.mutationCosts, body[k]);
        else config[k] = Number(body[k]);
      }
      for (const bucket of buckets.values()) {
        bucket.refill();
        if (body.refill || bucket.available > config.maximumAvailable) bucket.available = config.maximumAvailable;
      }
      return send(res, 200, config);
    }
    if (path === '/_emulator/bulk_operations' && req.method === 'POST') {
      // Starts a bulk query for the app of `token` on this shop as another process of the app
      // would (it takes one of the app's slots): {token, query, duration_ms?, version?}.
      if (!store.tokens.has(body.token) || typeof body.query !== 'string') {
        return send(res, 400, { error: 'token (a known access token) and query are required' });
      }
      const host = String(req.headers.host || 'localhost').split(':')[0];
      const { schema, features } = schemaFor(body.version || '2026-10');
      const made = bulkOps.create(body.query, {
        store, features, bulkKey: `${host}|${body.token}`, schema, rootValue,
        resultHost: `${opts.resultHost}:${listenPort}`,
      }, body.duration_ms === undefined ? undefined : Number(body.duration_ms));
      if (made.error) return send(res, 400, { error: made.error.message });
      return send(res, 200, bulkOps.view(made.op));
    }
    if (path === '/_emulator/variants' && req.method === 'POST') {
      // A variant created "in the store" after the catalogue was read: {sku, location_id?,
      // available?}; its ids are the next free numbers.
      if (typeof body.sku !== 'string' || !body.sku) return send(res, 400, { error: 'sku is required' });
      const v = store.addVariant({ sku: body.sku, levels: { [body.location_id || 1]: Number(body.available || 0) } });
      store.sortVariants();
      return send(res, 200, { sku: v.sku, variant_id: v.id, inventory_item_id: v.itemId });
    }
    if (path === '/_emulator/inventory' && req.method === 'POST') {
      const lv = store.level(body.inventory_item_id, body.location_id);
      if (!lv) return send(res, 404, { error: 'no such inventory level' });
      const delta = Number(body.available) - lv.available;
      lv.available += delta;
      lv.on_hand += delta;
      lv.updatedAt = new Date().toISOString();
      return send(res, 200, lv);
    }
    return send(res, 404, { error: 'no such emulator endpoint' });
  }

  // ---- /admin/api/{version}/graphql.json ----
  async function api(req, res, path, entry) {
    const m = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
    if (!m || !isValidVersion(m[1])) {
      entry.status = 404;
      return send(res, 404, { errors: 'Not Found' });
    }
    if (req.method !== 'POST') {
      entry.status = 405;
      return send(res, 405, { errors: 'Method Not Allowed' }, { Allow: 'POST' });
    }
    const version = m[1];
    entry.api_version = version;

    const token = req.headers['x-shopify-access-token'];
    if (!token || !store.tokens.has(token)) {
      entry.status = 401;
      return send(res, 401, UNAUTHORIZED_BODY);
    }
    const host = String(req.headers.host || 'localhost').split(':')[0];
    const bucketKey = `${host}|${token}`;
    if (!buckets.has(bucketKey)) buckets.set(bucketKey, new Bucket(config));
    const bucket = buckets.get(bucketKey);

    let text;
    try {
      text = await readBody(req);
    } catch (e) {
      entry.status = e.status || 400;
      return send(res, entry.status, { errors: 'Request body too large' });
    }
    // Body: JSON {query, variables, operationName} or, with Content-Type application/graphql,
    // the query itself. A body without a query is the REST-style 400 "Required parameter missing
    // or invalid" (emulator choice: the docs do not show the GraphQL endpoint's answer).
    let query;
    let variables = {};
    let operationName = null;
    const ctype = String(req.headers['content-type'] || '');
    if (ctype.startsWith('application/graphql')) query = text;
    else {
      let body;
      try {
        body = JSON.parse(text);
      } catch (e) {
        body = null;
      }
      if (!body || typeof body !== 'object' || typeof body.query !== 'string') {
        entry.status = 400;
        return send(res, 400, { errors: { query: 'Required parameter missing or invalid' } });
      }
      query = body.query;
      variables = body.variables || {};
      operationName = body.operationName || null;
    }
    entry.operation_name = operationName;

    const costBlock = (requested, actual) => ({
      cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: bucket.status() },
    });
    // GraphQL-level failures (syntax, validation, variables, limits, throttling) are HTTP 200 with
    // an `errors` array, as on the real API; nothing is charged for them.
    const reject = (errors, requested = 0) => {
      entry.status = 200;
      entry.errors = errors.map((e) => (e.extensions && e.extensions.code) || e.message);
      return { status: 200, body: { errors: errors.map((e) => (e.toJSON ? e.toJSON() : e)), extensions: costBlock(requested, null) } };
    };

    const { schema, features } = schemaFor(version);
    let document;
    try {
      document = parse(query);
    } catch (e) {
      return reject([e]);
    }
    const validationErrors = validate(schema, document);
    if (validationErrors.length) return reject(validationErrors);
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      return reject([new GraphQLError(operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.')]);
    }
    entry.operation_type = operation.operation;
    entry.root_fields = operation.selectionSet.selections.filter((s) => s.name).map((s) => s.name.value);
    const coerced = getVariableValues(schema, operation.variableDefinitions || [], variables);
    if (coerced.errors) return reject(coerced.errors);

    const oversized = findOversizedInputs({ schema, document, operation, variables: coerced.coerced, limit: config.inputArrayLimit });
    if (oversized.length) return reject(oversized);

    const calc = new CostCalculator({ schema, document, variables: coerced.coerced, config });
    const requested = calc.requested(operation);
    entry.requestedQueryCost = requested;
    if (requested > config.maxCost) {
      // shopify.dev: "A single query to the API cannot exceed a cost of 1000", enforced on the
      // requested cost before execution.
      return reject(
        [
          new GraphQLError(
            `Query cost is ${requested}, which exceeds the single query max cost limit (${config.maxCost}).`,
            { extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: config.maxCost, documentation: THROTTLE_DOC } },
          ),
        ],
        requested,
      );
    }
    bucket.refill();
    if (bucket.available < requested) {
      entry.throttled = true;
      return reject([{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: THROTTLE_DOC } }], requested);
    }
    bucket.available -= requested;

    const ctx = {
      store,
      features,
      shopState: shopState(host),
      log: entry,
      searchWarnings: [],
      bulkOps,
      bulkKey: bucketKey,
      schema,
      rootValue,
      resultHost: `${opts.resultHost}:${listenPort}`,
    };
    entry.mutations = [];
    ctx.log.mutations = entry.mutations;
    const result = execute({
      schema,
      document,
      rootValue: rootValue(ctx),
      contextValue: ctx,
      variableValues: variables,
      operationName,
    });
    const actual = calc.actual(operation, result.data);
    bucket.available = Math.min(config.maximumAvailable, bucket.available + Math.max(0, requested - actual));
    entry.actualQueryCost = actual;
    entry.status = 200;
    if (result.errors) entry.errors = result.errors.map((e) => (e.extensions && e.extensions.code) || e.message);
    const body = {};
    if (result.errors) body.errors = result.errors.map((e) => e.toJSON());
    body.data = result.data === undefined ? null : result.data;
    body.extensions = costBlock(requested, actual);
    if (ctx.searchWarnings.length) body.extensions.search = ctx.searchWarnings;
    return { status: 200, body };
  }

  // A bulk result, as a storage service serves it: GET with an optional single Range.
  function bulkResult(req, res, path, entry) {
    const m = /^\/_bulk_results\/(\d+)\.jsonl$/.exec(path);
    const body = m && req.method === 'GET' ? bulkOps.result(Number(m[1])) : null;
    if (!body) {
      entry.status = 404;
      record(entry);
      return send(res, 404, 'NoSuchKey');
    }
    let from = 0;
    let to = body.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range || ''));
    if (range) {
      from = Number(range[1]);
      if (range[2] !== '') to = Math.min(to, Number(range[2]));
      if (from >= body.length) {
        entry.status = 416;
        record(entry);
        return send(res, 416, '', { 'Content-Range': `bytes */${body.length}` });
      }
    }
    const part = body.subarray(from, to + 1);
    entry.status = range ? 206 : 200;
    entry.range = range ? [from, to] : null;
    const headers = { 'Content-Type': 'application/jsonl', 'Content-Length': part.length };
    if (range) headers['Content-Range'] = `bytes ${from}-${to}/${body.length}`;
    res.writeHead(entry.status, headers);
    if (takeFault(faults, 'bulk_cut_next')) {
      entry.fault = 'cut';
      record(entry);
      res.write(part.subarray(0, Math.floor(part.length / 2)));
      setTimeout(() => req.socket.destroy(), 20);
      return undefined;
    }
    record(entry);
    res.end(part);
    return undefined;
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://emulator');
    const path = url.pathname;
    if (path.startsWith('/_bulk_results/')) {
      return bulkResult(req, res, path, { seq: ++seq, ts: new Date().toISOString(), method: req.method, path, range_header: req.headers.range || null });
    }
    if (path.startsWith('/_emulator/')) {
      try {
        return await control(req, res, path);
      } catch (e) {
        return send(res, 500, { error: String(e && e.stack) });
      }
    }
    const entry = { seq: ++seq, ts: new Date().toISOString(), method: req.method, path };
    try {
      if (faults.latency_ms > 0) await new Promise((r) => setTimeout(r, faults.latency_ms));
      if (takeFault(faults, 'drop_next')) {
        entry.fault = 'drop';
        record(entry);
        req.socket.destroy();
        return undefined;
      }
      if (takeFault(faults, 'fail_next')) {
        entry.fault = `http_${faults.fail_status}`;
        entry.status = faults.fail_status;
        record(entry);
        return send(res, faults.fail_status, { errors: 'Internal Server Error' });
      }
      if (takeFault(faults, 'rate_limit_next')) {
        entry.fault = 'http_429';
        entry.status = 429;
        record(entry);
        return send(res, 429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }, { 'Retry-After': String(faults.retry_after) });
      }
      const out = await api(req, res, path, entry);
      if (!out) {
        record(entry);
        return undefined; // already answered (404, 401, 400 ...)
      }
      if (takeFault(faults, 'drop_after_apply_next')) {
        entry.fault = 'drop_after_apply';
        record(entry);
        req.socket.destroy();
        return undefined;
      }
      let text = JSON.stringify(out.body);
      if (takeFault(faults, 'malformed_next')) {
        entry.fault = 'malformed';
        text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
      }
      record(entry);
      res.writeHead(out.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return undefined;
    } catch (e) {
      entry.status = 500;
      entry.error = String(e && e.stack);
      record(entry);
      process.stderr.write(`shopify emulator: internal error: ${e && e.stack}\n`);
      if (!res.headersSent) send(res, 500, { errors: 'Internal Server Error' });
      return undefined;
    }
  }

  const listener = (req, res) => {
    handle(req, res);
  };
  const server = opts.cert
    ? https.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 5000;
  server.on('tlsClientError', () => {}); // handshake failures are the client's business (wrong-CA tests)
  server.listen(opts.port, opts.host, () => {
    const port = server.address().port;
    listenPort = port;
    if (opts.portFile) {
      fs.writeFileSync(`${opts.portFile}.tmp`, `${port}\n`);
      fs.renameSync(`${opts.portFile}.tmp`, opts.portFile);
    }
    process.stdout.write(`shopify emulator listening on ${opts.cert ? 'https' : 'http'}://${opts.host}:${port}\n`);
  });
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
