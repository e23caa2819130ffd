// Test tool: prints one connection's items straight from LMDB, for the
// crash-safety tests that inspect the state of a beed killed with SIGKILL
// (no daemon is running to ask). One line per SKU, tab-separated:
//   SKU QUANTITY WANTED LISTED(0|1) STORE_QUANTITY(or -) PENDING(0|1) ERROR
#include <iostream>

#include "state/inventory_db.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: pb_state_dump STATE_DIR CONNECTION\n";
    return 2;
  }
  try {
    pb::state::InventoryDb db(argv[1], std::size_t{1} << 20);
    db.read(argv[2], [](pb::state::ConnectionTxn& txn) {
      auto cursor = txn.item_cursor();
      for (bool ok = cursor.seek(); ok; ok = cursor.next()) {
        const auto item = pb::state::decode_item(cursor.value());
        std::cout << cursor.key() << '\t' << item.quantity << '\t' << item.wanted << '\t'
                  << (item.listed ? 1 : 0) << '\t'
                  << (item.store_quantity ? std::to_string(*item.store_quantity) : "-") << '\t'
                  << (txn.is_pending(cursor.key()) ? 1 : 0) << '\t' << item.error << '\n';
      }
    });
  } catch (const std::exception& e) {
    std::cerr << "pb_state_dump: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
