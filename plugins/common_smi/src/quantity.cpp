#include "crossover_smi/quantity.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "crossover/status.h"

namespace crossover::smi {
namespace {

constexpr std::size_t kMaxDigits = 38;  // 10^38 - 1 < 2^128
constexpr long kMaxExponent = 100000;
constexpr uint128 kMax128 = ~static_cast<uint128>(0);

bool mul_checked(uint128 a, uint128 b, uint128& out) {
    if (a != 0 && b > kMax128 / a) {
        return false;
    }
    out = a * b;
    return true;
}

// value * 10^e10 * 2^e2 with e10, e2 >= 0; false on overflow.
bool scale_checked(uint128 value, int e10, int e2, uint128& out) {
    out = value;
    if (value == 0) {
        return true;
    }
    for (int i = 0; i < e10; ++i) {
        if (!mul_checked(out, 10, out)) {
            return false;
        }
    }
    for (int i = 0; i < e2; ++i) {
        if (!mul_checked(out, 2, out)) {
            return false;
        }
    }
    return true;
}

uint128 gcd128(uint128 a, uint128 b) {
    while (b != 0) {
        const uint128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::string to_decimal(uint128 value) {
    if (value == 0) {
        return "0";
    }
    std::string out;
    while (value != 0) {
        out.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
        value /= 10;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::string Quantity::to_string() const {
    if (mantissa == 0) {
        return "0";
    }
    std::string digits = to_decimal(mantissa);
    std::string out;
    if (negative) {
        out.push_back('-');
    }
    if (exp10 >= 0 && exp10 <= 18) {
        out += digits;
        out.append(static_cast<std::size_t>(exp10), '0');
    } else if (exp10 < 0 && exp10 >= -40) {
        const auto frac = static_cast<std::size_t>(-exp10);
        if (digits.size() <= frac) {
            digits.insert(0, frac - digits.size() + 1, '0');
        }
        out += digits.substr(0, digits.size() - frac) + "." + digits.substr(digits.size() - frac);
    } else {
        out += digits + "e" + std::to_string(exp10);
    }
    if (exp2 != 0 && mantissa != 0) {
        out += "*2^" + std::to_string(exp2);
    }
    return out;
}

Quantity parse_quantity(std::string_view text) {
    const auto fail = [&](const std::string& why) {
        return Error("invalid quantity '" + std::string(text) + "': " + why);
    };
    if (text.empty()) {
        throw fail("empty");
    }
    std::size_t i = 0;
    bool negative = false;
    if (text[i] == '+' || text[i] == '-') {
        negative = text[i] == '-';
        ++i;
    }
    std::string int_digits;
    std::string frac_digits;
    while (i < text.size() && is_digit(text[i])) {
        int_digits.push_back(text[i++]);
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && is_digit(text[i])) {
            frac_digits.push_back(text[i++]);
        }
    }
    if (int_digits.empty() && frac_digits.empty()) {
        throw fail("expected a number (digits with an optional sign and decimal point)");
    }
    const std::string_view suffix = text.substr(i);
    long e10 = 0;
    int e2 = 0;
    if (suffix.empty()) {
        // plain number
    } else if (suffix == "n") {
        e10 = -9;
    } else if (suffix == "u") {
        e10 = -6;
    } else if (suffix == "m") {
        e10 = -3;
    } else if (suffix == "k") {
        e10 = 3;
    } else if (suffix == "M") {
        e10 = 6;
    } else if (suffix == "G") {
        e10 = 9;
    } else if (suffix == "T") {
        e10 = 12;
    } else if (suffix == "P") {
        e10 = 15;
    } else if (suffix == "E") {
        e10 = 18;
    } else if (suffix == "Ki") {
        e2 = 10;
    } else if (suffix == "Mi") {
        e2 = 20;
    } else if (suffix == "Gi") {
        e2 = 30;
    } else if (suffix == "Ti") {
        e2 = 40;
    } else if (suffix == "Pi") {
        e2 = 50;
    } else if (suffix == "Ei") {
        e2 = 60;
    } else if (suffix[0] == 'e' || suffix[0] == 'E') {
        std::size_t k = 1;
        bool exp_negative = false;
        if (k < suffix.size() && (suffix[k] == '+' || suffix[k] == '-')) {
            exp_negative = suffix[k] == '-';
            ++k;
        }
        if (k == suffix.size()) {
            throw fail("exponent '" + std::string(suffix) + "' has no digits");
        }
        long value = 0;
        for (; k < suffix.size(); ++k) {
            if (!is_digit(suffix[k])) {
                throw fail("unknown suffix '" + std::string(suffix) + "'");
            }
            value = value * 10 + (suffix[k] - '0');
            if (value > kMaxExponent) {
                throw fail("exponent out of range");
            }
        }
        e10 = exp_negative ? -value : value;
    } else {
        throw fail("unknown suffix '" + std::string(suffix) +
                   "' (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent)");
    }

    std::string digits = int_digits + frac_digits;
    e10 -= static_cast<long>(frac_digits.size());
    const auto first = digits.find_first_not_of('0');
    Quantity q;
    if (first == std::string::npos) {
        return q;  // zero, whatever the sign and suffix
    }
    digits.erase(0, first);
    const auto last = digits.find_last_not_of('0');
    e10 += static_cast<long>(digits.size() - 1 - last);
    digits.erase(last + 1);
    if (digits.size() > kMaxDigits) {
        throw fail("more than " + std::to_string(kMaxDigits) +
                   " significant digits cannot be represented exactly");
    }
    if (e10 > kMaxExponent || e10 < -kMaxExponent) {
        throw fail("exponent out of range");
    }
    for (char c : digits) {
        q.mantissa = q.mantissa * 10 + static_cast<uint128>(c - '0');
    }
    q.negative = negative;
    q.exp10 = static_cast<int>(e10);
    q.exp2 = e2;
    return q;
}

std::vector<std::uint32_t> quantities_to_weights(const std::vector<Quantity>& quantities,
                                                 const std::string& what) {
    constexpr uint128 kMaxWeight = std::numeric_limits<std::uint32_t>::max();
    std::vector<std::uint32_t> out(quantities.size(), 0);
    bool any = false;
    int emin = 0;
    int bmin = 0;
    bool all_integer = true;
    for (std::size_t i = 0; i < quantities.size(); ++i) {
        const Quantity& q = quantities[i];
        if (q.negative) {
            throw Error(what + "weight [" + std::to_string(i) + "] is negative (" + q.to_string() +
                        ")");
        }
        if (q.is_zero()) {
            continue;
        }
        all_integer = all_integer && q.is_integer();
        emin = any ? std::min(emin, q.exp10) : q.exp10;
        bmin = any ? std::min(bmin, q.exp2) : q.exp2;
        any = true;
    }
    if (!any) {
        return out;
    }

    // Whole numbers that fit are kept as written.
    if (all_integer) {
        std::vector<uint128> values(quantities.size(), 0);
        uint128 sum = 0;
        bool fits = true;
        for (std::size_t i = 0; i < quantities.size() && fits; ++i) {
            const Quantity& q = quantities[i];
            if (q.is_zero()) {
                continue;
            }
            fits = scale_checked(q.mantissa, q.exp10, q.exp2, values[i]) &&
                   values[i] <= kMaxWeight && (sum += values[i]) <= kMaxWeight;
        }
        if (fits) {
            for (std::size_t i = 0; i < values.size(); ++i) {
                out[i] = static_cast<std::uint32_t>(values[i]);
            }
            return out;
        }
    }

    // Otherwise: the smallest integers with exactly the same ratios.
    std::vector<uint128> scaled(quantities.size(), 0);
    uint128 g = 0;
    for (std::size_t i = 0; i < quantities.size(); ++i) {
        const Quantity& q = quantities[i];
        if (q.is_zero()) {
            continue;
        }
        if (!scale_checked(q.mantissa, q.exp10 - emin, q.exp2 - bmin, scaled[i])) {
            throw Error(what +
                        "the weights' exact ratio cannot be expressed in Envoy's 32-bit "
                        "weights (values differ by too many orders of magnitude)");
        }
        g = gcd128(g, scaled[i]);
    }
    if (g == 0) {  // unreachable: some weight is non-zero; keeps the division below safe
        return out;
    }
    uint128 sum = 0;
    for (std::size_t i = 0; i < scaled.size(); ++i) {
        scaled[i] /= g;
        sum += scaled[i];  // each <= 2^128 / n in practice; checked below via per-item bound
        if (scaled[i] > kMaxWeight || sum > kMaxWeight) {
            throw Error(what +
                        "the weights' exact ratio needs integer weights summing to more "
                        "than 4294967295, Envoy's limit");
        }
        out[i] = static_cast<std::uint32_t>(scaled[i]);
    }
    return out;
}

}  // namespace crossover::smi
