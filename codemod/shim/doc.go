// Package shim keeps an old import path alive after a package moved: it
// turns the old package into deprecated forwarders to the new one, so that
// every importer keeps compiling and "go fix" (the inline analyzer of
// golang.org/x/tools) can move it to the new path. It is the engine of
// "wsunify shim"; [Compute] returns the new file contents and writes
// nothing.
//
// # What a shim is
//
// Every exported name of the old package becomes a forwarder: a type
// alias, a constant, a variable initialized from the new one, or a
// function calling the new one, with a Deprecated paragraph and, where the
// inliner can use it, a //go:fix inline directive. What cannot be
// forwarded, or could only be forwarded with a change of meaning, is a
// [Finding]: a name missing from the new package or different there, a
// variable that code writes through the old path (a forwarder is a copy)
// or that other modules may write (any exported variable but a sentinel
// error, unless the package is a service's that its commands import),
// a variable whose type holds a lock, and initialization with effects the
// new package does not repeat. What the user should know without a
// refusal is a note: variables that become copies, init functions and
// initializers removed because the new package runs the same code, and
// //go:generate directives removed.
//
// # Verification
//
// Both packages must type-check, and so must the result, together with the
// old package's own tests and external tests; otherwise Compute returns an
// error and the shim is not written.
package shim
