// Reads and atomically rewrites a store CSV file (`sku,quantity`, one row per SKU, sorted by
// SKU): the file a shop imports. Synchronous; CsvStore runs it on the worker pool.
#pragma once

#include <filesystem>
#include <span>
#include <vector>

#include "connectors/store/store.hpp"

namespace pb::connectors {

// The rows of a store file, sorted by SKU and unique (when a hand-edited file names a SKU twice,
// its last row wins). A missing or empty file has none. Throws StoreError naming the file and
// line when the file is malformed, or the file and strerror on an I/O error.
std::vector<PushItem> read_store_file(const std::filesystem::path& path);

// Sets the quantity of every SKU in `batch` (batch values win; new SKUs are inserted) and keeps
// the other rows. The new file is written next to `path` under a hidden temporary name,
// fsynced and renamed over it, then the directory is fsynced: a crash at any instant leaves
// either the old or the new complete file. When the old file is sorted and unique (as this
// function writes it) the merge streams, so memory follows the batch, not the file. The parent
// directory is created if missing; an existing file's permissions are kept.
// `batch` should be sorted by SKU and unique; otherwise a sorted copy is made (the last item of
// a SKU wins). Throws StoreError; std::invalid_argument for an empty SKU.
void apply_to_store_file(const std::filesystem::path& path, std::span<const PushItem> batch);

}  // namespace pb::connectors
