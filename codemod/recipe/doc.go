// Package recipe reads the rules of a migration written as Go: a recipe.
//
// A recipe is an ordinary Go file that imports the legacy packages and the
// packages they migrate to, and type-checks against them. Its rules are
// pairs, in the style of eg templates:
//
//	// send-to-user: a message to every connection of a user.
//	func sendToUserBefore(m bridge.WebSocketManager, ctx context.Context, userID string, msg bridge.Message) error {
//		return m.SendToUser(ctx, userID, msg)
//	}
//
//	func sendToUserAfter(m bridge.WebSocketManager, ctx context.Context, userID string, msg bridge.Message) error {
//		return bridge.NotifierOf(m).Notify(ctx, facade.ToUser(userID), facade.Raw(msg))
//	}
//
// # Pairs
//
// A pair is two functions xBefore and xAfter with identical signatures,
// parameter names included. Before's doc comment is one line, the rule's
// ID (lower-case words joined by hyphens) and a line for humans:
// `// rule-id: what it does.`. Before's body is one statement, `return
// CALL` or `CALL`, where CALL is
//
//   - a call of a method on the first parameter, of a type of an imported
//     package (a Method rule: it matches, by type identity, the calls of
//     that method on every type that is, embeds or implements the
//     parameter's type), or
//   - a call of a function of an imported package (a Func rule),
//
// whose receiver and arguments are the parameters, each once, in the order
// of the signature. After's body is one statement of the same form, the
// migrated form: it may use the imported packages and each parameter once.
// A parameter named by `//wsunify:pure NAME...` on Before may be used any
// number of times, or not at all; the rule then applies only where its
// argument can be evaluated any number of times without effect.
//
// A pair of type aliases is a Type rule: every use of the legacy type name
// becomes the After type, which must be identical to it:
//
//	// message-type: bridge.Message is the map[string]any it aliases.
//	type messageTypeBefore = bridge.Message
//	type messageTypeAfter = map[string]any
//
// # The retype step
//
// `//wsunify:retype` on Before puts a pair in the second step, which runs
// on what the first one left. A retype pair whose results differ at one
// place is a Retype rule: a declaration of the legacy type (Before's
// result) gets the target type (After's result); Before's body says how
// the value is built (a legacy call, or just `return x` for any value of
// the type) and After's how the target value is obtained from the same
// parameters. A retype pair with identical results is a call rule of the
// second step; its method call's receiver may be built by a legacy
// function from the first parameters, as in
// `return bridge.NewWebSocketManager(h).IsConnectionActive(userID)` (see
// [Rule.Via]; the built-in recipe asks bridge.PresenceOf(m) in the first
// step instead). Pairs of the retype step may share one ID.
//
// # Refusals
//
// [Parse] refuses a recipe that does not parse or type-check, a Before
// without its After or the reverse, signatures that differ, a body of
// another form, parameters used otherwise than above, a missing or
// ill-formed ID comment, a duplicate ID, and declarations that are not
// pairs. It reports every problem with its position, in an [ErrorList].
package recipe
