package gosrc

import (
	"go/types"
	"strings"
)

// Signature writes the parameters and results of sig as they follow a
// function's name or the keyword func: "(a int, b ...string) (n int, err
// error)". params and results are the names to give (nil: none), typ
// writes a type. A variadic parameter is written ...T.
func Signature(sig *types.Signature, params, results []string, typ func(types.Type) string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range sig.Params().Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		if params != nil {
			b.WriteString(params[i] + " ")
		}
		b.WriteString(ParamType(sig, i, typ))
	}
	b.WriteByte(')')
	n := sig.Results().Len()
	if n == 0 {
		return b.String()
	}
	b.WriteByte(' ')
	if n > 1 || results != nil {
		b.WriteByte('(')
	}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if results != nil {
			b.WriteString(results[i] + " ")
		}
		b.WriteString(typ(sig.Results().At(i).Type()))
	}
	if n > 1 || results != nil {
		b.WriteByte(')')
	}
	return b.String()
}

// ParamType writes the type of sig's parameter i, ...T for a variadic one.
func ParamType(sig *types.Signature, i int, typ func(types.Type) string) string {
	t := sig.Params().At(i).Type()
	if sig.Variadic() && i == sig.Params().Len()-1 {
		if s, ok := t.(*types.Slice); ok {
			return "..." + typ(s.Elem())
		}
	}
	return typ(t)
}
