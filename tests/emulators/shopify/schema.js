'use strict';
// The GraphQL Admin API schema subset the emulator serves, written in SDL from the shopify.dev
// reference pages, one schema per API version (the GraphQL text a client sends must match the
// version in its URL, as on the real API).
//
// Version differences (shopify.dev changelog, "Concurrency protection features for inventory and
// refund mutations", 2025-12-12, and the InventoryQuantityInput / InventorySetQuantitiesInput /
// InventorySetQuantitiesUserErrorCode reference pages of each version):
//   < 2026-01  InventoryQuantityInput.compareQuantity, InventorySetQuantitiesInput.ignoreCompareQuantity;
//              no changeFromQuantity, no @idempotent directive.
//   2026-01    adds changeFromQuantity (optional; an explicit value, null included, overrides
//              compareQuantity/ignoreCompareQuantity) and the optional @idempotent(key:) directive;
//              compareQuantity/ignoreCompareQuantity deprecated. New error codes
//              CHANGE_FROM_QUANTITY_STALE, IDEMPOTENCY_CONCURRENT_REQUEST,
//              IDEMPOTENCY_KEY_PARAMETER_MISMATCH.
//   2026-04    compareQuantity/ignoreCompareQuantity removed; changeFromQuantity mandatory on every
//              quantity and @idempotent mandatory on inventorySetQuantities. Both are enforced at run
//              time, not by the schema ("doesn't show up as mandatory at the schema level").
//   2026-10    the error code enum also lists IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED (seen in the
//              2026-10 reference, absent from 2026-01's; the version that added it is not stated, the
//              emulator assumes 2026-10).
const { buildSchema } = require('graphql');

const VERSION_RE = /^(\d{4})-(01|04|07|10)$/;

function isValidVersion(version) {
  return version === 'unstable' || VERSION_RE.test(version);
}

// Comparable key: 'unstable' is newer than every dated version.
function versionKey(version) {
  return version === 'unstable' ? '9999-99' : version;
}

function featuresFor(version) {
  const v = versionKey(version);
  return {
    version,
    compareQuantity: v < '2026-04',
    changeFromQuantity: v >= '2026-01',
    changeFromRequired: v >= '2026-04',
    idempotentDirective: v >= '2026-01',
    idempotentRequired: v >= '2026-04',
    previousAttemptFailed: v >= '2026-10',
  };
}

