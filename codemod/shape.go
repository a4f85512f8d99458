package codemod

import (
	"fmt"
	"go/types"
	"maps"
	"slices"
	"strings"
)

// Shape names a legacy shape: the part a type plays, whatever its name.
// It is the name of the legacy type of the recipe whose part it is.
type Shape string

// The legacy shapes of the built-in recipe.
const (
	ShapeManager Shape = "WebSocketManager"     // bridge.WebSocketManager and its look-alikes
	ShapeAgent   Shape = "AgentWebSocketBridge" // bridge.AgentWebSocketBridge and its look-alikes
)

// checkShapes reports the first -shape of opts that names no legacy
// shape of the recipe, or a type the program does not declare: such a
// flag would otherwise be ignored, and the run would leave the team's
// calls as they are without a word.
func (l *legacy) checkShapes(opts *Options) error {
	if opts == nil || len(opts.Shapes) == 0 || len(l.rules) == 0 {
		// Without rules (the program does not load the recipe's legacy
		// packages) nothing is legacy, a shape neither.
		return nil
	}
	known := map[Shape]bool{}
	for _, r := range l.rules {
		if r.recv != nil {
			known[Shape(r.recv.Name())] = true
		}
	}
	shapes := slices.Sorted(maps.Keys(opts.Shapes))
	for _, s := range shapes {
		if !known[s] {
			var names []string
			for _, k := range slices.Sorted(maps.Keys(known)) {
				names = append(names, string(k))
			}
			return fmt.Errorf("codemod: -shape %s=…: the recipe has no legacy shape %s (it has %s)", s, s, strings.Join(names, ", "))
		}
		for _, q := range opts.Shapes[s] {
			path, name := splitQualified(q)
			pkg := l.lookup(path)
			if pkg == nil {
				return fmt.Errorf("codemod: -shape %s=%s: package %s is not loaded: is it a dependency of the packages named?", s, q, path)
			}
			if _, ok := pkg.Scope().Lookup(name).(*types.TypeName); !ok {
				return fmt.Errorf("codemod: -shape %s=%s: package %s declares no type %s", s, q, path, name)
			}
		}
	}
	return nil
}

// ParseShape parses "WebSocketManager=example.com/app/ws.Manager": the
// user's type ws.Manager plays the part of the recipe's legacy type
// WebSocketManager.
func ParseShape(s string) (Shape, string, error) {
	name, typ, ok := strings.Cut(s, "=")
	shape := Shape(strings.TrimSpace(name))
	if !ok || shape == "" {
		return "", "", fmt.Errorf("codemod: -shape %q: want LegacyType=pkg.Type, as in %s=example.com/app/ws.Manager", s, ShapeManager)
	}
	typ = strings.TrimSpace(typ)
	dot := strings.LastIndex(typ, ".")
	if dot <= 0 || dot == len(typ)-1 || strings.LastIndex(typ, "/") > dot {
		return "", "", fmt.Errorf("codemod: -shape %q: type must be qualified, as in example.com/app/ws.Manager", s)
	}
	return shape, typ, nil
}

func splitQualified(typ string) (path, name string) {
	dot := strings.LastIndex(typ, ".")
	return typ[:dot], typ[dot+1:]
}
