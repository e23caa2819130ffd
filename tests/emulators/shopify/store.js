'use strict';
// The shop's catalogue and inventory: variants (sku -> variant id, inventory item id), locations,
// and per (inventory item, location) quantities. Loaded from a seed file (JSON or CSV) and/or
// generated (--generate N) for tests that need many variants.
//
// JSON seed:
//   {
//     "shop": "acme",                                  (optional; myshopifyDomain acme.myshopify.com)
//     "access_tokens": ["shpat_test"],                 (optional; CLI --token adds more)
//     "locations": [{"id": 1, "name": "Warehouse"}],
//     "variants": [{"sku": "ABC", "variant_id": 11, "inventory_item_id": 21, "product_id": 31,
//                   "title": "Default Title", "product_title": "Widget",
//                   "levels": {"1": 5}}]               (location id -> available quantity)
//   }
// CSV seed (header required; one row per variant and location; a sku may repeat for more
// locations):  sku,variant_id,inventory_item_id,location_id,available[,product_title]
// Ids may be plain numbers or full gids (gid://shopify/ProductVariant/11).
const fs = require('fs');

const GID = {
  variant: 'ProductVariant',
  item: 'InventoryItem',
  location: 'Location',
  product: 'Product',
  level: 'InventoryLevel',
  group: 'InventoryAdjustmentGroup',
  shop: 'Shop',
};

function gid(kind, id) {
  const s = String(id);
  if (s.startsWith('gid://')) return s;
  return `gid://shopify/${GID[kind]}/${s}`;
}

function parseCsv(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    // Simple CSV: fields may be double-quoted; "" inside quotes is a quote.
    const out = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (q) {
        if (c === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (c === '"') q = false;
        else cur += c;
      } else if (c === '"') q = true;
      else if (c === ',') {
        out.push(cur);
        cur = '';
      } else cur += c;
    }
    out.push(cur);
    rows.push(out.map((s) => s.trim()));
  }
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.toLowerCase());
  return rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] === undefined ? '' : r[i]])));
}

class Store {
  constructor() {
    this.shopName = 'packagebee-test';
    this.tokens = new Set();
    this.locations = new Map(); // gid -> {id, name, isActive}
    this.variants = []; // ordered by numeric id
    this.variantById = new Map();
    this.itemById = new Map(); // item gid -> variant
    this.levels = new Map(); // `${item}|${location}` -> {available, on_hand, updatedAt}
    this.groupSeq = 1;
    this.nextNumericId = 100000;
  }

  addLocation(id, name) {
    const g = gid('location', id);
    if (!this.locations.has(g)) this.locations.set(g, { id: g, name: name || `Location ${g.split('/').pop()}`, isActive: true });
    return this.locations.get(g);
  }

  addVariant(v) {
    const variantId = gid('variant', v.variant_id !== undefined && v.variant_id !== '' ? v.variant_id : this.nextNumericId++);
    let variant = this.variantById.get(variantId);
    if (!variant) {
      const itemId = gid('item', v.inventory_item_id !== undefined && v.inventory_item_id !== '' ? v.inventory_item_id : this.nextNumericId++);
      const productId = gid('product', v.product_id !== undefined && v.product_id !== '' ? v.product_id : this.nextNumericId++);
      variant = {
        id: variantId,
        sku: v.sku === undefined ? null : String(v.sku),
        title: v.title || 'Default Title',
        productId,
        productTitle: v.product_title || `Product ${v.sku}`,
        itemId,
        tracked: v.tracked === undefined ? true : Boolean(v.tracked),
      };
      if (this.itemById.has(itemId)) throw new Error(`inventory item ${itemId} used by two variants`);
      this.variants.push(variant);
      this.variantById.set(variantId, variant);
      this.itemById.set(itemId, variant);
    }
    for (const [loc, qty] of Object.entries(v.levels || {})) {
      const location = this.addLocation(loc);
      const q = Number(qty);
      this.levels.set(`${variant.itemId}|${location.id}`, { available: q, on_hand: q, updatedAt: new Date().toISOString() });
    }
    return variant;
  }

  sortVariants() {
    const num = (g) => Number(g.split('/').pop()) || 0;
    this.variants.sort((a, b) => num(a.id) - num(b.id));
  }

  loadSeed(path) {
    const text = fs.readFileSync(path, 'utf8');
    if (path.toLowerCase().endsWith('.csv')) {
      for (const row of parseCsv(text)) {
        if (!row.sku) throw new Error(`seed ${path}: a row has no sku`);
        const levels = row.location_id ? { [row.location_id]: row.available === '' ? 0 : Number(row.available) } : {};
        this.addVariant({
          sku: row.sku,
          variant_id: row.variant_id,
          inventory_item_id: row.inventory_item_id,
          product_title: row.product_title,
          levels,
        });
      }
    } else {
      const seed = JSON.parse(text);
      if (seed.shop) this.shopName = String(seed.shop);
      for (const t of seed.access_tokens || []) this.tokens.add(String(t));
      for (const l of seed.locations || []) this.addLocation(l.id, l.name);
      for (const v of seed.variants || []) this.addVariant(v);
    }
    this.sortVariants();
  }

  // N synthetic variants SKU-00001.. with one level each at the first location (created if none),
  // quantities i % 50.
  generate(n) {
    const loc = this.locations.size ? [...this.locations.values()][0] : this.addLocation(1, 'Generated warehouse');
    for (let i = 1; i <= n; i++) {
      const sku = `SKU-${String(i).padStart(5, '0')}`;
      this.addVariant({
        sku,
        variant_id: 500000 + i,
        inventory_item_id: 700000 + i,
        product_id: 900000 + i,
        product_title: `Generated ${sku}`,
        levels: { [loc.id]: i % 50 },
      });
    }
    this.sortVariants();
  }

  level(itemId, locationId) {
    return this.levels.get(`${itemId}|${locationId}`) || null;
  }

  levelsOf(itemId) {
    const out = [];
    for (const loc of this.locations.values()) {
      const l = this.level(itemId, loc.id);
      if (l) out.push({ itemId, locationId: loc.id, ...l });
    }
    return out;
  }

  // A JSON-friendly view for /_emulator/state.
  snapshot() {
    return {
      shop: this.shopName,
      locations: [...this.locations.values()],
      variants: this.variants.map((v) => ({
        sku: v.sku,
        variant_id: v.id,
        inventory_item_id: v.itemId,
        levels: Object.fromEntries(this.levelsOf(v.itemId).map((l) => [l.locationId, { available: l.available, on_hand: l.on_hand }])),
      })),
    };
  }
}

module.exports = { Store, gid, parseCsv };
