// Elementwise ops with numpy-style broadcasting. The operators + - * / and unary - on
// Variables (see framework/variable.h) forward to these.
#pragma once

#include "framework/variable.h"

namespace xgrad {

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

}  // namespace xgrad
