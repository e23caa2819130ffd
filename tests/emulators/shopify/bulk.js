'use strict';
// Bulk query operations, from shopify.dev "Perform bulk operations with the GraphQL Admin API" and
// the BulkOperation / bulkOperationRunQuery / currentBulkOperation reference pages:
//   - bulkOperationRunQuery(query:) validates the query (it must hold a connection) and returns a
//     BulkOperation in status CREATED; it runs server-side: RUNNING, then COMPLETED (or FAILED with
//     an errorCode: ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT). objectCount counts the objects
//     processed so far (a running count).
//   - Before API 2026-01 an app runs one bulk query at a time per shop: a second start gets the
//     user error OPERATION_IN_PROGRESS. From 2026-01, up to five at once.
//   - On COMPLETED, `url` points to a JSONL file on another host (Google Cloud Storage on the real
//     platform), valid 7 days; it is null when the query matched no object. One line per object;
//     the nodes of a nested connection come as their own lines with `__parentId`, after the parent.
// Emulator choices: the server-side time is config.bulkBaseMs + config.bulkMsPerObject per object;
// the result is served from /_bulk_results/<n>.jsonl on this server under --result-host (another
// name for it, so that the URL is not the shop's host), with HTTP Range support as a storage
// service offers. POST /_emulator/bulk_operations (server.js) starts an operation for an app as if
// another process of that app had (create() without a slot check): a test's "foreign" operation.
const { parse, validate, execute } = require('graphql');
const { versionKey } = require('./schema');

const ACTIVE = new Set(['CREATED', 'RUNNING', 'CANCELING']);

function gidOf(n) {
  return `gid://shopify/BulkOperation/${n}`;
}

function userError(code, message, field = ['query']) {
  return { code, field, message };
}

// The JSONL lines of an executed bulk query: each node of a root connection on its own line,
// nested connections' nodes after it with __parentId; plain objects stay inline.
function flatten(data) {
  const lines = [];
  const isConnection = (v) => v && typeof v === 'object' && Array.isArray(v.edges || v.nodes);
  const nodesOf = (c) => (c.edges ? c.edges.map((e) => e.node) : c.nodes);
  const emit = (node, parentId) => {
    const own = {};
    const nested = [];
    for (const [k, v] of Object.entries(node)) {
      if (isConnection(v)) nested.push(v);
      else own[k] = v;
    }
    if (parentId) own.__parentId = parentId;
    lines.push(JSON.stringify(own));
    for (const c of nested) for (const child of nodesOf(c)) emit(child, node.id);
  };
  for (const v of Object.values(data || {})) if (isConnection(v)) for (const n of nodesOf(v)) emit(n, null);
  return lines;
}

class BulkOperations {
  constructor(config, faults) {
    this.config = config;
    this.faults = faults;
    this.ops = new Map(); // gid -> op
    this.seq = 0;
  }

  // The mutation's resolver. ctx: { store, features, bulkKey (shop|token), schema, rootValue }.
  run(args, ctx) {
    const version = ctx.features.version;
    const limit = versionKey(version) >= '2026-01' ? 5 : 1;
    const running = [...this.ops.values()].filter((o) => o.key === ctx.bulkKey && ACTIVE.has(this.refresh(o).status));
    if (running.length >= limit) {
      if (ctx.log) ctx.log.bulk_outcome = 'OPERATION_IN_PROGRESS';
      return {
        bulkOperation: null,
        userErrors: [userError('OPERATION_IN_PROGRESS', `A bulk query operation for this app and shop is already in progress: ${running[0].id}.`, null)],
      };
    }
    const made = this.create(args.query, ctx);
    if (made.error) {
      if (ctx.log) ctx.log.bulk_outcome = 'INVALID';
      return { bulkOperation: null, userErrors: [made.error] };
    }
    const op = made.op;
    if (this.faults.bulk_access_denied_next > 0) {
      this.faults.bulk_access_denied_next -= 1;
      op.fail = 'ACCESS_DENIED';
    } else if (this.faults.bulk_fail_next > 0) {
      this.faults.bulk_fail_next -= 1;
      op.fail = 'INTERNAL_SERVER_ERROR';
    }
    if (ctx.log) {
      ctx.log.bulk_outcome = 'started';
      ctx.log.bulk_operation = op.id;
    }
    return { bulkOperation: this.view(op), userErrors: [] };
  }

