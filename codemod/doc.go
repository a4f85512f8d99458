// Package codemod migrates Go code from the legacy notification shapes of
// package bridge to package facade, one compiling step at a time.
//
// It is an engine: [Load] reads and type-checks the packages to migrate,
// [Rewrite] turns them into file edits, [Verify] type-checks the edited
// sources before anything is written, and [Inventory] reports what is left.
// The wsunify command and [Analyzer] are thin front ends over it.
//
// # Recipes
//
// The rules come from a recipe (package recipe): pairs of Go functions, a
// Before whose body is one call of a legacy method, function or type and
// an After, its migrated form. [Options.Recipe] names one; nil runs the
// built-in recipe (package recipe/builtin), the migration from bridge to
// facade. The engine type-checks the recipe again against the program it
// migrates, so that the recipe's types are the program's own, and leaves
// the recipe's legacy packages themselves alone: their adapters call the
// legacy API on purpose. [Rules] lists the rules as they apply.
//
// # Matching
//
// A call is rewritten only when the callee is a legacy method by type
// identity: the method of a legacy interface (called through the interface,
// an interface embedding it, an embedded field or a type parameter
// constrained by it), or the method of a concrete type that implements a
// legacy interface. A method with the same name on an unrelated type is left
// alone. Teams whose own type plays the part of a legacy type of the recipe
// map it with [Options.Shapes], or write a recipe of their own.
//
// # Steps
//
// A call site reaches the facade through bridge.NotifierOf or
// bridge.EmitterOf while its receiver keeps a legacy type. A legacy method
// taken as a value (send := m.SendToUser) becomes a func literal of the
// same type calling the facade; its receiver is evaluated where the value
// is taken, as Go does, unless it is a local variable that nothing assigns
// again (see methodvalue.go). A method expression
// (bridge.WebSocketManager.SendToUser) becomes a func literal too, whose
// first parameter is the receiver. The retype step
// gives a declaration (field, parameter, variable, embedded field) the
// narrowest facade type its uses need (facade.Notifier, *facade.Emitter,
// *facade.Hub, facade.Scope) and rewrites all its uses in the same step;
// when every use of a declaration is a legacy call rewritten in the same
// step, the call goes straight to the facade. A declaration whose uses lie
// outside the selected packages keeps its type, and so does the exported
// API of a library (a module with no main package), which importers the
// step never sees may use ([Options.API] says what to do with it).
// [Migrate] repeats steps
// until none has work left, and each step type-checks on its own (a retype
// that would not is dropped and reported). What cannot be rewritten safely
// is reported as a [Finding] with its position and reason.
//
// # Build configurations
//
// A file of another GOOS or GOARCH, behind a custom tag or in a tagged test
// is checked, counted and rewritten in a configuration that includes it:
// [Load] finds the configurations the files the go command leaves out
// need (or takes [LoadConfig.Configs]), [Migrate] keeps a declaration that
// any configuration keeps and requires a file of two configurations to get
// the same edits. A file no configuration includes is reported, and keeps
// the declarations it names. So does a test file with tests not loaded,
// and a generated file unless [Options.Generated] asks.
//
// # Output
//
// A rewrite is rendered once, from its rule's migrated form (the After
// function of the recipe): the form's own source with each parameter
// replaced by the source of the argument it stands for, each package by
// the file's name for it. Comments on or between the arguments go where
// their argument goes, and the call's line layout is kept. Each outermost
// rewritten node is written in place, so the rest of the file stays byte
// for byte, and the file is gofmt-formatted.
// Only files that change are printed. Imports are fixed from the loaded type
// information, never by loading again: facade is added (under another name
// where a local identifier would shadow it), bridge and any import the edits
// left unused are removed.
package codemod
