// Virtual time of the simulation: integer nanoseconds, never floating point.
// SimTime is a point on the virtual clock (0 = scenario start); Duration is a
// signed span between two points. Both are trivially copyable value types.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace netsim {

struct Duration {
  int64_t ns = 0;

  static constexpr Duration nanoseconds(int64_t n) { return Duration{n}; }
  static constexpr Duration microseconds(int64_t n) { return Duration{n * 1000}; }
  static constexpr Duration milliseconds(int64_t n) { return Duration{n * 1000000}; }
  static constexpr Duration seconds(int64_t n) { return Duration{n * 1000000000}; }
  static constexpr Duration max() { return Duration{std::numeric_limits<int64_t>::max()}; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration{ns + o.ns}; }
  constexpr Duration operator-(Duration o) const { return Duration{ns - o.ns}; }
  constexpr Duration operator*(int64_t k) const { return Duration{ns * k}; }
  constexpr Duration operator/(int64_t k) const { return Duration{ns / k}; }
  constexpr Duration& operator+=(Duration o) { ns += o.ns; return *this; }
};

struct SimTime {
  int64_t ns = 0;

  static constexpr SimTime zero() { return SimTime{0}; }
  static constexpr SimTime max() { return SimTime{std::numeric_limits<int64_t>::max()}; }

  constexpr auto operator<=>(const SimTime&) const = default;
  constexpr SimTime operator+(Duration d) const { return SimTime{ns + d.ns}; }
  constexpr SimTime operator-(Duration d) const { return SimTime{ns - d.ns}; }
  constexpr Duration operator-(SimTime o) const { return Duration{ns - o.ns}; }
  constexpr SimTime& operator+=(Duration d) { ns += d.ns; return *this; }
};

// `ns` nanoseconds in the largest unit that divides them exactly, as a scenario would write
// them: "3600s", "1500us", "7ns", "0ns".
inline std::string format_duration(int64_t ns) {
  struct Unit {
    int64_t scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "us"}};
  for (const Unit& u : kUnits)
    if (ns != 0 && ns % u.scale == 0) return std::to_string(ns / u.scale) + u.name;
  return std::to_string(ns) + "ns";
}

}  // namespace netsim
