// Package codemod migrates Go code from the legacy notification shapes of
// package bridge to package facade, one compiling step at a time.
//
// It is an engine: [Load] reads and type-checks the packages to migrate,
// [Rewrite] turns them into file edits, [Verify] type-checks the edited
// sources before anything is written, and [Inventory] reports what is left.
// The wsunify command and [Analyzer] are thin front ends over it.
//
// # Matching
//
// A call is rewritten only when the callee is a legacy method by type
// identity: the method of a legacy interface (called through the interface,
// an interface embedding it, an embedded field or a type parameter
// constrained by it), or the method of a concrete type that implements a
// legacy interface. A method with the same name on an unrelated type is left
// alone. Teams whose own type plays the part of a legacy shape map it with
// [Options.Shapes].
//
// # Steps
//
// Call sites are rewritten first, reaching the facade through
// bridge.NotifierOf and bridge.EmitterOf so that declarations keep their
// legacy types. The retype step then gives a declaration whose uses allow it
// the narrowest facade type (facade.Notifier, *facade.Emitter or
// *facade.Hub) and rewrites all its uses in the same step. Every step
// type-checks on its own; what cannot be rewritten safely is reported as a
// [Finding] with its position and reason.
//
// # Output
//
// Files are decorated with github.com/dave/dst, so comments survive,
// including those inside argument lists. Only files that change are printed;
// the rest of the code base is not touched. Imports are fixed from the loaded
// type information: facade is added (under another name when a local
// identifier would shadow it) and bridge is removed once unused.
package codemod