  // Validates and executes `query` and records the operation (no slot check, no faults): what a
  // start does once Shopify accepted it. `durationMs` overrides the configured server-side time.
  // Returns { op } or { error } (a BulkOperationUserError).
  create(query, ctx, durationMs) {
    let document;
    try {
      document = parse(query);
    } catch (e) {
      return { error: userError('INVALID', `Invalid bulk query: ${e.message}`) };
    }
    const errors = validate(ctx.schema, document);
    if (errors.length) return { error: userError('INVALID', `Invalid bulk query: ${errors[0].message}`) };
    const bulkCtx = { ...ctx, bulk: true, searchWarnings: [] };
    const result = execute({ schema: ctx.schema, document, rootValue: ctx.rootValue(bulkCtx), contextValue: bulkCtx });
    if (result.errors) return { error: userError('INVALID', `Invalid bulk query: ${result.errors[0].message}`) };
    const lines = flatten(result.data);
    if (!lines.length && !Object.values(result.data || {}).some((v) => v && (v.edges || v.nodes))) {
      return { error: userError('INVALID', 'Bulk queries must contain at least one connection.') };
    }
    const n = ++this.seq;
    const op = {
      id: gidOf(n),
      n,
      key: ctx.bulkKey,
      query,
      type: 'QUERY',
      createdAt: new Date().toISOString(),
      started: Date.now(),
      duration: durationMs !== undefined ? durationMs : this.config.bulkBaseMs + this.config.bulkMsPerObject * lines.length,
      lines,
      body: Buffer.from(lines.length ? `${lines.join('\n')}\n` : ''),
      fail: null,
      status: 'CREATED',
      resultHost: ctx.resultHost,
    };
    this.ops.set(op.id, op);
    return { op };
  }

  // Moves `op` along the clock: CREATED for the first 10% of its time, then RUNNING, then done.
  refresh(op) {
    if (!ACTIVE.has(op.status)) return op;
    const elapsed = Date.now() - op.started;
    if (op.status === 'CANCELING') op.status = 'CANCELED';
    else if (elapsed >= op.duration) {
      op.status = op.fail ? 'FAILED' : 'COMPLETED';
      op.completedAt = new Date().toISOString();
    } else if (elapsed >= op.duration / 10) op.status = 'RUNNING';
    return op;
  }

  view(op) {
    this.refresh(op);
    const total = op.lines.length;
    const done = op.status === 'COMPLETED' ? total : Math.min(total, Math.floor((total * (Date.now() - op.started)) / Math.max(1, op.duration)));
    const count = op.fail === 'ACCESS_DENIED' ? 0 : done;
    const hasFile = op.status === 'COMPLETED' && total > 0;
    return {
      id: op.id,
      status: op.status,
      errorCode: op.status === 'FAILED' ? op.fail : null,
      objectCount: String(count),
      rootObjectCount: String(count),
      fileSize: hasFile ? String(op.body.length) : null,
      url: hasFile ? `https://${op.resultHost}/_bulk_results/${op.n}.jsonl?expires=7d` : null,
      partialDataUrl: null,
      query: op.query,
      type: op.type,
      createdAt: op.createdAt,
      completedAt: op.completedAt || null,
    };
  }

  byId(id, key) {
    const op = this.ops.get(id);
    return op && op.key === key ? this.view(op) : null;
  }

  current(key) {
    const mine = [...this.ops.values()].filter((o) => o.key === key);
    return mine.length ? this.view(mine[mine.length - 1]) : null;
  }

  cancel(id) {
    const op = this.ops.get(id);
    if (op && ACTIVE.has(op.status)) op.status = 'CANCELING';
  }

  // The result file of operation n, or null.
  result(n) {
    const op = this.ops.get(gidOf(n));
    if (!op || this.refresh(op).status !== 'COMPLETED' || !op.lines.length) return null;
    return op.body;
  }
}

module.exports = { BulkOperations, flatten };
