// Elementwise ops with numpy-style broadcasting. The operators + - * / and unary - on
// Variables (see framework/variable.h) forward to add, sub, mul, div and neg. Binary ops
// take their second operand as std::type_identity_t so a plain number converts to a
// Variable there (`maximum(x, 0.0f)`); for the first operand, use the operators.
#pragma once

#include <type_traits>

#include "framework/variable.h"

namespace xgrad {

template <class T>
using Same = std::type_identity_t<T>;

template <class T>
VariableOf<T> add(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> sub(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> mul(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> div(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> neg(const VariableOf<T>& a);

// x ** exponent for a constant exponent, and elementwise x ** y for a tensor exponent.
// The exponent's gradient is 0 where x == 0 (the limit of x^y log x) and NaN where x < 0.
template <class T>
VariableOf<T> pow(const VariableOf<T>& x, double exponent);
template <class T>
VariableOf<T> pow(const VariableOf<T>& x, const Same<VariableOf<T>>& exponent);

template <class T>
VariableOf<T> exp(const VariableOf<T>& x);
template <class T>
VariableOf<T> log(const VariableOf<T>& x);
template <class T>
VariableOf<T> sqrt(const VariableOf<T>& x);
// The gradient at 0 is 0.
template <class T>
VariableOf<T> abs(const VariableOf<T>& x);
// Sine and cosine (position encodings); each is the other's derivative.
template <class T>
VariableOf<T> sin(const VariableOf<T>& x);
template <class T>
VariableOf<T> cos(const VariableOf<T>& x);
// The error function (exact gelu is built on it).
template <class T>
VariableOf<T> erf(const VariableOf<T>& x);

// Limits x to [lo, hi]; the gradient flows where lo <= x <= hi (bounds included).
// lo > hi is a std::invalid_argument.
template <class T>
VariableOf<T> clamp(const VariableOf<T>& x, double lo, double hi);

// Elementwise; where a == b the gradient is split 0.5 / 0.5 between a and b.
template <class T>
VariableOf<T> minimum(const VariableOf<T>& a, const Same<VariableOf<T>>& b);
template <class T>
VariableOf<T> maximum(const VariableOf<T>& a, const Same<VariableOf<T>>& b);

// a where mask is true, b elsewhere; the three shapes broadcast together.
template <class T>
VariableOf<T> where(const Mask& mask, const VariableOf<T>& a, const Same<VariableOf<T>>& b);

// x with `value` where mask is true (torch.masked_fill); the mask broadcasts to x's shape
// (a mask that would enlarge x is a ShapeError naming masked_fill and both shapes). The
// gradient flows where the mask is false.
template <class T>
VariableOf<T> masked_fill(const VariableOf<T>& x, const Mask& mask, double value);

namespace detail {
template <class V>
struct is_variable : std::false_type {};
template <class T>
struct is_variable<VariableOf<T>> : std::true_type {};
}  // namespace detail

template <class V>
concept AnyVariable = detail::is_variable<std::remove_cvref_t<V>>::value;

// An unqualified where(mask, a, b) also finds xt::where through the Mask's namespace, and
// xt::where takes forwarding references, which beat `const&` for non-const arguments: the call
// would silently build an xtensor expression of Variables. This overload has the same form and,
// being constrained, is preferred; it accepts any boolean expression as the mask and a plain
// number for one of a, b, and forwards to the overload above.
template <class M, class A, class B>
requires(AnyVariable<A> || AnyVariable<B>) auto where(M&& mask, A&& a, B&& b) {
    using V = std::remove_cvref_t<std::conditional_t<AnyVariable<A>, A, B>>;
    using T = typename V::value_type;
    const V va(a), vb(b);
    if constexpr (std::is_same_v<std::remove_cvref_t<M>, Mask>) {
        return xgrad::where<T>(mask, va, vb);
    } else {
        return xgrad::where<T>(Mask(std::forward<M>(mask)), va, vb);
    }
}

}  // namespace xgrad
