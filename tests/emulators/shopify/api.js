'use strict';
// Resolvers: productVariants / inventoryItems / locations (Relay connections with opaque cursors) and
// inventorySetQuantities with the per-version compare-and-swap and idempotency rules.
const { GraphQLError, getDirectiveValues } = require('graphql');
const { gid } = require('./store');

const MAX_PAGE_SIZE = 250; // connections return at most 250 nodes per page (shopify.dev "Shopify API limits")

// Possible reasons for inventory changes (shopify.dev "Manage inventory quantities and states",
// "Set inventory quantities": reason must be one of these).
const REASONS = new Set([
  'correction',
  'cycle_count_available',
  'damaged',
  'movement_canceled',
  'movement_created',
  'movement_received',
  'movement_updated',
  'other',
  'promotion',
  'quality_control',
  'received',
  'reservation_created',
  'reservation_deleted',
  'reservation_updated',
  'restock',
  'safety_stock',
  'shrinkage',
]);

// Messages are the enum value descriptions from the InventorySetQuantitiesUserErrorCode reference.
const MESSAGES = {
  CHANGE_FROM_QUANTITY_STALE: 'The changeFromQuantity value does not match persisted value.',
  COMPARE_QUANTITY_REQUIRED:
    'The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.',
  COMPARE_QUANTITY_STALE: 'The compareQuantity value does not match persisted value.',
  IDEMPOTENCY_CONCURRENT_REQUEST: 'This request is currently in progress, please try again.',
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH: 'The same idempotency key cannot be used with different operation parameters.',
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED: 'A previous request with this idempotency key failed. Retry with a new idempotency key.',
  INVALID_INVENTORY_ITEM: 'The specified inventory item could not be found.',
  INVALID_LOCATION: 'The specified location could not be found.',
  INVALID_NAME: "The quantity name must be either 'available' or 'on_hand'.",
  INVALID_QUANTITY_NEGATIVE: "The quantity can't be negative.",
  INVALID_QUANTITY_TOO_HIGH: "The total quantity can't be higher than 1,000,000,000.",
  INVALID_QUANTITY_TOO_LOW: "The total quantity can't be lower than -1,000,000,000.",
  INVALID_REASON: 'The specified reason is invalid.',
  INVALID_REFERENCE_DOCUMENT: 'The specified reference document is invalid.',
  ITEM_NOT_STOCKED_AT_LOCATION: 'The specified inventory item is not stocked at the location.',
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR:
    'The combination of inventoryItemId and locationId must be unique in the quantities list.',
};

// Request-level errors the docs describe only as "an error at runtime" (2026-04 changelogs: the
// mandatory @idempotent directive and changeFromQuantity are not enforced by the schema). The
// wording and the extensions code are the emulator's; what is documented is that the mutation
// fails and nothing is applied.
const RUNTIME_ERROR_CODE = 'BAD_REQUEST';

function userError(code, field) {
  return { code, field, message: MESSAGES[code] };
}

// Deterministic JSON (sorted keys) to compare a replay's parameters with the original's.
function stableStringify(v) {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v === undefined ? null : v);
}

// ---- search syntax for productVariants(query:) and inventoryItems(query:) -----------------------
// shopify.dev "Shopify API search syntax": a query is terms separated by whitespace, with optional
// connectives (AND implied, OR); a term is an optional modifier (`-`), an optional `name:` and a
// value; a value is a name (non-whitespace, non-special characters) or a quoted string (single or
// double quotes are both permitted). Special characters in a name are escaped with a backslash
// (`\:`, `\\`, `\(`, `\)`); inside a quoted string, a backslash escapes the next character (the
// quote that opened it, or a backslash). Supported here: what connectors use: `sku:ABC`,
// `sku:"A B"`, `sku:'A B'`, prefix `sku:AB*`, `id:`, `product_id:`, `inventory_item_id:`, bare
// words (match sku or title), AND, OR and a leading `-`. Subqueries in parentheses are not.
// Matching is case-insensitive. Unknown fields are ignored with a warning in extensions.search,
// as the real API does for invalid search fields.
const SEARCH_FIELDS = new Set(['sku', 'id', 'product_id', 'inventory_item_id', 'title']);
// inventoryItems documents `sku`, `id`, `created_at` and `updated_at`; the emulator keeps no
// dates, so the last two are answered with the invalid-field warning.
const ITEM_SEARCH_FIELDS = new Set(['sku', 'id']);

