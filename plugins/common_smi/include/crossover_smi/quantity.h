// Kubernetes resource quantities (resource.Quantity), as SMI v1alpha1 uses
// them for TrafficSplit weights, parsed and kept exactly.
//
// Grammar (k8s.io/apimachinery/pkg/api/resource):
//   quantity        ::= signedNumber suffix
//   signedNumber    ::= number | "+" number | "-" number
//   number          ::= digits | digits "." digits | digits "." | "." digits
//   suffix          ::= binarySI | decimalExponent | decimalSI
//   binarySI        ::= Ki | Mi | Gi | Ti | Pi | Ei
//   decimalSI       ::= n | u | m | "" | k | M | G | T | P | E
//   decimalExponent ::= ("e" | "E") signedNumber      (an integer exponent)
//
// A value is sign * mantissa * 10^exp10 * 2^exp2 with an integer mantissa of
// at most 38 significant decimal digits, so nothing is ever rounded: input
// that cannot be represented exactly is refused with a message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crossover::smi {

__extension__ typedef unsigned __int128 uint128;

struct Quantity {
    bool negative = false;  // never set for zero
    uint128 mantissa = 0;   // no trailing decimal zeros (they live in exp10)
    int exp10 = 0;
    int exp2 = 0;  // from a binary suffix: Ki = 10, Mi = 20, ...

    [[nodiscard]] bool is_zero() const noexcept { return mantissa == 0; }
    // True when the value is a whole number (no fractional part).
    [[nodiscard]] bool is_integer() const noexcept { return mantissa == 0 || exp10 >= 0; }
    // Exact canonical form: "-1", "1.5", "3e-9", "5*2^10" (for tests and messages).
    [[nodiscard]] std::string to_string() const;
};

// Parses `text`; throws crossover::Error("invalid quantity '<text>': <reason>").
Quantity parse_quantity(std::string_view text);

// Converts non-negative quantities into Envoy weights (uint32) with the ratios
// kept exactly. Whole numbers whose sum fits into uint32 are kept as written
// ("5", "95" -> 5, 95). Otherwise every value is multiplied by the least common
// denominator and the results divided by their greatest common divisor, giving
// the smallest integers with the same ratios ("500m", "1500m" -> 1, 3;
// "1.5", "0.25" -> 6, 1). All zeros give all zeros. Throws crossover::Error
// for a negative quantity or when the exact weights (or their sum) do not fit
// into uint32; `what` prefixes messages (e.g. "TrafficSplit ns/name: ").
std::vector<std::uint32_t> quantities_to_weights(const std::vector<Quantity>& quantities,
                                                 const std::string& what = {});

// Decimal text of a 128-bit unsigned integer.
std::string to_decimal(uint128 value);

}  // namespace crossover::smi
