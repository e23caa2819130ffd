'use strict';
// Calculated query cost, modelled on shopify.dev "GraphQL Admin API rate limits" (cost
// calculation) and the "Call limit" page it replaced:
//   - scalar and enum fields cost 0, an object field costs 1 (plus its selection);
//   - a connection costs 2 plus, for each node asked for (`first` or `last`), the cost of the node
//     selection, so nested connections multiply;
//   - a mutation field has a fixed base cost (documented as 10) plus the cost of the selection on
//     its payload;
//   - the requested cost is computed before execution, the actual cost after it from what was
//     returned (a null object costs nothing, a connection is charged for the nodes it returned).
// Sources: the rate-limits page's table "Field returns | Cost value" (Scalar 0, Enum 0, Object 1;
// "the cost of a query is the maximum of possible fields selected") and Shopify Engineering's
// "Rate Limiting GraphQL APIs by Calculating Query Complexity" (connections: "two points plus the
// number of objects", the number being the `first`/`last` argument before execution and the
// objects returned after it). Worked out for the catalogue pages the connector sends:
//   productVariants(first: 250) { nodes { sku inventoryItem { id } } pageInfo { ... } }
//     = 2 + 250 x (1 variant + 1 inventoryItem) = 502
//   inventoryItems(first: 250) { nodes { id sku } pageInfo { ... } }
//     = 2 + 250 x 1 item = 252
//   inventoryItems(first: 50, query: "sku:...") { nodes { id sku } ... } = 2 + 50 = 52
// Emulator choices where the docs give no figure (documented here so tests can rely on them):
//   - PageInfo and *UserError objects cost 0, as do __typename and introspection fields. The
//     userErrors rule matches a published example: inventorySetOnHandQuantities selecting
//     `inventoryAdjustmentGroup { ... } userErrors { ... }` was requested at 11 and, with the group
//     null, charged 10.
//   - When a connection selects both `nodes` and `edges { node }`, the node cost counts once (the
//     larger of the two selections).
//   - A plain list of objects (not a connection) is estimated as one element; its actual cost is
//     the sum over the elements returned.
//   - The base cost of each mutation is configurable (PLATFORMS.md: the real cost of
//     inventorySetQuantities is unverified); the default is the documented 10.
const {
  Kind,
  getNamedType,
  isLeafType,
  isObjectType,
  getArgumentValues,
  GraphQLError,
} = require('graphql');

const FREE_TYPES = (name) => name === 'PageInfo' || name.endsWith('UserError');

function isConnectionType(type) {
  return isObjectType(type) && type.name.endsWith('Connection') && type.getFields().pageInfo !== undefined;
}