function sdlFor(f) {
  const codes = [
    ...(f.changeFromQuantity ? ['CHANGE_FROM_QUANTITY_STALE'] : []),
    'COMPARE_QUANTITY_REQUIRED',
    'COMPARE_QUANTITY_STALE',
    ...(f.idempotentDirective ? ['IDEMPOTENCY_CONCURRENT_REQUEST', 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH'] : []),
    ...(f.previousAttemptFailed ? ['IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED'] : []),
    'INVALID_INVENTORY_ITEM',
    'INVALID_LOCATION',
    'INVALID_NAME',
    'INVALID_QUANTITY_NEGATIVE',
    'INVALID_QUANTITY_TOO_HIGH',
    'INVALID_QUANTITY_TOO_LOW',
    'INVALID_REASON',
    'INVALID_REFERENCE_DOCUMENT',
    'ITEM_NOT_STOCKED_AT_LOCATION',
    'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR',
    'NON_MUTABLE_INVENTORY_ITEM',
  ];
  const connection = (name, node) => `
    type ${node}Edge { cursor: String! node: ${node}! }
    type ${name} { edges: [${node}Edge!]! nodes: [${node}!]! pageInfo: PageInfo! }`;
  return `
    ${f.idempotentDirective ? 'directive @idempotent(key: String!) on FIELD' : ''}

    scalar DateTime

    type Query {
      productVariants(first: Int, after: String, last: Int, before: String, query: String,
                      reverse: Boolean = false): ProductVariantConnection!
      productVariant(id: ID!): ProductVariant
      inventoryItem(id: ID!): InventoryItem
      inventoryItems(first: Int, after: String, last: Int, before: String, query: String,
                     reverse: Boolean = false): InventoryItemConnection!
      locations(first: Int, after: String, last: Int, before: String): LocationConnection!
      location(id: ID): Location
      shop: Shop!
      bulkOperation(id: ID!): BulkOperation
      currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
    }

    type Mutation {
      inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
      bulkOperationRunQuery(query: String!, groupObjects: Boolean): BulkOperationRunQueryPayload
      bulkOperationCancel(id: ID!): BulkOperationCancelPayload
    }

    scalar UnsignedInt64
    scalar URL
    enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
    enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
    enum BulkOperationType { MUTATION QUERY }
    enum BulkOperationUserErrorCode { INVALID OPERATION_IN_PROGRESS }
    type BulkOperation {
      id: ID!
      status: BulkOperationStatus!
      errorCode: BulkOperationErrorCode
      objectCount: UnsignedInt64!
      rootObjectCount: UnsignedInt64!
      fileSize: UnsignedInt64
      url: URL
      partialDataUrl: URL
      query: String!
      type: BulkOperationType!
      createdAt: DateTime!
      completedAt: DateTime
    }
    type BulkOperationUserError { code: BulkOperationUserErrorCode field: [String!] message: String! }
    type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
    type BulkOperationCancelPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }

    type Shop { id: ID! name: String! myshopifyDomain: String! }

    type PageInfo {
      hasNextPage: Boolean!
      hasPreviousPage: Boolean!
      startCursor: String
      endCursor: String
    }

    type Product { id: ID! title: String! }

    type ProductVariant {
      id: ID!
      sku: String
      title: String!
      displayName: String!
      inventoryQuantity: Int
      inventoryItem: InventoryItem!
      product: Product!
    }
    ${connection('ProductVariantConnection', 'ProductVariant')}

    type InventoryItem {
      id: ID!
      sku: String
      tracked: Boolean!
      variant: ProductVariant!
      inventoryLevel(locationId: ID!): InventoryLevel
      inventoryLevels(first: Int, after: String, last: Int, before: String): InventoryLevelConnection!
    }
    ${connection('InventoryItemConnection', 'InventoryItem')}

    type InventoryLevel {
      id: ID!
      item: InventoryItem!
      location: Location!
      quantities(names: [String!]!): [InventoryQuantity!]!
    }
    ${connection('InventoryLevelConnection', 'InventoryLevel')}

    type InventoryQuantity { id: ID! name: String! quantity: Int! updatedAt: DateTime }

    type Location { id: ID! name: String! isActive: Boolean! }
    ${connection('LocationConnection', 'Location')}

    input InventoryQuantityInput {
      inventoryItemId: ID!
      locationId: ID!
      quantity: Int!
      ${f.compareQuantity ? `compareQuantity: Int${f.changeFromQuantity ? ' @deprecated(reason: "Use changeFromQuantity instead.")' : ''}` : ''}
      ${f.changeFromQuantity ? 'changeFromQuantity: Int' : ''}
    }

    input InventorySetQuantitiesInput {
      name: String!
      reason: String!
      referenceDocumentUri: String
      quantities: [InventoryQuantityInput!]!
      ${f.compareQuantity ? 'ignoreCompareQuantity: Boolean = false' : ''}
    }

    type InventoryChange {
      name: String!
      delta: Int!
      quantityAfterChange: Int
      item: InventoryItem
      location: Location
      ledgerDocumentUri: String
    }

    type InventoryAdjustmentGroup {
      id: ID!
      createdAt: DateTime!
      reason: String!
      referenceDocumentUri: String
      changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
    }

    enum InventorySetQuantitiesUserErrorCode { ${codes.join(' ')} }

    type InventorySetQuantitiesUserError {
      code: InventorySetQuantitiesUserErrorCode
      field: [String!]
      message: String!
    }

    type InventorySetQuantitiesPayload {
      inventoryAdjustmentGroup: InventoryAdjustmentGroup
      userErrors: [InventorySetQuantitiesUserError!]!
    }
  `;
}

const cache = new Map();

// The schema for an API version, built once per distinct feature set.
function schemaFor(version) {
  const f = featuresFor(version);
  const key = JSON.stringify({ ...f, version: undefined });
  if (!cache.has(key)) cache.set(key, buildSchema(sdlFor(f)));
  return { schema: cache.get(key), features: f };
}

module.exports = { isValidVersion, featuresFor, schemaFor, sdlFor, versionKey };
