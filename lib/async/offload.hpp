// Runs blocking work (feed parsing, LMDB bulk writes, file I/O) on a worker
// pool and resumes the awaiting coroutine on its own executor, so the event
// loop that serves the control socket never waits on it.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pb::async {

namespace detail {
template <class T>
struct OffloadSignature {
  using type = void(std::exception_ptr, T);
};
template <>
struct OffloadSignature<void> {
  using type = void(std::exception_ptr);
};
}  // namespace detail

// co_await offload(pool_executor, [&] { return parse(...); });
// Exceptions thrown by `work` are rethrown in the awaiting coroutine.
template <class Work, class Result = std::invoke_result_t<Work>>
boost::asio::awaitable<Result> offload(boost::asio::any_io_executor pool, Work work) {
  using Signature = typename detail::OffloadSignature<Result>::type;
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, Signature>(
      [pool](auto handler, Work w) mutable {
        auto home = boost::asio::get_associated_executor(handler);
        boost::asio::post(pool, [h = std::move(handler), w = std::move(w), home]() mutable {
          if constexpr (std::is_void_v<Result>) {
            std::exception_ptr error;
            try {
              w();
            } catch (...) {
              error = std::current_exception();
            }
            boost::asio::dispatch(home, [h = std::move(h), error]() mutable { h(error); });
          } else {
            std::exception_ptr error;
            Result value{};
            try {
              value = w();
            } catch (...) {
              error = std::current_exception();
            }
            boost::asio::dispatch(home, [h = std::move(h), error, v = std::move(value)]() mutable {
              h(error, std::move(v));
            });
          }
        });
      },
      boost::asio::use_awaitable, std::move(work));
}

}  // namespace pb::async