class CostCalculator {
  constructor({ schema, document, variables, config }) {
    this.schema = schema;
    this.variables = variables || {};
    this.config = config;
    this.fragments = Object.create(null);
    for (const def of document.definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) this.fragments[def.name.value] = def;
    }
  }

  // Flattens a selection set into field nodes (fragments expanded; type conditions are not
  // narrowed because the subset schema has no abstract types).
  fields(selectionSet, out = []) {
    if (!selectionSet) return out;
    for (const sel of selectionSet.selections) {
      if (sel.kind === Kind.FIELD) out.push(sel);
      else if (sel.kind === Kind.INLINE_FRAGMENT) this.fields(sel.selectionSet, out);
      else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = this.fragments[sel.name.value];
        if (frag) this.fields(frag.selectionSet, out);
      }
    }
    return out;
  }

  args(fieldDef, node) {
    try {
      return getArgumentValues(fieldDef, node, this.variables);
    } catch (e) {
      return {};
    }
  }

  mutationBase(name) {
    const per = this.config.mutationCosts || {};
    return Object.prototype.hasOwnProperty.call(per, name) ? per[name] : this.config.defaultMutationCost;
  }

  // ---- requested cost --------------------------------------------------------------------------
  requested(operation) {
    const root =
      operation.operation === 'mutation' ? this.schema.getMutationType() : this.schema.getQueryType();
    let total = 0;
    for (const node of this.fields(operation.selectionSet)) {
      const def = root.getFields()[node.name.value];
      if (!def) continue;
      if (operation.operation === 'mutation') {
        total += this.mutationBase(node.name.value) + this.selectionRequested(getNamedType(def.type), node.selectionSet);
      } else {
        total += this.fieldRequested(def, node);
      }
    }
    return total;
  }

  selectionRequested(type, selectionSet) {
    if (!isObjectType(type)) return 0;
    let total = 0;
    for (const node of this.fields(selectionSet)) {
      if (node.name.value.startsWith('__')) continue;
      const def = type.getFields()[node.name.value];
      if (def) total += this.fieldRequested(def, node);
    }
    return total;
  }

  fieldRequested(def, node) {
    const type = getNamedType(def.type);
    if (isLeafType(type)) return 0;
    if (isConnectionType(type)) {
      const args = this.args(def, node);
      const n = Number.isInteger(args.first) ? args.first : Number.isInteger(args.last) ? args.last : 0;
      return 2 + Math.max(0, n) * this.nodeRequested(type, node.selectionSet);
    }
    const own = FREE_TYPES(type.name) ? 0 : 1;
    return own + this.selectionRequested(type, node.selectionSet);
  }

  // Cost of one node of a connection, from `nodes { ... }` and/or `edges { node { ... } }`.
  nodeRequested(connType, selectionSet) {
    const nodeType = getNamedType(connType.getFields().nodes.type);
    let best = 0;
    for (const sel of this.fields(selectionSet)) {
      if (sel.name.value === 'nodes') {
        best = Math.max(best, 1 + this.selectionRequested(nodeType, sel.selectionSet));
      } else if (sel.name.value === 'edges') {
        for (const e of this.fields(sel.selectionSet)) {
          if (e.name.value === 'node') best = Math.max(best, 1 + this.selectionRequested(nodeType, e.selectionSet));
        }
      }
    }
    return best;
  }

  // ---- actual cost -----------------------------------------------------------------------------
  actual(operation, data) {
    if (!data) return 0;
    const isMutation = operation.operation === 'mutation';
    const root = isMutation ? this.schema.getMutationType() : this.schema.getQueryType();
    let total = 0;
    for (const node of this.fields(operation.selectionSet)) {
      const def = root.getFields()[node.name.value];
      if (!def) continue;
      const value = data[responseKey(node)];
      if (isMutation) {
        // The base cost of a mutation is charged whenever it ran.
        total += this.mutationBase(node.name.value);
        if (value) total += this.selectionActual(getNamedType(def.type), node.selectionSet, value);
      } else {
        total += this.fieldActual(def, node, value);
      }
    }
    return total;
  }

  selectionActual(type, selectionSet, value) {
    if (!isObjectType(type) || value === null || value === undefined) return 0;
    let total = 0;
    for (const node of this.fields(selectionSet)) {
      if (node.name.value.startsWith('__')) continue;
      const def = type.getFields()[node.name.value];
      if (def) total += this.fieldActual(def, node, value[responseKey(node)]);
    }
    return total;
  }

  fieldActual(def, node, value) {
    const type = getNamedType(def.type);
    if (isLeafType(type) || value === null || value === undefined) return 0;
    if (isConnectionType(type)) {
      const nodeType = getNamedType(type.getFields().nodes.type);
      let best = 0;
      for (const sel of this.fields(node.selectionSet)) {
        const v = value[responseKey(sel)];
        if (!Array.isArray(v)) continue;
        if (sel.name.value === 'nodes') {
          best = Math.max(best, v.reduce((s, n) => s + (n ? 1 + this.selectionActual(nodeType, sel.selectionSet, n) : 0), 0));
        } else if (sel.name.value === 'edges') {
          for (const e of this.fields(sel.selectionSet)) {
            if (e.name.value !== 'node') continue;
            best = Math.max(
              best,
              v.reduce((s, edge) => {
                const n = edge && edge[responseKey(e)];
                return s + (n ? 1 + this.selectionActual(nodeType, e.selectionSet, n) : 0);
              }, 0),
            );
          }
        }
      }
      return 2 + best;
    }
    const own = FREE_TYPES(type.name) ? 0 : 1;
    if (Array.isArray(value)) {
      return value.reduce((s, v) => s + (v ? own + this.selectionActual(type, node.selectionSet, v) : 0), 0);
    }
    return own + this.selectionActual(type, node.selectionSet, value);
  }
}

function responseKey(node) {
  return node.alias ? node.alias.value : node.name.value;
}

// Input arrays are capped (shopify.dev "Shopify API limits": "Input arguments that accept an array
// have a maximum size of 250 ... Requests return an error if an input array exceeds 250 items").
// The docs give no error body; the emulator answers like the real API is widely reported to:
// a top-level error with extensions.code MAX_INPUT_SIZE_EXCEEDED and the path to the argument.
function findOversizedInputs({ schema, document, operation, variables, limit }) {
  const calc = new CostCalculator({ schema, document, variables, config: {} });
  const errors = [];
  const walk = (value, path, node) => {
    if (Array.isArray(value)) {
      if (value.length > limit) {
        errors.push(
          new GraphQLError(
            `The input array size of ${value.length} is greater than the maximum allowed of ${limit}.`,
            { nodes: [node], path, extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' } },
          ),
        );
        return;
      }
      value.forEach((v, i) => walk(v, path.concat(String(i)), node));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path.concat(k), node);
    }
  };
  const visitFields = (type, selectionSet, prefix) => {
    if (!isObjectType(type)) return;
    for (const node of calc.fields(selectionSet)) {
      const def = type.getFields()[node.name.value];
      if (!def) continue;
      const path = prefix.concat(responseKey(node));
      const args = calc.args(def, node);
      for (const [name, v] of Object.entries(args)) walk(v, path.concat(name), node);
      visitFields(getNamedType(def.type), node.selectionSet, path);
    }
  };
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  visitFields(root, operation.selectionSet, []);
  return errors;
}

module.exports = { CostCalculator, findOversizedInputs, isConnectionType };
