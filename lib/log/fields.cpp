#include "log/fields.hpp"

namespace pb::log {

namespace {
thread_local const Fields* t_current = nullptr;
}  // namespace

const Fields* current_fields() noexcept {
  return t_current;
}

// Restores the previous value rather than nullptr, so that a sink that itself
// logs (it should not) cannot strip the fields from the line being written.
FieldsScope::FieldsScope(const Fields* fields) noexcept : previous_(t_current) {
  t_current = fields;
}

FieldsScope::~FieldsScope() {
  t_current = previous_;
}

}  // namespace pb::log