function tokenize(q) {
  const out = [];
  const re = /\s*(-?)(?:([A-Za-z_]+):)?(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|((?:[^\s"'\\]|\\.)(?:[^\s\\]|\\.)*))/y;
  const unescape = (t) => t.replace(/\\(.)/g, '$1');
  let m;
  while (q.length && (m = re.exec(q)) !== null) {
    const quotedText = m[3] !== undefined ? m[3] : m[4];
    const quoted = quotedText !== undefined;
    const value = unescape(quoted ? quotedText : m[5]);
    // A trailing `*` makes a prefix query, unless it was escaped or quoted.
    const prefix = !quoted && /(^|[^\\])\*$/.test(m[5]);
    out.push({ neg: m[1] === '-', field: m[2] ? m[2].toLowerCase() : null, value, quoted, prefix });
    if (re.lastIndex >= q.length) break;
  }
  return out;
}

function numericTail(g) {
  return String(g).split('/').pop();
}

function parseSearch(query, fields = SEARCH_FIELDS) {
  const warnings = [];
  const groups = [[]]; // OR of ANDs
  for (const t of tokenize(query || '')) {
    if (!t.field && !t.neg && !t.quoted && t.value === 'OR') {
      groups.push([]);
      continue;
    }
    if (!t.field && !t.neg && !t.quoted && t.value === 'AND') continue;
    if (t.field && !fields.has(t.field)) {
      warnings.push({ field: t.field, message: 'Invalid search field for this query.' });
      continue;
    }
    groups[groups.length - 1].push(t);
  }
  const match = (t, v) => {
    const want = t.value.toLowerCase();
    const prefix = t.prefix;
    const w = prefix ? want.slice(0, -1) : want;
    const eq = (s) => {
      if (s === null || s === undefined) return false;
      const x = String(s).toLowerCase();
      return prefix ? x.startsWith(w) : x === w;
    };
    switch (t.field) {
      case 'sku':
        return eq(v.sku);
      case 'title':
        return eq(v.title) || eq(v.productTitle);
      case 'id':
        return eq(numericTail(v.id)) || eq(v.id);
      case 'product_id':
        return eq(numericTail(v.productId)) || eq(v.productId);
      case 'inventory_item_id':
        return eq(numericTail(v.itemId)) || eq(v.itemId);
      default: {
        const s = `${v.sku || ''} ${v.title} ${v.productTitle}`.toLowerCase();
        return prefix ? s.split(/\s+/).some((x) => x.startsWith(w)) : s.includes(w);
      }
    }
  };
  const predicate = (v) =>
    groups.some((g) => g.length > 0 && g.every((t) => (t.neg ? !match(t, v) : match(t, v)))) ||
    groups.every((g) => g.length === 0);
  return { predicate, warnings };
}

// ---- connections ---------------------------------------------------------------------------------
function encodeCursor(id) {
  return Buffer.from(JSON.stringify({ last_id: Number(numericTail(id)) })).toString('base64');
}

function decodeCursor(cursor) {
  try {
    const v = JSON.parse(Buffer.from(String(cursor), 'base64').toString('utf8'));
    if (v && Number.isInteger(v.last_id)) return v.last_id;
  } catch (e) {
    /* fall through */
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`, { extensions: { code: 'BAD_REQUEST' } });
}

// Relay slicing of an ordered list (ordered by numeric id ascending, or descending if reverse).
// Emulator wording for the argument errors; documented: 250 is the page size limit and a
// connection needs `first` or `last`.
function connection(list, args, toNode) {
  const { first, last, after, before } = args;
  if (first === undefined && last === undefined) throw argError('you must provide one of first or last');
  if (first !== undefined && last !== undefined) throw argError('passing both first and last is not supported');
  const n = first !== undefined ? first : last;
  if (n === null || n < 0) throw argError(`${first !== undefined ? 'first' : 'last'} must be a non-negative integer`);
  if (n > MAX_PAGE_SIZE) {
    throw argError(`The value of ${first !== undefined ? 'first' : 'last'} must be at most ${MAX_PAGE_SIZE}`);
  }
  const reverse = Boolean(args.reverse);
  const ordered = reverse ? [...list].reverse() : list;
  const key = (x) => Number(numericTail(x.id));
  let lo = 0;
  let hi = ordered.length;
  if (after !== undefined && after !== null) {
    const a = decodeCursor(after);
    const idx = ordered.findIndex((x) => (reverse ? key(x) < a : key(x) > a));
    lo = idx === -1 ? ordered.length : idx;
  }
  if (before !== undefined && before !== null) {
    const b = decodeCursor(before);
    const idx = ordered.findIndex((x) => (reverse ? key(x) <= b : key(x) >= b));
    hi = idx === -1 ? ordered.length : idx;
  }
  let slice = ordered.slice(lo, Math.max(lo, hi));
  let hasNextPage = false;
  let hasPreviousPage = false;
  if (first !== undefined) {
    hasNextPage = slice.length > first;
    hasPreviousPage = lo > 0;
    slice = slice.slice(0, first);
  } else {
    hasPreviousPage = slice.length > last;
    hasNextPage = hi < ordered.length;
    slice = slice.slice(Math.max(0, slice.length - last));
  }
  const nodes = slice.map(toNode);
  const edges = slice.map((x, i) => ({ cursor: encodeCursor(x.id), node: nodes[i] }));
  return {
    nodes,
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges.length ? edges[0].cursor : null,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}

function argError(message) {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } });
}

// ---- object views --------------------------------------------------------------------------------
function locationView(store, id) {
  const l = store.locations.get(id);
  return l ? { id: l.id, name: l.name, isActive: l.isActive } : null;
}

function levelView(store, itemId, locationId) {
  const lv = store.level(itemId, locationId);
  if (!lv) return null;
  return {
    id: `gid://shopify/InventoryLevel/${numericTail(itemId)}?inventory_item_id=${numericTail(itemId)}&location_id=${numericTail(locationId)}`,
    item: () => itemView(store, store.itemById.get(itemId)),
    location: () => locationView(store, locationId),
    quantities: ({ names }) =>
      names.map((name) => {
        const q = Object.prototype.hasOwnProperty.call(lv, name) ? lv[name] : 0;
        return { id: `${itemId}|${locationId}|${name}`, name, quantity: q, updatedAt: lv.updatedAt };
      }),
  };
}

function itemView(store, v) {
  if (!v) return null;
  return {
    id: v.itemId,
    sku: v.sku,
    tracked: v.tracked,
    variant: () => variantView(store, v),
    inventoryLevel: ({ locationId }) => levelView(store, v.itemId, locationId),
    inventoryLevels: (args) =>
      connection(
        store.levelsOf(v.itemId).map((l) => ({ id: l.locationId, ...l })),
        args,
        (l) => levelView(store, v.itemId, l.locationId),
      ),
  };
}

function variantView(store, v) {
  if (!v) return null;
  return {
    id: v.id,
    sku: v.sku,
    title: v.title,
    displayName: `${v.productTitle} - ${v.title}`,
    inventoryQuantity: () => store.levelsOf(v.itemId).reduce((s, l) => s + l.available, 0),
    inventoryItem: () => itemView(store, v),
    product: { id: v.productId, title: v.productTitle },
  };
}

// ---- inventorySetQuantities ----------------------------------------------------------------------
function validateAndApply(store, input, features) {
  const errors = [];
  const name = input.name;
  if (name !== 'available' && name !== 'on_hand') errors.push(userError('INVALID_NAME', ['input', 'name']));
  if (!REASONS.has(input.reason)) errors.push(userError('INVALID_REASON', ['input', 'reason']));
  if (input.referenceDocumentUri !== undefined && input.referenceDocumentUri !== null) {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(input.referenceDocumentUri)) {
      errors.push(userError('INVALID_REFERENCE_DOCUMENT', ['input', 'referenceDocumentUri']));
    }
  }
  const seen = new Set();
  const plan = [];
  input.quantities.forEach((q, i) => {
    const at = (f) => ['input', 'quantities', String(i), ...(f ? [f] : [])];
    const variant = store.itemById.get(q.inventoryItemId);
    const location = store.locations.get(q.locationId);
    if (!variant) errors.push(userError('INVALID_INVENTORY_ITEM', at('inventoryItemId')));
    if (!location) errors.push(userError('INVALID_LOCATION', at('locationId')));
    const pair = `${q.inventoryItemId}|${q.locationId}`;
    if (seen.has(pair)) errors.push(userError('NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', at()));
    seen.add(pair);
    if (q.quantity > 1e9) errors.push(userError('INVALID_QUANTITY_TOO_HIGH', at('quantity')));
    else if (q.quantity < -1e9) errors.push(userError('INVALID_QUANTITY_TOO_LOW', at('quantity')));
    else if (name === 'on_hand' && q.quantity < 0) errors.push(userError('INVALID_QUANTITY_NEGATIVE', at('quantity')));
    if (!variant || !location) return;
    const level = store.level(q.inventoryItemId, q.locationId);
    if (!level) {
      errors.push(userError('ITEM_NOT_STOCKED_AT_LOCATION', at('locationId')));
      return;
    }
    const current = name === 'on_hand' ? level.on_hand : level.available;
    // Compare-and-swap: an explicit changeFromQuantity (null included) wins; without one, versions
    // that still have compareQuantity fall back to compareQuantity / ignoreCompareQuantity.
    if (features.changeFromQuantity && Object.prototype.hasOwnProperty.call(q, 'changeFromQuantity')) {
      if (q.changeFromQuantity !== null && q.changeFromQuantity !== current) {
        errors.push(userError('CHANGE_FROM_QUANTITY_STALE', at('changeFromQuantity')));
      }
    } else if (features.compareQuantity && !input.ignoreCompareQuantity) {
      if (q.compareQuantity === undefined || q.compareQuantity === null) {
        errors.push(userError('COMPARE_QUANTITY_REQUIRED', at('compareQuantity')));
      } else if (q.compareQuantity !== current) {
        errors.push(userError('COMPARE_QUANTITY_STALE', at('compareQuantity')));
      }
    }
    plan.push({ q, level });
  });
  // All or nothing: any user error leaves every quantity untouched (inventoryAdjustmentGroup null).
  if (errors.length) return { applied: false, payload: { inventoryAdjustmentGroup: null, userErrors: errors }, changes: [] };

  const now = new Date().toISOString();
  const changes = plan.map(({ q, level }) => {
    const before = name === 'on_hand' ? level.on_hand : level.available;
    const delta = q.quantity - before;
    // available and on_hand move together (on_hand = available + committed + reserved + ...).
    level.available += delta;
    level.on_hand += delta;
    level.updatedAt = now;
    return { name, delta, quantityAfterChange: q.quantity, itemId: q.inventoryItemId, locationId: q.locationId };
  });
  const group = {
    id: gid('group', store.groupSeq++),
    createdAt: now,
    reason: input.reason,
    referenceDocumentUri: input.referenceDocumentUri === undefined ? null : input.referenceDocumentUri,
    changes: ({ inventoryItemIds, locationIds, quantityNames }) =>
      changes
        .filter((c) => !inventoryItemIds || inventoryItemIds.includes(c.itemId))
        .filter((c) => !locationIds || locationIds.includes(c.locationId))
        .filter((c) => !quantityNames || quantityNames.includes(c.name))
        .map((c) => ({
          name: c.name,
          delta: c.delta,
          quantityAfterChange: c.quantityAfterChange,
          item: () => itemView(store, store.itemById.get(c.itemId)),
          location: () => locationView(store, c.locationId),
          ledgerDocumentUri: null,
        })),
  };
  return { applied: true, payload: { inventoryAdjustmentGroup: group, userErrors: [] }, changes };
}

function inventorySetQuantities(args, ctx, info) {
  const { store, features, shopState, log } = ctx;
  const input = args.input;
  const fieldNode = info.fieldNodes[0];
  let key = null;
  if (features.idempotentDirective) {
    const values = getDirectiveValues(info.schema.getDirective('idempotent'), fieldNode, info.variableValues);
    if (values) key = values.key;
  }
  const entry = {
    mutation: 'inventorySetQuantities',
    idempotency_key: key,
    input: {
      name: input.name,
      reason: input.reason,
      referenceDocumentUri: input.referenceDocumentUri === undefined ? null : input.referenceDocumentUri,
      ...(input.ignoreCompareQuantity !== undefined ? { ignoreCompareQuantity: input.ignoreCompareQuantity } : {}),
    },
    quantities: input.quantities.map((q) => ({ ...q })),
  };
  log.mutations.push(entry);

  if (features.idempotentRequired && key === null) {
    entry.outcome = 'error';
    entry.error = 'idempotent directive missing';
    throw new GraphQLError(
      'The @idempotent directive is required for this mutation (API version 2026-04 and later).',
      { extensions: { code: RUNTIME_ERROR_CODE } },
    );
  }
  if (features.changeFromRequired) {
    const missing = input.quantities
      .map((q, i) => (Object.prototype.hasOwnProperty.call(q, 'changeFromQuantity') ? -1 : i))
      .filter((i) => i >= 0);
    if (missing.length) {
      entry.outcome = 'error';
      entry.error = `changeFromQuantity missing at ${missing.join(',')}`;
      throw new GraphQLError(
        `changeFromQuantity must be given for every quantity (pass null to skip the compare-and-swap check); missing at quantities ${missing.join(', ')}.`,
        { extensions: { code: RUNTIME_ERROR_CODE, missingChangeFromQuantity: missing } },
      );
    }
  }

  const fingerprint = stableStringify({ mutation: 'inventorySetQuantities', input });
  if (key !== null) {
    const rec = shopState.idempotency.get(key);
    if (rec) {
      if (rec.fingerprint !== fingerprint) {
        entry.outcome = 'key_mismatch';
        entry.user_errors = ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH'];
        return { inventoryAdjustmentGroup: null, userErrors: [userError('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', null)] };
      }
      if (rec.failed && features.previousAttemptFailed) {
        entry.outcome = 'previous_attempt_failed';
        entry.user_errors = ['IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED'];
        return { inventoryAdjustmentGroup: null, userErrors: [userError('IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED', null)] };
      }
      // A duplicate: the original result, nothing applied again.
      entry.outcome = 'replayed';
      entry.replay_of = rec.seq;
      return rec.payload;
    }
  }
  const result = validateAndApply(store, input, features);
  entry.outcome = result.applied ? 'applied' : 'rejected';
  entry.user_errors = result.payload.userErrors.map((e) => e.code);
  entry.changes = result.changes;
  if (key !== null) {
    shopState.idempotency.set(key, { fingerprint, payload: result.payload, failed: !result.applied, seq: log.seq });
  }
  return result.payload;
}

// ---- root ---------------------------------------------------------------------------------------
function rootValue(ctx) {
  const { store } = ctx;
  return {
    shop: () => ({ id: gid('shop', 1), name: store.shopName, myshopifyDomain: `${store.shopName}.myshopify.com` }),
    productVariants: (args) => {
      const { predicate, warnings } = parseSearch(args.query);
      if (warnings.length) ctx.searchWarnings.push({ path: ['productVariants'], query: args.query, warnings });
      if (args.query && ctx.log && !ctx.bulk) ctx.log.search_query = args.query; // a search, not a walk's page
      const list = store.variants.filter(predicate);
      if (ctx.bulk) {
        // A bulk query reads the whole connection, without first/after (shopify.dev bulk guide).
        const nodes = list.map((v) => variantView(store, v));
        return { nodes, edges: nodes.map((node) => ({ cursor: '', node })), pageInfo: { hasNextPage: false, hasPreviousPage: false } };
      }
      return connection(list, args, (v) => variantView(store, v));
    },
    bulkOperationRunQuery: (args) => ctx.bulkOps.run(args, ctx),
    bulkOperationCancel: ({ id }) => {
      ctx.bulkOps.cancel(id);
      return { bulkOperation: ctx.bulkOps.byId(id, ctx.bulkKey), userErrors: [] };
    },
    bulkOperation: ({ id }) => ctx.bulkOps.byId(id, ctx.bulkKey),
    currentBulkOperation: () => ctx.bulkOps.current(ctx.bulkKey),
    inventoryItems: (args) => {
      const { predicate, warnings } = parseSearch(args.query, ITEM_SEARCH_FIELDS);
      if (warnings.length) ctx.searchWarnings.push({ path: ['inventoryItems'], query: args.query, warnings });
      if (args.query && ctx.log && !ctx.bulk) ctx.log.search_query = args.query;
      // Ordered by the item's id, as its cursors are; `id:` names the item here.
      const list = [...store.itemById.values()]
        .map((v) => ({ ...v, variantId: v.id, id: v.itemId }))
        .filter(predicate)
        .sort((a, b) => Number(numericTail(a.id)) - Number(numericTail(b.id)));
      const toNode = (x) => itemView(store, store.variantById.get(x.variantId));
      if (ctx.bulk) {
        const nodes = list.map(toNode);
        return { nodes, edges: nodes.map((node) => ({ cursor: '', node })), pageInfo: { hasNextPage: false, hasPreviousPage: false } };
      }
      return connection(list, args, toNode);
    },
    productVariant: ({ id }) => variantView(store, store.variantById.get(id)),
    inventoryItem: ({ id }) => itemView(store, store.itemById.get(id)),
    locations: (args) => connection([...store.locations.values()], args, (l) => locationView(store, l.id)),
    location: ({ id }) => (id ? locationView(store, id) : locationView(store, [...store.locations.keys()][0])),
    inventorySetQuantities: (args, context, info) => inventorySetQuantities(args, context, info),
  };
}

module.exports = { rootValue, parseSearch, tokenize, ITEM_SEARCH_FIELDS, stableStringify, MESSAGES, REASONS };
